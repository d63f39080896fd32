package notion

import (
	"context"
	"strings"
	"testing"

	"github.com/pokor/pokor/session"
)

func TestWriteEstimate(t *testing.T) {
	tests := []struct {
		name      string
		key       string
		est       session.WriteBack
		wantBody  string // PATCH body; "" when no update may be sent
		wantProp  string
		wantValue any
		wantDet   string
	}{
		{name: "number property", key: page2ID, est: session.WriteBack{Value: "8"},
			wantBody: `{"properties":{"Story points":{"number":8}}}`,
			wantProp: "Story points", wantValue: 8.0, wantDet: "Story points: 8"},
		{name: "half a point", key: page2ID, est: session.WriteBack{Value: "½"},
			wantBody: `{"properties":{"Story points":{"number":0.5}}}`,
			wantProp: "Story points", wantValue: 0.5, wantDet: "Story points: 0.5"},
		{name: "zero is a number like any other", key: page2ID, est: session.WriteBack{Value: "0"},
			wantBody: `{"properties":{"Story points":{"number":0}}}`,
			wantProp: "Story points", wantValue: 0.0, wantDet: "Story points: 0"},
		{name: "key as url", key: "https://www.notion.so/Export-CSV-a1b2c3d4000240008000000000000002", est: session.WriteBack{Value: "3"},
			wantBody: `{"properties":{"Story points":{"number":3}}}`,
			wantProp: "Story points", wantValue: 3.0, wantDet: "Story points: 3"},
		{name: "same value again sends nothing", key: page1ID, est: session.WriteBack{Value: "5"},
			wantProp: "Story points", wantValue: 5.0, wantDet: "Story points: 5 (already set)"},
		{name: "select option matching the card", key: sizePage, est: session.WriteBack{Value: "m", Deck: []string{"XS", "S", "M", "L", "XL"}},
			wantBody: `{"properties":{"Size":{"select":{"name":"M"}}}}`,
			wantProp: "Size", wantValue: "M", wantDet: "Size: M"},
		{name: "organizer's property", key: page2ID, est: session.WriteBack{Value: "2", Options: map[string]string{"property": "Priority"}},
			wantBody: `{"properties":{"Priority":{"number":2}}}`,
			wantProp: "Priority", wantValue: 2.0, wantDet: "Priority: 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.standard()
			c := newClient(t, f)
			res, err := c.WriteEstimate(context.Background(), tt.key, tt.est)
			if err != nil {
				t.Fatalf("WriteEstimate: %v", err)
			}
			if res.Detail != tt.wantDet {
				t.Errorf("detail = %q, want %q", res.Detail, tt.wantDet)
			}
			id, _ := parseID(tt.key)
			patches := f.calls("PATCH", "/v1/pages/"+id)
			switch {
			case tt.wantBody == "" && len(patches) != 0:
				t.Fatalf("sent %d updates, want none", len(patches))
			case tt.wantBody != "":
				if len(patches) != 1 {
					t.Fatalf("sent %d updates, want 1", len(patches))
				}
				assertJSON(t, patches[0].body, tt.wantBody)
			}
			if got := f.value(id, tt.wantProp); got != tt.wantValue {
				t.Fatalf("%s = %v, want %v", tt.wantProp, got, tt.wantValue)
			}

			// The outbox may deliver twice: the second write leaves the page as it is.
			again, err := c.WriteEstimate(context.Background(), tt.key, tt.est)
			if err != nil || f.value(id, tt.wantProp) != tt.wantValue {
				t.Fatalf("second write: %v, %s = %v", err, tt.wantProp, f.value(id, tt.wantProp))
			}
			if !strings.HasSuffix(again.Detail, "(already set)") {
				t.Errorf("second write detail = %q, want it to say already set", again.Detail)
			}
		})
	}
}

func TestWriteEstimateRefused(t *testing.T) {
	tests := []struct {
		name    string
		key     string
		est     session.WriteBack
		kind    session.Code
		wantMsg []string
	}{
		{name: "card without select option", key: sizePage, est: session.WriteBack{Value: "13"},
			kind: session.CodeInvalid, wantMsg: []string{`card "13"`, `"Size"`, "XS, S, M, L, XL", `add an option named "13"`}},
		{name: "non-numeric card on number", key: page2ID, est: session.WriteBack{Value: "?"},
			kind: session.CodeInvalid, wantMsg: []string{`card "?" is not a number`, `"Story points" is a Number property`}},
		{name: "no estimate property", key: plainPage, est: session.WriteBack{Value: "5"},
			kind: session.CodeInvalid, wantMsg: []string{`database "Ideas" has no estimate property`, `add a Number property named "Estimate"`, "shared"}},
		{name: "override of missing property", key: page2ID, est: session.WriteBack{Value: "5", Options: map[string]string{"property": "Effort"}},
			kind: session.CodeInvalid, wantMsg: []string{`no property "Effort"`, "Priority, Sprint, Story points"}},
		{name: "page not shared", key: hiddenPg, est: session.WriteBack{Value: "5"},
			kind: session.CodeNotFound, wantMsg: []string{hiddenPg, "not shared with the integration", `add "Pokor"`}},
		{name: "page in trash", key: trashPage, est: session.WriteBack{Value: "5"},
			kind: session.CodeNotFound, wantMsg: []string{"in the trash"}},
		{name: "not an id", key: "Login with SSO", est: session.WriteBack{Value: "5"},
			kind: session.CodeInvalid, wantMsg: []string{"not a Notion page ID"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.standard()
			c := newClient(t, f)
			_, err := c.WriteEstimate(context.Background(), tt.key, tt.est)
			e := wantKind(t, err, tt.kind)
			for _, m := range tt.wantMsg {
				if !strings.Contains(e.Message, m) {
					t.Errorf("message %q does not contain %q", e.Message, m)
				}
			}
			if retry, _ := session.Retryable(err); retry {
				t.Errorf("Retryable(%v) = true, want false", err)
			}
			if n := len(f.calls("PATCH", "")); n != 0 {
				t.Fatalf("sent %d updates, want none", n)
			}
		})
	}
}
