package csv

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/pokor/pokor/session"
)

// mustParse parses in and fails the test on error.
func mustParse(t *testing.T, in string) []session.ExternalStory {
	t.Helper()
	items, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return items
}

func TestRoundTrip(t *testing.T) {
	stories := []ExportStory{
		{
			Key: "acme/api#42", Title: "Login fails, sometimes", Description: "Steps:\n1. open \"login\"\n2. wait; retry",
			URL: "https://github.com/acme/api/issues/42", Estimate: "5", Status: "estimated", SyncState: "done",
			Rounds: []ExportRound{
				{Number: 1, Revealed: true, Votes: []ExportVote{{Participant: "Ann", Card: "3"}, {Participant: "Bob", Card: "13"}}},
				{Number: 2, Revealed: true, Votes: []ExportVote{
					{Participant: "Ann", Card: "5", Confidence: "high"},
					{Participant: "Bob", Card: "8", Confidence: "low", Rationale: "unclear\nAPI"},
					{Participant: "Cy", Card: ""},
				}},
			},
		},
		{Title: "=HYPERLINK(\"http://evil.example\")", Description: "- first\n- second", Estimate: "-1", Status: "pending"},
		{Key: "API-7", Title: "'=already guarded", Description: "@mention", URL: "https://jira.example.com/browse/API-7",
			Estimate: "M", Status: "estimated", SyncState: "failed", SyncError: "+jira: field is not on the edit screen",
			Rounds: []ExportRound{{Number: 1, Revealed: false, Votes: []ExportVote{{Participant: "Ann", Card: "5"}}}}},
		{Key: "Ünïcode-1", Title: "Café ☕ tab\tinside", Estimate: "½"},
	}
	var buf bytes.Buffer
	if err := Write(&buf, stories); err != nil {
		t.Fatal(err)
	}
	out := buf.String()

	wantFirst := "key,title,description,url,estimate,status,rounds,votes,sync_state,sync_error\n" +
		"acme/api#42,\"Login fails, sometimes\",\"Steps:\n1. open \"\"login\"\"\n2. wait; retry\",https://github.com/acme/api/issues/42,5,estimated,2," +
		"\"Ann=5 (high); Bob=8 (low, \"\"unclear API\"\")\",done,\n"
	if !strings.HasPrefix(out, wantFirst) {
		t.Errorf("export starts\n%s\nwant\n%s", out, wantFirst)
	}
	for _, guarded := range []string{
		`"'=HYPERLINK(""http://evil.example"")"`, "\"'- first\n- second\"", ",'-1,", `''=already guarded`, ",'@mention,",
		",'+jira: field is not on the edit screen\n",
	} {
		if !strings.Contains(out, guarded) {
			t.Errorf("export lacks guarded cell %q:\n%s", guarded, out)
		}
	}
	if strings.Contains(out, "Ann=5\n") || strings.Contains(out, ",1,Ann=5,") {
		t.Errorf("votes of an unrevealed round were exported:\n%s", out)
	}

	items := mustParse(t, out)
	if len(items) != len(stories) {
		t.Fatalf("parsed %d items, want %d", len(items), len(stories))
	}
	for i, s := range stories {
		want := session.ExternalStory{Key: s.Key, Title: s.Title, Description: s.Description, URL: s.URL, Estimate: s.Estimate}
		if !reflect.DeepEqual(items[i], want) {
			t.Errorf("item %d =\n%#v\nwant\n%#v", i, items[i], want)
		}
	}
}

