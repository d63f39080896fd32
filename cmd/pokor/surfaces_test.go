package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pokor/pokor/bots"
	"github.com/pokor/pokor/session"
)

// TestTrackerSurfaces fails when a tracker wired in main.go is missing from a place people
// meet it: its descriptor, the room's import dialog and the API, the /pokor grammar and help,
// the command line, the Discord command manifest, the configuration table and the docs. The
// recipe in docs/trackers.md ("Adding a tracker") is what makes it pass.
func TestTrackerSurfaces(t *testing.T) {
	ts := trackers(func(string) string { return "" })
	if len(ts) == 0 {
		t.Fatal("no tracker is wired")
	}
	docs := read(t, "../../docs/trackers.md")
	config := read(t, "../../docs/configuration.md")
	var manifest []struct {
		Options []struct {
			Name    string
			Choices []struct{ Name, Value string }
		}
	}
	if err := json.Unmarshal([]byte(read(t, "../../manifests/discord/commands.json")), &manifest); err != nil {
		t.Fatal(err)
	}
	var sources []string
	for _, o := range manifest[0].Options {
		if o.Name == "source" {
			for _, c := range o.Choices {
				sources = append(sources, c.Value)
			}
		}
	}
	grammar := bots.NewGrammar(ts)
	help := grammar.Help()
	room := roomHTML(t)
	var usage bytes.Buffer
	run(context.Background(), []string{"help"}, &usage, io.Discard)
	names := map[string]bool{}

	for _, tr := range ts {
		t.Run(tr.Name, func(t *testing.T) {
			if names[tr.Name] || !regexp.MustCompile(`^[a-z][a-z0-9]*$`).MatchString(tr.Name) {
				t.Errorf("the name %q is taken or not a lower-case word", tr.Name)
			}
			names[tr.Name] = true
			if tr.Label == "" || tr.Items == "" || tr.Docs == "" {
				t.Errorf("the descriptor lacks its label, items or docs: %+v", tr)
			}
			anchor, ok := strings.CutPrefix(tr.Docs, "docs/trackers.md#")
			if !ok || !slices.Contains(headings(docs), anchor) {
				t.Errorf("docs: %s is not a section of docs/trackers.md (add \"## %s\")", tr.Docs, tr.Label)
			}
			if !strings.Contains(docs, "| ["+tr.Label+"](#"+anchor+")") {
				t.Errorf("docs: the trackers table of docs/trackers.md has no row for %s; run POKOR_UPDATE_DOCS=1 go test ./cmd/pokor -run TestTrackersTable", tr.Label)
			}
			if !strings.Contains(room, `<option value="`+tr.Name+`">`+tr.Items+`</option>`) {
				t.Errorf("room: the import dialog does not offer %s", tr.Name)
			}
			for _, s := range tr.Settings {
				if !strings.Contains(config, "`"+s.Env+"`") {
					t.Errorf("docs: %s is not in docs/configuration.md", s.Env)
				}
				if !slices.ContainsFunc(settings, func(c setting) bool { return c.Env == s.Env }) {
					t.Errorf("config: %s is not read by pokor serve", s.Env)
				}
			}
			for _, f := range tr.Credentials {
				if f.Key == "" || f.Label == "" || f.Type == "" {
					t.Errorf("credential field %+v lacks its key, label or type", f)
				}
				if f.Env != "" && !slices.ContainsFunc(tr.Settings, func(s session.Setting) bool { return s.Env == f.Env }) {
					t.Errorf("credential %s defaults to %s, which the descriptor's settings do not list", f.Key, f.Env)
				}
			}
			for _, o := range tr.Options {
				if o.Key == "" || o.Label == "" || o.Help == "" {
					t.Errorf("option %+v lacks its key, label or help", o)
				}
			}
			if tr.File != nil {
				if tr.File.Parse == nil || tr.Open != nil {
					t.Errorf("a file tracker must parse files and nothing else")
				}
				return
			}
			if tr.Open == nil || tr.Query.Example == "" || tr.Query.Help == "" || tr.Query.Syntax == "" || tr.Query.Summary == "" {
				t.Fatalf("a query tracker needs Open and its query grammar: %+v", tr.Query)
			}
			if !strings.Contains(help, "from "+tr.Name+" "+tr.Query.Example) {
				t.Errorf("bots: /pokor help lacks %s", tr.Name)
			}
			if cmd, err := grammar.Parse("Sprint 42 from " + tr.Name + " " + tr.Query.Example); err != nil || cmd.Source != tr.Name || cmd.Query != tr.Query.Example {
				t.Errorf("bots: /pokor … from %s does not parse: %+v, %v", tr.Name, cmd, err)
			}
			if !slices.Contains(sources, tr.Name) {
				t.Errorf("manifests/discord/commands.json: the source option has no choice %q", tr.Name)
			}
			if !strings.Contains(usage.String(), tr.Name) {
				t.Errorf("cli: pokor help does not name %s", tr.Name)
			}
			if len(tr.Check.Flags) == 0 || tr.Check.Target == "" {
				t.Errorf("cli: pokor check %s has no target flag", tr.Name)
			}
			err := run(context.Background(), []string{"check", tr.Name, "--" + tr.Check.Flags[0], "x", "y"}, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), "usage: pokor check "+tr.Name) {
				t.Errorf("cli: pokor check %s is not wired: %v", tr.Name, err)
			}
		})
	}
}

