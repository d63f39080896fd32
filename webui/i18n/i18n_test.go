package i18n

import (
	"io/fs"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
)

// TestCatalogsComplete: every catalog has every key of the reference, with the same
// placeholders, and no key the reference lacks.
func TestCatalogsComplete(t *testing.T) {
	set, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Languages()) < 2 || set.Get("de") == nil {
		t.Fatalf("languages: %d, German: %v", len(set.Languages()), set.Get("de"))
	}
	placeholders := regexp.MustCompile(`\{\w+\}`)
	raw := map[string]map[string]bool{}
	names, _ := fs.Glob(files, "*.json")
	for _, name := range names {
		b := mustRead(t, name)
		keys := map[string]bool{}
		for _, m := range regexp.MustCompile(`(?m)^\s*"([^"]+)":`).FindAllSubmatch(b, -1) {
			keys[string(m[1])] = true
		}
		raw[strings.TrimSuffix(name, ".json")] = keys
	}
	ref := set.Reference()
	for _, c := range set.Languages() {
		if c.Name == "" {
			t.Errorf("%s.json has no _language", c.Tag)
		}
		for _, k := range ref.Keys() {
			if !raw[c.Tag][k] {
				t.Errorf("%s.json lacks %q", c.Tag, k)
				continue
			}
			// The same placeholders, in any order: a language puts words where its grammar does.
			want := placeholders.FindAllString(ref.T(k), -1)
			got := placeholders.FindAllString(c.T(k), -1)
			sort.Strings(want)
			sort.Strings(got)
			if strings.Join(want, ",") != strings.Join(got, ",") {
				t.Errorf("%s.json %q has placeholders %v, the reference %v", c.Tag, k, got, want)
			}
		}
		for k := range raw[c.Tag] {
			if _, ok := ref.text[k]; !ok {
				t.Errorf("%s.json has %q, which en.json lacks", c.Tag, k)
			}
		}
	}
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := fs.ReadFile(files, name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestKeysUsed: every key the templates and scripts ask for is in the reference catalog.
func TestKeysUsed(t *testing.T) {
	set, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	uses := []*regexp.Regexp{
		regexp.MustCompile(`\.T "([\w.]+)"`),
		regexp.MustCompile(`l\.T\("([\w.]+)"\)`),
		// Pokor.t, and the room's scripts' L.t (L is window.PokorI18n).
		regexp.MustCompile(`\b(?:Pokor|PokorI18n|L)\.(?:t|plural)\("([\w.]+)"`),
		// The team page, the charts, the import dialog and insight: {{.L.Plural "key" n}},
		// l.T("key", "name", v) and l.Plural in Go, and in the scripts any key of theirs in quotes
		// (check.ok ? "a" : "b").
		regexp.MustCompile(`\.(?:Plural|Count) "([\w.]+)"`),
		regexp.MustCompile(`\bl\.(?:T|Plural|Count)\("([\w.]+)"[,)]`),
	}
	scriptKeys := regexp.MustCompile(`"((?:trackers|insight|team|chart)\.[a-z_]+(?:\.[a-z_]+)*)"`)
	n := 0
	for _, pattern := range []string{"../templates/*.html", "../static/*.js", "../*.go"} {
		paths, _ := filepath.Glob(pattern)
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			res := uses
			if strings.HasSuffix(p, ".js") {
				res = append(res, scriptKeys)
			}
			for _, re := range res {
				for _, m := range re.FindAllSubmatch(b, -1) {
					n++
					if _, ok := set.Reference().text[string(m[1])]; !ok {
						t.Errorf("%s uses %q, which en.json lacks", filepath.Base(p), m[1])
					}
				}
			}
		}
	}
	if n < 20 {
		t.Errorf("found only %d uses of the catalog", n)
	}
}