func TestVoteSummary(t *testing.T) {
	tests := []struct {
		name   string
		rounds []ExportRound
		want   string
	}{
		{"no rounds", nil, ""},
		{"only a round still voting", []ExportRound{{Number: 1, Votes: []ExportVote{{Participant: "Ann", Card: "5"}}}}, ""},
		{"last revealed round", []ExportRound{
			{Number: 1, Revealed: true, Votes: []ExportVote{{Participant: "Ann", Card: "2"}}},
			{Number: 2, Revealed: true, Votes: []ExportVote{{Participant: "Ann", Card: "5", Confidence: "high"}, {Participant: "Bob", Card: "8"}}},
			{Number: 3, Votes: []ExportVote{{Participant: "Ann", Card: "13"}}},
		}, "Ann=5 (high); Bob=8"},
		{"anonymous", []ExportRound{{Number: 1, Revealed: true, Votes: []ExportVote{{Card: "3"}, {Card: "?", Rationale: "no spec"}}}}, `3; ? ("no spec")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := VoteSummary(tt.rounds); got != tt.want {
				t.Errorf("VoteSummary = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseMalformed(t *testing.T) {
	tooMany := "title\n" + strings.Repeat("story\n", MaxRows+1)
	tests := []struct {
		name, in, msg string
	}{
		{"empty file", "", "csv: the file is empty; its first line must name the columns, for example: title,description,url,key,estimate"},
		{"only blank lines and a BOM", "\uFEFF\n\n  \n", "csv: the file is empty; its first line must name the columns, for example: title,description,url,key,estimate"},
		{"no header", "Fix login,5\nAdd logout,3\n", "csv: no title column; found columns: Fix login, 5 (name one of: title, summary, name)"},
		{"no title column", "a,b,c\n1,2,3\n", "csv: no title column; found columns: a, b, c (name one of: title, summary, name)"},
		{"header only", "title,estimate\n", "csv: the file has a header line but no stories below it"},
		{"empty title on line 3", "title,estimate\nFirst,3\n  ,5\n", `csv: line 3: the title is empty (column "title")`},
		{"empty title after a multiline cell", "Summary,Description\nA,\"one\ntwo\"\n,x\n", `csv: line 4: the title is empty (column "Summary")`},
		{"unbalanced quote", "title,description\nA,\"never closed\nB,b\n", "csv: line 2: a quoted field is never closed; add the missing \""},
		{"text after closing quote", "title,description\nA,\"quoted\"tail\n", "csv: line 2: text follows the closing \" of a quoted field; a \" inside a quoted field must be doubled (\"\")"},
		{"bare quote", "title,description\nA 5\" screen,x\n", "csv: line 2: a \" appears inside a field that is not quoted; quote the whole field and double the \" inside it"},
		{"too many rows", tooMany, "csv: line 5002: the file has more than 5000 stories; import at most 5000 at a time"},
		{"not UTF-8", "title\nok\ncaf\xe9\n", `csv: line 3 is not UTF-8 text; save the file as "CSV UTF-8"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items, err := Parse(strings.NewReader(tt.in))
			if err == nil {
				t.Fatalf("Parse = %v, want an error", items)
			}
			var ie *session.Error
			if !errors.As(err, &ie) || !strings.HasPrefix(ie.Message, "csv: ") || ie.Code != session.CodeInvalid {
				t.Errorf("error %#v is not a csv invalid *session.Error", err)
			}
			if err.Error() != tt.msg {
				t.Errorf("error =\n%s\nwant\n%s", err, tt.msg)
			}
		})
	}
}

func TestParseTooLarge(t *testing.T) {
	big := "title,description\nA," + strings.Repeat("x", MaxBytes) + "\n"
	_, err := Parse(strings.NewReader(big))
	if err == nil || err.Error() != "csv: the file is larger than 10 MiB; split it into smaller files" {
		t.Errorf("error = %v", err)
	}
}

func TestParseFormats(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []session.ExternalStory
	}{
		{
			name: "UTF-8 BOM and CRLF",
			in:   "\uFEFFTitle,Estimate\r\nLogin,3\r\nLogout,\r\n",
			want: []session.ExternalStory{{Title: "Login", Estimate: "3"}, {Title: "Logout"}},
		},
		{
			name: "semicolon delimiter from a European spreadsheet",
			in:   "Name;Points;Link\n\"Export, then import\";0,5;https://x.example/1\nSearch;8;\n",
			want: []session.ExternalStory{
				{Title: "Export, then import", Estimate: "0,5", URL: "https://x.example/1"},
				{Title: "Search", Estimate: "8"},
			},
		},
		{
			name: "tab delimiter",
			in:   "key\ttitle\tstory points\nAPI-1\tLogin, again\t5\n",
			want: []session.ExternalStory{{Key: "API-1", Title: "Login, again", Estimate: "5"}},
		},
		{
			name: "multiline quoted description, blank lines skipped, columns in any order",
			in: "description,ESTIMATE,title,url\n" +
				"\"First line\n\nthird line, with a comma\",5,Login,https://x.example/1\n" +
				"\n" +
				",,,\n" +
				"\"He said \"\"hi\"\"\",,Greeting\n",
			want: []session.ExternalStory{
				{Title: "Login", Description: "First line\n\nthird line, with a comma", Estimate: "5", URL: "https://x.example/1"},
				{Title: "Greeting", Description: `He said "hi"`},
			},
		},
		{
			name: "a single column",
			in:   "Title\nOne\nTwo\n",
			want: []session.ExternalStory{{Title: "One"}, {Title: "Two"}},
		},
		{
			name: "title column preferred over name, body used when description is missing",
			in:   "Name,Title,Body,Id\nignored,Real title,text,7\n",
			want: []session.ExternalStory{{Title: "Real title", Description: "text", Key: "7"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustParse(t, tt.in)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("items =\n%#v\nwant\n%#v", got, tt.want)
			}
		})
	}
}