// TestTrackersTable keeps the trackers table of docs/trackers.md as the descriptors make it;
// POKOR_UPDATE_DOCS=1 rewrites it.
func TestTrackersTable(t *testing.T) {
	const begin, end = "<!-- trackers table: generated from the descriptors by TestTrackersTable -->\n", "<!-- end of trackers table -->\n"
	path := "../../docs/trackers.md"
	docs := read(t, path)
	i, j := strings.Index(docs, begin), strings.Index(docs, end)
	if i < 0 || j < i {
		t.Fatalf("docs/trackers.md lacks the markers %q and %q", begin, end)
	}
	want := trackersTable(trackers(func(string) string { return "" }))
	if got := docs[i+len(begin) : j]; got != want {
		if os.Getenv("POKOR_UPDATE_DOCS") == "1" {
			if err := os.WriteFile(path, []byte(docs[:i+len(begin)]+want+docs[j:]), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("the trackers table of docs/trackers.md is stale; run POKOR_UPDATE_DOCS=1 go test ./cmd/pokor -run TestTrackersTable\n got:\n%s\nwant:\n%s", got, want)
	}
}

// trackersTable is the Markdown table of the trackers.
func trackersTable(ts []session.Tracker) string {
	var b strings.Builder
	b.WriteString("| tracker | import | connection (server default) | write-back options | `pokor check` |\n|---|---|---|---|---|\n")
	cell := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	for _, tr := range ts {
		anchor := strings.TrimPrefix(tr.Docs, "docs/trackers.md#")
		imp := "a file: Import → " + tr.Items + ", `pokor import ID FILE`"
		if tr.File == nil {
			imp = "`/pokor … from " + tr.Name + " " + cell(tr.Query.Syntax) + "`"
		}
		var creds, opts []string
		for _, f := range tr.Credentials {
			c := f.Label
			if f.Env != "" {
				c += " (`" + f.Env + "`)"
			}
			creds = append(creds, cell(c))
		}
		for _, o := range tr.Options {
			opts = append(opts, "`"+o.Key+"`: "+cell(o.Label))
		}
		check := "—"
		if tr.Open != nil {
			check = "`pokor check " + tr.Name + " --" + tr.Check.Flags[0] + " " + cell(strings.ToUpper(tr.Check.Flags[0])) + "`"
		}
		fmt.Fprintf(&b, "| [%s](#%s) | %s | %s | %s | %s |\n", tr.Label, anchor, imp, orDash(strings.Join(creds, "; ")), orDash(strings.Join(opts, "; ")), check)
	}
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// headings returns the GitHub anchors of the Markdown headings of doc.
func headings(doc string) []string {
	var out []string
	for _, line := range strings.Split(doc, "\n") {
		if h, ok := strings.CutPrefix(line, "## "); ok {
			slug := strings.Map(func(r rune) rune {
				switch {
				case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
					return r
				case r == ' ':
					return '-'
				}
				return -1
			}, strings.ToLower(strings.TrimSpace(h)))
			out = append(out, slug)
		}
	}
	return out
}

// roomHTML starts Pokor as pokor serve does and returns a room page and the trackers API.
func roomHTML(t *testing.T) string {
	t.Helper()
	withEnv(t, map[string]string{"POKOR_ADDR": "127.0.0.1:0", "POKOR_DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "pokor.db"),
		"POKOR_SECRET_KEY": testSecretKey})
	cfg, err := loadConfig(nil, getenv)
	if err != nil {
		t.Fatal(err)
	}
	m := NewMain(cfg, slog.New(slog.DiscardHandler))
	if err := m.Open(context.Background()); err != nil {
		m.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	go m.server.Serve(m.ln)
	sess, _, _, err := m.Service.CreateSession(context.Background(), session.CreateInput{Title: "Sprint", Organizer: "Ann"})
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) string {
		res, err := http.Get("http://" + m.Addr() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}
	var api struct{ Trackers []session.Tracker }
	if err := json.Unmarshal([]byte(get("/api/v1/trackers")), &api); err != nil || len(api.Trackers) != len(m.Service.Trackers()) {
		t.Errorf("GET /api/v1/trackers: %+v, %v", api, err)
	}
	return get("/s/" + sess.ID)
}
