// Package i18n holds the message catalogs of the web pages and picks one for each request.
//
// Each language is one JSON file in this directory, named by its BCP 47 tag (en.json, de.json,
// pt-BR.json): an object from message keys to text. en.json is the reference: every key the
// pages use is there, and a key missing from another catalog falls back to English. A text may
// hold {name} placeholders, and a text that depends on a number is an object of plural
// categories ({"one": "{n} vote", "other": "{n} votes"}, the categories of Intl.PluralRules).
// The key "_language" is the language's own name, shown in the language picker. Adding a
// language is adding its file: docs/translations.md.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"net/http"
	"sort"
	"strings"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/number"
)

//go:embed *.json
var files embed.FS

// Cookie is the cookie that remembers the language a person picked in a page.
const Cookie = "pokor_lang"

// Reference is the language every catalog falls back to.
const Reference = "en"

// Catalog is the messages of one language, completed from the reference.
type Catalog struct {
	// Tag is the language's BCP 47 tag ("de"), for <html lang> and Intl in the browser.
	Tag string
	// Name is the language's own name ("Deutsch").
	Name string
	msgs map[string]json.RawMessage
	text map[string]string // the string texts, and "other" of the plural ones
}

// T returns the text of key with its {placeholders} replaced by the given name-value pairs;
// the key itself when no catalog has it, so a missing text shows up instead of disappearing.
func (c *Catalog) T(key string, pairs ...string) string {
	s, ok := c.text[key]
	if !ok {
		return key
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		s = strings.ReplaceAll(s, "{"+pairs[i]+"}", pairs[i+1])
	}
	return s
}

// JSON is the whole catalog as a JSON object, for the pages' scripts.
func (c *Catalog) JSON() string {
	b, _ := json.Marshal(c.msgs)
	return string(b)
}

// Keys returns the catalog's keys, sorted.
func (c *Catalog) Keys() []string {
	keys := make([]string, 0, len(c.msgs))
	for k := range c.msgs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Set is every catalog, with the matcher that picks one for a request.
type Set struct {
	byTag   map[string]*Catalog
	list    []*Catalog
	tags    []language.Tag
	matcher language.Matcher
}

// Load reads the embedded catalogs.
func Load() (*Set, error) { return load(files) }

func load(fsys fs.FS) (*Set, error) {
	names, err := fs.Glob(fsys, "*.json")
	if err != nil {
		return nil, err
	}
	raw := map[string]map[string]json.RawMessage{}
	for _, name := range names {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", name, err)
		}
		tag := strings.TrimSuffix(name, ".json")
		if _, err := language.Parse(tag); err != nil {
			return nil, fmt.Errorf("i18n: %s is not named by a language tag (en.json, pt-BR.json): %w", name, err)
		}
		raw[tag] = m
	}
	ref, ok := raw[Reference]
	if !ok {
		return nil, fmt.Errorf("i18n: no %s.json", Reference)
	}
	s := &Set{byTag: map[string]*Catalog{}}
	// The reference first: the matcher falls back to the first tag.
	tags := []string{Reference}
	for tag := range raw {
		if tag != Reference {
			tags = append(tags, tag)
		}
	}
	sort.Strings(tags[1:])
	for _, tag := range tags {
		c := &Catalog{Tag: tag, msgs: map[string]json.RawMessage{}, text: map[string]string{}}
		for k, v := range ref {
			c.msgs[k] = v
		}
		for k, v := range raw[tag] {
			c.msgs[k] = v
		}
		for k, v := range c.msgs {
			var str string
			if json.Unmarshal(v, &str) == nil {
				c.text[k] = str
				continue
			}
			var forms map[string]string
			if err := json.Unmarshal(v, &forms); err != nil || forms["other"] == "" {
				return nil, fmt.Errorf("i18n: %s.json: %s must be a text or an object of plural forms with \"other\"", tag, k)
			}
			c.text[k] = forms["other"]
		}
		c.Name = c.text["_language"]
		s.byTag[tag] = c
		s.list = append(s.list, c)
		s.tags = append(s.tags, language.Make(tag))
	}
	s.matcher = language.NewMatcher(s.tags)
	return s, nil
}

// Languages returns the catalogs, the reference first.
func (s *Set) Languages() []*Catalog { return s.list }

// Get returns the catalog of tag, or nil.
func (s *Set) Get(tag string) *Catalog { return s.byTag[tag] }

// Reference returns the reference catalog.
func (s *Set) Reference() *Catalog { return s.byTag[Reference] }

// Match picks the catalog for preferences in order: a language picked in the page (the
// cookie, or ?lang=), then the browser's Accept-Language, then the reference.
func (s *Set) Match(picked, acceptLanguage string) *Catalog {
	if c := s.pick(picked); c != nil {
		return c
	}
	prefs, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(prefs) == 0 {
		return s.Reference()
	}
	_, i, conf := s.matcher.Match(prefs...)
	if conf == language.No {
		return s.Reference()
	}
	return s.list[i]
}

func (s *Set) pick(tag string) *Catalog {
	if tag == "" {
		return nil
	}
	if c, ok := s.byTag[tag]; ok {
		return c
	}
	t, err := language.Parse(tag)
	if err != nil {
		return nil
	}
	_, i, conf := s.matcher.Match(t)
	if conf < language.High {
		return nil
	}
	return s.list[i]
}

// ForRequest picks the catalog of a request: ?lang=, the cookie, then Accept-Language.
func (s *Set) ForRequest(r *http.Request) *Catalog {
	picked := r.URL.Query().Get("lang")
	if picked == "" {
		if ck, err := r.Cookie(Cookie); err == nil {
			picked = ck.Value
		}
	}
	return s.Match(picked, r.Header.Get("Accept-Language"))
}

// Plural returns the form of key for the count n in the catalog's language (the categories of
// CLDR, as Intl.PluralRules in the browser), with {n} written as Number does and the other
// {placeholders} replaced by the given name-value pairs; the "other" form when the language's
// category is missing, and the key itself when no catalog has it.
func (c *Catalog) Plural(key string, n int, pairs ...string) string {
	raw, ok := c.msgs[key]
	if !ok {
		return key
	}
	s := c.text[key]
	var forms map[string]string
	if json.Unmarshal(raw, &forms) == nil {
		if f, ok := forms[pluralNames[plural.Cardinal.MatchPlural(language.Make(c.Tag), n, 0, 0, 0, 0)]]; ok {
			s = f
		}
	}
	s = strings.ReplaceAll(s, "{n}", c.Int(n))
	for i := 0; i+1 < len(pairs); i += 2 {
		s = strings.ReplaceAll(s, "{"+pairs[i]+"}", pairs[i+1])
	}
	return s
}

var pluralNames = map[plural.Form]string{plural.Other: "other", plural.Zero: "zero", plural.One: "one",
	plural.Two: "two", plural.Few: "few", plural.Many: "many"}

// Number writes v rounded to at most decimals fraction digits, with the language's decimal and
// grouping separators (CLDR's, through golang.org/x/text): "1,234.5" in English, "1.234,5" in
// German. A new catalog's language needs no code for it. Halves round away from zero, as Intl
// does (x/text alone rounds them to even).
func (c *Catalog) Number(v float64, decimals int) string {
	scale := math.Pow(10, float64(decimals))
	v = math.Round(v*scale) / scale
	return message.NewPrinter(language.Make(c.Tag)).Sprint(number.Decimal(v, number.MaxFractionDigits(decimals)))
}

// Int writes a count with the language's grouping separator, for templates: {{.L.Int .Votes}}.
func (c *Catalog) Int(n int) string { return c.Number(float64(n), 0) }