// jiraExport is shaped like Jira Cloud's "Export Excel CSV (all fields)": a BOM-less comma file
// whose header repeats names such as Sprint, Labels and Comment.
const jiraExport = `Summary,Issue key,Issue id,Issue Type,Status,Project key,Priority,Assignee,Reporter,Created,Labels,Labels,Description,Sprint,Sprint,Custom field (Story Points),Custom field (Story point estimate),Comment,Comment
Checkout times out,API-12,10012,Story,To Do,API,Medium,Jane Doe,John Roe,01/Mar/24 9:15 AM,backend,payments,"When the cart has more than 50 items, checkout times out.

h3. Steps
# add 51 items
# pay",Sprint 41,Sprint 42,5,,01/Mar/24 10:00 AM;jdoe;Seen it too,
Add dark mode,API-13,10013,Task,In Progress,API,Low,,John Roe,02/Mar/24 9:15 AM,ui,,,Sprint 42,,,3,,
`

func TestParseJiraExport(t *testing.T) {
	got := mustParse(t, jiraExport)
	want := []session.ExternalStory{
		{
			Key: "API-12", Title: "Checkout times out", Type: "Story", Estimate: "5",
			Description: "When the cart has more than 50 items, checkout times out.\n\nh3. Steps\n# add 51 items\n# pay",
		},
		// Team-managed projects fill "Story point estimate" instead of "Story Points".
		{Key: "API-13", Title: "Add dark mode", Type: "Task", Estimate: "3"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("items =\n%#v\nwant\n%#v", got, want)
	}
}

func TestParseUTF16(t *testing.T) {
	text := "title\tpoints\nCafé ☕\t3\n"
	u := utf16.Encode([]rune(text))
	le := []byte{0xFF, 0xFE}
	for _, v := range u {
		le = append(le, byte(v), byte(v>>8))
	}
	got, err := Parse(bytes.NewReader(le))
	if err != nil {
		t.Fatal(err)
	}
	if want := []session.ExternalStory{{Title: "Café ☕", Estimate: "3"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("items = %#v, want %#v", got, want)
	}
}

func TestGuard(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"", ""},
		{"=1+2", "'=1+2"},
		{"+1", "'+1"},
		{"-", "'-"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\tcmd", "'\tcmd"},
		{"'=x", "''=x"},
		{"'plain", "'plain"},
		{"'", "'"},
		{"a=b", "a=b"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := guard(tt.in); got != tt.want {
				t.Errorf("guard(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if got := unguard(guard(tt.in)); got != tt.in {
				t.Errorf("unguard(guard(%q)) = %q", tt.in, got)
			}
		})
	}
}

func TestParseQuoteErrorsWithoutFinalNewline(t *testing.T) {
	tests := []struct{ in, msg string }{
		{"title,description\nA,\"never closed\nB,b", "csv: line 2: a quoted field is never closed; add the missing \""},
		{"title,description\nA,\"never closed", "csv: line 2: a quoted field is never closed; add the missing \""},
		{"title,description\r\nA,\"quoted\"tail\r\nB,b", "csv: line 2: text follows the closing \" of a quoted field; a \" inside a quoted field must be doubled (\"\")"},
		{"title,description\nA,\"quoted\"x", "csv: line 2: text follows the closing \" of a quoted field; a \" inside a quoted field must be doubled (\"\")"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tt.in))
			if err == nil || err.Error() != tt.msg {
				t.Errorf("error =\n%v\nwant\n%s", err, tt.msg)
			}
		})
	}
}