// TestBotKeysUsed: every "bot." key the chat bots' Go code asks for is in the reference catalog
// (and so, by TestCatalogsComplete, in every catalog with the same placeholders), and every
// "bot." key of the reference is used. The bots name their keys as whole string literals for this.
func TestBotKeysUsed(t *testing.T) {
	set, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	use := regexp.MustCompile(`"(bot\.[\w.]+)"`)
	used := map[string]bool{}
	err = filepath.WalkDir("../../bots", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range use.FindAllSubmatch(b, -1) {
			used[string(m[1])] = true
			if _, ok := set.Reference().text[string(m[1])]; !ok {
				t.Errorf("%s uses %q, which en.json lacks", p, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(used) < 40 {
		t.Errorf("found only %d bot keys in bots/", len(used))
	}
	for _, k := range set.Reference().Keys() {
		if strings.HasPrefix(k, "bot.") && !used[k] {
			t.Errorf("en.json has %q, which no bot uses", k)
		}
	}
}

func TestPlural(t *testing.T) {
	set, err := load(fstest.MapFS{
		"en.json": {Data: []byte(`{"_language":"English","n":{"one":"{n} vote by {who}","other":"{n} votes by {who}"},"s":"{n} cards"}`)},
		"de.json": {Data: []byte(`{"_language":"Deutsch","n":{"one":"{n} Stimme von {who}","other":"{n} Stimmen von {who}"}}`)},
		"pl.json": {Data: []byte(`{"_language":"Polski","n":{"one":"{n} głos","few":"{n} głosy","many":"{n} głosów","other":"{n} głosu"}}`)},
		"fr.json": {Data: []byte(`{"_language":"Français","n":{"other":"{n} votes"}}`)},
		"ja.json": {Data: []byte(`{"_language":"日本語","n":{"one":"never","other":"{n} 票"}}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		tag  string
		n    float64
		want string
	}{
		{"en", 1, "1 vote by Ann"}, {"en", 0, "0 votes by Ann"}, {"en", 2, "2 votes by Ann"},
		{"en", 1.5, "1.5 votes by Ann"}, {"en", 1234, "1,234 votes by Ann"},
		{"de", 1, "1 Stimme von Ann"}, {"de", 5.5, "5,5 Stimmen von Ann"}, {"de", 1234, "1.234 Stimmen von Ann"},
		{"pl", 1, "1 głos"}, {"pl", 3, "3 głosy"}, {"pl", 5, "5 głosów"}, {"pl", 22, "22 głosy"}, {"pl", 1.5, "1,5 głosu"},
		// A catalog without the category CLDR asks for ("one" in French) falls back to "other";
		// a category the language does not have is never picked (Japanese has only "other").
		{"fr", 1, "1 votes"}, {"ja", 1, "1 票"},
	}
	for _, tt := range tests {
		if got := set.Get(tt.tag).Plural("n", tt.n, "who", "Ann"); got != tt.want {
			t.Errorf("%s Plural(%v) = %q, want %q", tt.tag, tt.n, got, tt.want)
		}
	}
	if got := set.Get("de").Plural("s", 3); got != "3 cards" {
		t.Errorf("a key that is not plural: %q", got)
	}
	if got := set.Get("de").Plural("nope", 3); got != "nope" {
		t.Errorf("an unknown key: %q", got)
	}
	if got := set.Get("de").Number(0.125, 2); got != "0,13" && got != "0,12" {
		t.Errorf("Number rounds to two decimals: %q", got)
	}
}

func TestFind(t *testing.T) {
	set, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for tag, want := range map[string]string{"de": "de", "de-AT": "de", "en-US": "en", "en-GB": "en"} {
		if c := set.Find(tag); c == nil || c.Tag != want {
			t.Errorf("Find(%q) = %v, want %s", tag, c, want)
		}
	}
	for _, tag := range []string{"", "fr", "es-ES", "zh-CN", "!!"} {
		if c := set.Find(tag); c != nil {
			t.Errorf("Find(%q) = %s, want none", tag, c.Tag)
		}
	}
}

func TestMatch(t *testing.T) {
	set, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		query, cookie, accept, want string
	}{
		{"", "", "", "en"},
		{"", "", "de-DE,de;q=0.9,en;q=0.8", "de"},
		{"", "", "de-AT", "de"},
		{"", "", "fr-FR,fr;q=0.9", "en"},
		{"", "", "fr-FR,de;q=0.5", "de"},
		{"", "", "en-US,en;q=0.9,de;q=0.8", "en"},
		{"", "", "not a header;;", "en"},
		{"", "de", "en-US", "de"},
		{"", "xx-nonsense", "de", "de"},
		{"en", "de", "de", "en"},
		{"de-CH", "", "", "de"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/?lang="+tt.query, nil)
		if tt.cookie != "" {
			r.Header.Set("Cookie", Cookie+"="+tt.cookie)
		}
		r.Header.Set("Accept-Language", tt.accept)
		if got := set.ForRequest(r).Tag; got != tt.want {
			t.Errorf("lang=%q cookie=%q Accept-Language=%q: %s, want %s", tt.query, tt.cookie, tt.accept, got, tt.want)
		}
	}
}

func TestCatalogText(t *testing.T) {
	set, err := load(fstest.MapFS{
		"en.json": {Data: []byte(`{"_language":"English","hi":"Hello {name}","n":{"one":"{n} vote","other":"{n} votes"}}`)},
		"de.json": {Data: []byte(`{"_language":"Deutsch","hi":"Hallo {name}"}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	de := set.Get("de")
	if got := de.T("hi", "name", "Ann"); got != "Hallo Ann" {
		t.Errorf("T = %q", got)
	}
	if got := de.T("n"); got != "{n} votes" {
		t.Errorf("a missing key falls back to English: %q", got)
	}
	if got := de.T("nope"); got != "nope" {
		t.Errorf("an unknown key: %q", got)
	}
	for name, files := range map[string]fstest.MapFS{
		"no reference":  {"de.json": {Data: []byte(`{}`)}},
		"bad JSON":      {"en.json": {Data: []byte(`{`)}},
		"bad file name": {"en.json": {Data: []byte(`{}`)}, "german.json": {Data: []byte(`{}`)}},
		"bad plural":    {"en.json": {Data: []byte(`{"n":{"one":"x"}}`)}},
	} {
		if _, err := load(files); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
}

// TestPluralAndNumber: the Go side picks plural forms and writes numbers as the browser's Intl
// does for the same language.
func TestPluralAndNumber(t *testing.T) {
	set, err := load(fstest.MapFS{
		"en.json": {Data: []byte(`{"_language":"English","n":{"one":"{n} story","other":"{n} stories"},"s":"{n} of {total}"}`)},
		"de.json": {Data: []byte(`{"_language":"Deutsch","n":{"one":"{n} Story","other":"{n} Storys"}}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	en, de := set.Get("en"), set.Get("de")
	for _, tt := range []struct{ got, want string }{
		{en.Plural("n", 1), "1 story"},
		{en.Plural("n", 0), "0 stories"},
		{en.Plural("n", 1234), "1,234 stories"},
		{de.Plural("n", 1), "1 Story"},
		{de.Plural("n", 2), "2 Storys"},
		{de.Plural("n", 1234), "1.234 Storys"},
		{de.Plural("s", 3, "total", "4"), "3 of 4"},
		{de.Plural("nope", 3), "nope"},
		{en.Number(2.5, 1), "2.5"},
		{de.Number(2.5, 1), "2,5"},
		{de.Number(2.25, 1), "2,3"},
		{de.Number(3, 1), "3"},
		{de.Number(12345.678, 2), "12.345,68"},
	} {
		if tt.got != tt.want {
			t.Errorf("%q, want %q", tt.got, tt.want)
		}
	}
}
