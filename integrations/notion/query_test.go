package notion

import (
	"reflect"
	"strings"
	"testing"

	"github.com/pokor/pokor/session"
)

func TestParseQuery(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    query
		wantErr string
	}{
		{name: "bare id", in: "8f2a0c7d1b3e4f5a9c6d7e8f9a0b1c2d",
			want: query{database: "8f2a0c7d1b3e4f5a9c6d7e8f9a0b1c2d"}},
		{name: "url with condition", in: "https://www.notion.so/acme/Backlog-8f2a0c7d1b3e4f5a9c6d7e8f9a0b1c2d?v=1234 [Status=Ready]",
			want: query{database: "https://www.notion.so/acme/Backlog-8f2a0c7d1b3e4f5a9c6d7e8f9a0b1c2d?v=1234",
				conditions: []condition{{property: "Status", value: "Ready"}}}},
		{name: "title with quoted value and colon", in: `Sprint Backlog [Sprint:"Sprint 42"]`,
			want: query{database: "Sprint Backlog", conditions: []condition{{property: "Sprint", value: "Sprint 42"}}}},
		{name: "several conditions with spaces", in: `  Backlog [ Status = Ready ]  [Team:Web] `,
			want: query{database: "Backlog", conditions: []condition{{property: "Status", value: "Ready"}, {property: "Team", value: "Web"}}}},
		{name: "quoted title with bracket", in: `"Backlog [old]" [Status=Ready]`,
			want: query{database: "Backlog [old]", conditions: []condition{{property: "Status", value: "Ready"}}}},
		{name: "quoted property and escapes", in: `Backlog ["Team: A"="say \"hi\" \\ ]"]`,
			want: query{database: "Backlog", conditions: []condition{{property: "Team: A", value: `say "hi" \ ]`}}}},
		{name: "empty", in: "  ", wantErr: "name a database"},
		{name: "condition only", in: "[Status=Ready]", wantErr: "name a database"},
		{name: "missing operator", in: "Backlog [Status]", wantErr: "expected = or :"},
		{name: "missing value", in: "Backlog [Status=]", wantErr: "needs a value"},
		{name: "missing property", in: "Backlog [=Ready]", wantErr: "needs a property name"},
		{name: "unclosed bracket", in: "Backlog [Status=Ready", wantErr: "missing ]"},
		{name: "unclosed quote", in: `Backlog [Sprint="42]`, wantErr: "closing"},
		{name: "text after conditions", in: "Backlog [Status=Ready] extra", wantErr: "expected [Property=Value]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseQuery(tt.in)
			if tt.wantErr != "" {
				e := wantKind(t, err, session.CodeInvalid)
				if !strings.Contains(e.Message, tt.wantErr) || !strings.Contains(e.Message, QuerySyntax) {
					t.Fatalf("error %q, want it to contain %q and the syntax", e.Message, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseQuery(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("parseQuery(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseID(t *testing.T) {
	const want = "8f2a0c7d-1b3e-4f5a-9c6d-7e8f9a0b1c2d"
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"compact", "8f2a0c7d1b3e4f5a9c6d7e8f9a0b1c2d", true},
		{"dashed", want, true},
		{"upper case", "8F2A0C7D1B3E4F5A9C6D7E8F9A0B1C2D", true},
		{"url with title and view", "https://www.notion.so/acme/Sprint-Backlog-8f2a0c7d1b3e4f5a9c6d7e8f9a0b1c2d?v=0123456789abcdef0123456789abcdef", true},
		{"url without workspace", "https://www.notion.so/8f2a0c7d1b3e4f5a9c6d7e8f9a0b1c2d?v=0123456789abcdef0123456789abcdef&pvs=4", true},
		{"url without scheme", "www.notion.so/acme/Backlog-8f2a0c7d1b3e4f5a9c6d7e8f9a0b1c2d", true},
		{"url with dashed id", "https://acme.notion.site/" + want, true},
		{"title", "Sprint Backlog", false},
		{"too short", "8f2a0c7d1b3e4f5a9c6d7e8f9a0b1c2", false},
		{"not hex", "8f2a0c7d1b3e4f5a9c6d7e8f9a0b1c2z", false},
		{"misplaced dashes", "8f2a0c7d1-b3e-4f5a-9c6d-7e8f9a0b1c2d", false},
		{"url with only a view id", "https://www.notion.so/acme/Backlog?v=0123456789abcdef0123456789abcdef", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseID(tt.in)
			if ok != tt.ok || (ok && got != want) {
				t.Fatalf("parseID(%q) = %q, %v; want %q, %v", tt.in, got, ok, want, tt.ok)
			}
		})
	}
}

// wantKind asserts that err is an *session.Error of kind from this provider that does
// not leak the token, and returns it.
func wantKind(t *testing.T, err error, kind session.Code) *session.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", kind)
	}
	e, ok := err.(*session.Error)
	if !ok {
		t.Fatalf("got %T %v, want *session.Error", err, err)
	}
	if e.Code != kind {
		t.Fatalf("got code %s (%v), want %s", e.Code, e, kind)
	}
	if !strings.HasPrefix(e.Error(), "notion: ") {
		t.Fatalf("error %q is not prefixed with notion:", e.Error())
	}
	if strings.Contains(e.Error(), testToken) {
		t.Fatalf("error %q contains the token", e.Error())
	}
	return e
}
