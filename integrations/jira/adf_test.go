package jira

import (
	"encoding/json"
	"testing"
)

func TestDescriptionText(t *testing.T) {
	cases := []struct {
		name string
		raw  string
		want string
	}{
		{name: "null", raw: `null`, want: ""},
		{name: "absent", raw: ``, want: ""},
		{name: "v2 string kept", raw: `"Rotate the *TLS* certificates.\n"`, want: "Rotate the *TLS* certificates."},
		{
			name: "paragraphs",
			raw:  `{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"One."}]},{"type":"paragraph","content":[{"type":"text","text":"Two "},{"type":"text","text":"bold","marks":[{"type":"strong"}]}]}]}`,
			want: "One.\n\nTwo bold",
		},
		{
			name: "heading and hard break",
			raw:  `{"type":"doc","version":1,"content":[{"type":"heading","attrs":{"level":1},"content":[{"type":"text","text":"Title"}]},{"type":"paragraph","content":[{"type":"text","text":"a"},{"type":"hardBreak"},{"type":"text","text":"b"}]}]}`,
			want: "Title\n\na\nb",
		},
		{
			name: "nested bullet list",
			raw: `{"type":"doc","version":1,"content":[{"type":"bulletList","content":[
				{"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"fruit"}]},
					{"type":"bulletList","content":[{"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"apple"}]}]}]}]},
				{"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"bread"}]}]}]}]}`,
			want: "- fruit\n  - apple\n- bread",
		},
		{
			name: "ordered list with start",
			raw: `{"type":"doc","version":1,"content":[{"type":"orderedList","attrs":{"order":3},"content":[
				{"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"third"}]}]},
				{"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"fourth"}]}]}]}]}`,
			want: "3. third\n4. fourth",
		},
		{
			name: "code block verbatim",
			raw:  `{"type":"doc","version":1,"content":[{"type":"codeBlock","attrs":{"language":"go"},"content":[{"type":"text","text":"if x {\n\treturn\n}"}]}]}`,
			want: "if x {\n\treturn\n}",
		},
		{
			name: "mention and link",
			raw: `{"type":"doc","version":1,"content":[{"type":"paragraph","content":[
				{"type":"mention","attrs":{"id":"5b10a2844c20165700ede21g","text":"@Mia Krystof"}},
				{"type":"text","text":" see "},
				{"type":"text","text":"the spec","marks":[{"type":"link","attrs":{"href":"https://example.com/spec"}}]},
				{"type":"text","text":" and "},
				{"type":"text","text":"https://example.com","marks":[{"type":"link","attrs":{"href":"https://example.com"}}]},
				{"type":"text","text":" "},
				{"type":"mention","attrs":{"id":"x","text":"Bob"}}]}]}`,
			want: "@Mia Krystof see the spec (https://example.com/spec) and https://example.com @Bob",
		},
		{
			name: "smart link, emoji, status, date",
			raw: `{"type":"doc","version":1,"content":[{"type":"paragraph","content":[
				{"type":"inlineCard","attrs":{"url":"https://example.com/x"}},{"type":"text","text":" "},
				{"type":"emoji","attrs":{"shortName":":smile:","text":"😄"}},{"type":"text","text":" "},
				{"type":"status","attrs":{"text":"IN PROGRESS","color":"blue"}},{"type":"text","text":" "},
				{"type":"date","attrs":{"timestamp":"1735776000000"}}]}]}`,
			want: "https://example.com/x 😄 IN PROGRESS 2025-01-02",
		},
		{
			name: "quote, rule, panel, table, tasks, media",
			raw: `{"type":"doc","version":1,"content":[
				{"type":"blockquote","content":[{"type":"paragraph","content":[{"type":"text","text":"quoted"}]}]},
				{"type":"rule"},
				{"type":"panel","attrs":{"panelType":"info"},"content":[{"type":"paragraph","content":[{"type":"text","text":"note"}]}]},
				{"type":"table","content":[{"type":"tableRow","content":[
					{"type":"tableHeader","content":[{"type":"paragraph","content":[{"type":"text","text":"a"}]}]},
					{"type":"tableCell","content":[{"type":"paragraph","content":[{"type":"text","text":"b"}]}]}]}]},
				{"type":"taskList","attrs":{"localId":"t"},"content":[
					{"type":"taskItem","attrs":{"localId":"1","state":"DONE"},"content":[{"type":"text","text":"done"}]},
					{"type":"taskItem","attrs":{"localId":"2","state":"TODO"},"content":[{"type":"text","text":"todo"}]}]},
				{"type":"mediaSingle","content":[{"type":"media","attrs":{"id":"m","type":"file","collection":"c"}}]},
				{"type":"someFutureNode","content":[{"type":"paragraph","content":[{"type":"text","text":"still shown"}]}]}]}`,
			want: "> quoted\n\n---\n\nnote\n\na | b\n\n[x] done\n[ ] todo\n\nstill shown",
		},
		{name: "not JSON text", raw: `{"type":`, want: ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := descriptionText(json.RawMessage(tc.raw))
			if got != tc.want {
				t.Errorf("got:\n%q\nwant:\n%q", got, tc.want)
			}
		})
	}
}
