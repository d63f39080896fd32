package notion

import (
	"strings"
	"testing"

	"github.com/pokor/pokor/session"
)

// testSchema builds a schema from name → type, with select options for select properties.
func testSchema(t *testing.T, props map[string]string) schema {
	t.Helper()
	configs := map[string]propertyConfig{}
	for name, typ := range props {
		id := "id-" + name
		switch typ {
		case typeTitle, typeRichText, typeNumber, "date":
			configs[name] = propertyConfig{ID: id, Name: name, Type: typ}
		case typeSelect:
			configs[name] = propertyConfig{ID: id, Name: name, Type: typeSelect,
				Select: &optionList{Options: []option{{Name: "S"}, {Name: "M"}, {Name: "L"}}}}
		default:
			t.Fatalf("testSchema: unsupported type %s", typ)
		}
	}
	return newSchema(&database{ID: "db", Title: []richText{{PlainText: "Backlog"}}, Properties: configs})
}

func TestEstimateDecision(t *testing.T) {
	tests := []struct {
		name     string
		props    map[string]string
		override string
		want     string // chosen property
		wantType string
		wantKind session.Code
		wantMsg  []string
	}{
		{name: "number named Estimate", props: map[string]string{"Name": "title", "Estimate": "number", "Votes": "number"},
			want: "Estimate", wantType: "number"},
		{name: "story points over points", props: map[string]string{"Name": "title", "Points": "number", "Story Points": "number"},
			want: "Story Points", wantType: "number"},
		{name: "number beats select", props: map[string]string{"Name": "title", "Estimate": "select", "Effort": "number"},
			want: "Effort", wantType: "number"},
		{name: "exact beats contains", props: map[string]string{"Name": "title", "Estimate (days)": "number", "Size": "number"},
			want: "Size", wantType: "number"},
		{name: "contains when nothing exact", props: map[string]string{"Name": "title", "Dev estimate": "number"},
			want: "Dev estimate", wantType: "number"},
		{name: "select when no number", props: map[string]string{"Name": "title", "T-shirt size": "select", "Votes": "number"},
			want: "T-shirt size", wantType: "select"},
		{name: "tie asks for a choice", props: map[string]string{"Name": "title", "Estimate (dev)": "number", "Estimate (QA)": "number"},
			wantKind: session.CodeConflict, wantMsg: []string{"Estimate (QA), Estimate (dev)", `"property" option`}},
		{name: "none", props: map[string]string{"Name": "title", "Votes": "number", "Due": "date"},
			wantKind: session.CodeInvalid, wantMsg: []string{`add a Number property named "Estimate"`, "shared", "(Votes)"}},
		{name: "override by name", props: map[string]string{"Name": "title", "Estimate": "number", "Votes": "number"},
			override: "votes", want: "Votes", wantType: "number"},
		{name: "override by id", props: map[string]string{"Name": "title", "Estimate": "number", "Votes": "number"},
			override: "id-Votes", want: "Votes", wantType: "number"},
		{name: "override missing", props: map[string]string{"Name": "title", "Estimate": "number"},
			override: "Points", wantKind: session.CodeInvalid, wantMsg: []string{`no property "Points"`, "Estimate"}},
		{name: "override of wrong type", props: map[string]string{"Name": "title", "Estimate": "number", "Due": "date"},
			override: "Due", wantKind: session.CodeInvalid, wantMsg: []string{"date property", "Number or Select"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := testSchema(t, tt.props).estimate(tt.override)
			if tt.wantKind != "" {
				e := wantKind(t, err, tt.wantKind)
				for _, m := range tt.wantMsg {
					if !strings.Contains(e.Message, m) {
						t.Errorf("message %q does not contain %q", e.Message, m)
					}
				}
				if tt.wantKind == session.CodeConflict && len(e.Choices) < 2 {
					t.Errorf("choices = %v, want the candidates", e.Choices)
				}
				return
			}
			if err != nil {
				t.Fatalf("estimate: %v", err)
			}
			if got.Property != tt.want || got.Type != tt.wantType || got.Reason == "" {
				t.Fatalf("estimate = %+v, want %s (%s) with a reason", got, tt.want, tt.wantType)
			}
			if got.Type == typeSelect && strings.Join(got.Options, ",") != "S,M,L" {
				t.Errorf("options = %v, want S,M,L", got.Options)
			}
		})
	}
}

func TestDescriptionProperty(t *testing.T) {
	tests := []struct {
		name  string
		props map[string]string
		want  string
	}{
		{"description", map[string]string{"Name": "title", "Description": "rich_text", "Notes": "rich_text"}, "Description"},
		{"notes over summary", map[string]string{"Name": "title", "Summary": "rich_text", "Notes": "rich_text"}, "Notes"},
		{"contains", map[string]string{"Name": "title", "Description (EN)": "rich_text"}, "Description (EN)"},
		{"text that is not a description", map[string]string{"Name": "title", "Owner email": "rich_text"}, ""},
		{"only rich text counts", map[string]string{"Name": "title", "Description": "number"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testSchema(t, tt.props)
			if s.description != tt.want || s.title != "Name" {
				t.Fatalf("description %q title %q, want %q and Name", s.description, s.title, tt.want)
			}
		})
	}
}

func TestMatchOption(t *testing.T) {
	options := []string{"XS", "M", "0.5", "8", "Large"}
	tests := []struct {
		card, want string
		ok         bool
	}{
		{"M", "M", true},
		{"m", "M", true},
		{" large ", "Large", true},
		{"½", "0.5", true},
		{"8.0", "8", true},
		{"13", "", false},
		{"?", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.card, func(t *testing.T) {
			got, ok := matchOption(options, tt.card)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("matchOption(%q) = %q, %v; want %q, %v", tt.card, got, ok, tt.want, tt.ok)
			}
		})
	}
}
