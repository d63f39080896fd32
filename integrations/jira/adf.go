package jira

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// adfNode is one node of an Atlassian Document Format document, the rich-text format of the
// v3 API (https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/).
type adfNode struct {
	Type    string         `json:"type"`
	Text    string         `json:"text,omitempty"`
	Attrs   map[string]any `json:"attrs,omitempty"`
	Marks   []adfMark      `json:"marks,omitempty"`
	Content []adfNode      `json:"content,omitempty"`
}

type adfMark struct {
	Type  string         `json:"type"`
	Attrs map[string]any `json:"attrs,omitempty"`
}

// descriptionText turns a description as Jira returns it into plain text: v3 gives an ADF
// document, v2 and Data Center a string (wiki markup, kept as is), an empty issue null.
func descriptionText(raw json.RawMessage) string {
	raw = json.RawMessage(strings.TrimSpace(string(raw)))
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return strings.TrimSpace(s)
	}
	var doc adfNode
	if err := json.Unmarshal(raw, &doc); err != nil {
		return ""
	}
	return adfToText(doc)
}

// adfToText renders an ADF document as plain text: blocks separated by a blank line, list items
// marked "- " or "1. " and indented when nested, code kept verbatim, links followed by their
// address, mentions as "@Name". Media and unknown leaf nodes are dropped; unknown nodes with
// content are rendered through their content so new node types degrade gracefully.
func adfToText(doc adfNode) string {
	blocks := renderBlocks([]adfNode{doc})
	if doc.Type == "doc" {
		blocks = renderBlocks(doc.Content)
	}
	return strings.TrimSpace(strings.Join(blocks, "\n\n"))
}

// renderBlocks renders block nodes, dropping the ones that render to nothing.
func renderBlocks(nodes []adfNode) []string {
	var out []string
	for i := 0; i < len(nodes); i++ {
		n := nodes[i]
		// Inline nodes directly inside a block container are legal in some producers; gather
		// a run of them into one paragraph.
		if isInline(n.Type) {
			j := i
			for j < len(nodes) && isInline(nodes[j].Type) {
				j++
			}
			if s := strings.TrimSpace(renderInline(nodes[i:j])); s != "" {
				out = append(out, s)
			}
			i = j - 1
			continue
		}
		if s := strings.TrimRight(renderBlock(n), " \n"); strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	return out
}

func renderBlock(n adfNode) string {
	switch n.Type {
	case "paragraph", "heading":
		return strings.TrimSpace(renderInline(n.Content))
	case "bulletList":
		return renderList(n, func(int) string { return "- " })
	case "orderedList":
		start := intAttr(n.Attrs, "order", 1)
		return renderList(n, func(i int) string { return strconv.Itoa(start+i) + ". " })
	case "taskList":
		return renderList(n, func(int) string { return "" })
	case "decisionList":
		return renderList(n, func(int) string { return "- " })
	case "taskItem":
		box := "[ ] "
		if strAttr(n.Attrs, "state") == "DONE" {
			box = "[x] "
		}
		return box + strings.TrimSpace(renderInline(n.Content))
	case "decisionItem":
		return strings.TrimSpace(renderInline(n.Content))
	case "listItem":
		return strings.Join(renderBlocks(n.Content), "\n")
	case "codeBlock":
		var b strings.Builder
		for _, c := range n.Content {
			b.WriteString(c.Text)
		}
		return strings.TrimRight(b.String(), "\n")
	case "blockquote":
		return prefixLines(strings.Join(renderBlocks(n.Content), "\n\n"), "> ", "> ")
	case "rule":
		return "---"
	case "expand", "nestedExpand":
		blocks := renderBlocks(n.Content)
		if title := strAttr(n.Attrs, "title"); title != "" {
			blocks = append([]string{title}, blocks...)
		}
		return strings.Join(blocks, "\n\n")
	case "table":
		var rows []string
		for _, row := range n.Content {
			var cells []string
			for _, cell := range row.Content {
				cells = append(cells, strings.ReplaceAll(strings.Join(renderBlocks(cell.Content), " "), "\n", " "))
			}
			rows = append(rows, strings.Join(cells, " | "))
		}
		return strings.Join(rows, "\n")
	case "blockCard", "embedCard":
		return strAttr(n.Attrs, "url")
	case "mediaSingle", "mediaGroup", "media", "mediaInline", "extension":
		return ""
	}
	if len(n.Content) > 0 {
		return strings.Join(renderBlocks(n.Content), "\n\n")
	}
	return renderInline([]adfNode{n})
}

// renderList renders list items with the marker marker(i), indenting continuation lines
// (a second paragraph, a nested list) to line up under the item's text.
func renderList(n adfNode, marker func(int) string) string {
	var lines []string
	for i, item := range n.Content {
		text := renderBlock(item)
		if strings.HasSuffix(item.Type, "List") {
			// Task and decision lists nest by holding a list directly, not inside an item.
			lines = append(lines, prefixLines(text, "  ", "  "))
			continue
		}
		m := marker(i)
		indent := strings.Repeat(" ", len(m))
		if m == "" {
			indent = "    "
		}
		lines = append(lines, prefixLines(text, m, indent))
	}
	return strings.Join(lines, "\n")
}

// prefixLines puts first before the first line of s and rest before the others (blank lines
// stay blank).
func prefixLines(s, first, rest string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		switch {
		case i == 0:
			lines[i] = first + l
		case l == "":
			lines[i] = strings.TrimRight(rest, " ")
		default:
			lines[i] = rest + l
		}
	}
	return strings.Join(lines, "\n")
}

func isInline(t string) bool {
	switch t {
	case "text", "hardBreak", "mention", "emoji", "inlineCard", "date", "status", "placeholder", "inlineExtension":
		return true
	}
	return false
}

func renderInline(nodes []adfNode) string {
	var b strings.Builder
	for _, n := range nodes {
		switch n.Type {
		case "text":
			b.WriteString(n.Text)
			if href := linkHref(n.Marks); href != "" && href != n.Text {
				b.WriteString(" (" + href + ")")
			}
		case "hardBreak":
			b.WriteString("\n")
		case "mention":
			name := strAttr(n.Attrs, "text")
			if name == "" {
				name = "someone"
			}
			if !strings.HasPrefix(name, "@") {
				name = "@" + name
			}
			b.WriteString(name)
		case "emoji":
			if t := strAttr(n.Attrs, "text"); t != "" {
				b.WriteString(t)
			} else {
				b.WriteString(strAttr(n.Attrs, "shortName"))
			}
		case "inlineCard":
			b.WriteString(strAttr(n.Attrs, "url"))
		case "date":
			b.WriteString(adfDate(strAttr(n.Attrs, "timestamp")))
		case "status":
			b.WriteString(strAttr(n.Attrs, "text"))
		case "placeholder", "inlineExtension", "mediaInline":
		default:
			b.WriteString(renderInline(n.Content))
		}
	}
	return b.String()
}

func linkHref(marks []adfMark) string {
	for _, m := range marks {
		if m.Type == "link" {
			return strAttr(m.Attrs, "href")
		}
	}
	return ""
}

// adfDate renders a date node's timestamp (milliseconds since the epoch, as a string) as a
// day in UTC, which is how Jira shows a date without a time.
func adfDate(ts string) string {
	ms, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ts
	}
	return time.UnixMilli(ms).UTC().Format("2006-01-02")
}

func strAttr(attrs map[string]any, key string) string {
	switch v := attrs[key].(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
}

func intAttr(attrs map[string]any, key string, def int) int {
	switch v := attrs[key].(type) {
	case float64:
		return int(v)
	case string:
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	return def
}
