package notion

import (
	"testing"
	"time"
)

func TestOutcome(t *testing.T) {
	f := newFake(t)
	const db = "f1b2c3d4-0000-4000-8000-00000000000f"
	f.addDB(&fakeDB{id: db, title: "Tasks", shared: true, props: []fakeProp{
		{name: "Name", id: "title", typ: "title"},
		{name: "Status", id: "st", typ: "status", options: []string{"Not started", "In progress", "Done"}},
		{name: "Work", id: "wk", typ: "date"},
		{name: "Due", id: "du", typ: "date"},
	}})
	ranged := f.addPage(&fakePage{id: "f1b2c3d4-0001-4000-8000-000000000001", db: db,
		values: map[string]any{"Name": "Export", "Status": "Done", "Work": []string{"2024-04-01T09:00:00.000Z", "2024-04-03T17:00:00.000Z"}, "Due": []string{"2024-04-10"}}})
	plain := f.addPage(&fakePage{id: "f1b2c3d4-0002-4000-8000-000000000002", db: db,
		values: map[string]any{"Name": "Import", "Status": "Done", "Due": []string{"2024-04-10"}}})
	open := f.addPage(&fakePage{id: "f1b2c3d4-0003-4000-8000-000000000003", db: db,
		values: map[string]any{"Name": "Later", "Status": "In progress"}})
	c := newClient(t, f)
	ctx := t.Context()

	// A date range: from its start to its end, 56 hours.
	rep, err := c.Outcome(ctx, ranged.id, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Done || !rep.Counted || rep.StartedAt == nil || rep.DoneAt.Sub(*rep.StartedAt).Hours() != 56 || rep.Detail != "Done; Work 2024-04-01 → 2024-04-03" {
		t.Errorf("ranged = %+v", rep)
	}
	// Done without a range or a done date ("Due" is not one): the last edit, from creation.
	rep, err = c.Outcome(ctx, plain.id, nil)
	edited, _ := time.Parse(time.RFC3339, timestamp)
	if err != nil || !rep.Done || rep.StartedAt != nil || !rep.DoneAt.Equal(edited) || !rep.CreatedAt.Equal(edited) {
		t.Errorf("plain = %+v, %v", rep, err)
	}
	if rep, err := c.Outcome(ctx, open.id, nil); err != nil || rep.Done {
		t.Errorf("in progress = %+v, %v; want not done", rep, err)
	}
	if _, err := c.Outcome(ctx, "not-an-id", nil); err == nil {
		t.Error("a bad key was accepted")
	}
}
