// Package i18n holds the message catalogs of the web pages and picks one for each request.
//
// Each language is one JSON file in this directory, named by its BCP 47 tag (en.json, de.json,
// pt-BR.json): an object from message keys to text. en.json is the reference: every key the
// pages use is there, and a key missing from another catalog falls back to English. A text may
// hold {name} placeholders, and a text that depends on a number is an object of plural
// categories ({"one": "{n} vote", "other": "{n} votes"}, the categories of Intl.PluralRules).
// The key "_language" is the language's own name, shown in the language picker. Adding a
// language is adding its file: docs/translations.md.
//
// The catalogs are not the web pages' alone: the chat bots (package bots and its platforms) speak
// from the same files, under keys that start with "bot.", so that a language is still one file.
// The package is a leaf for that reason: it imports nothing of Pokor, and the bots import it
// without pulling in the rest of webui.
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
	Name  string
	msgs  map[string]json.RawMessage
	text  map[string]string            // the string texts, and "other" of the plural ones
	forms map[string]map[string]string // the plural texts by category
	lang  language.Tag
	print *message.Printer // formats numbers the language's way
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

// Plural returns the text of key for the number n: the form of n's plural category in the
// catalog's language (CLDR's rules, the ones Intl.PluralRules applies in the pages), "other" when
// the catalog has no text for that category, and the plain text when key is not plural. {n} is
// n written the language's way (Number, at most two decimals); pairs fill the other placeholders.
func (c *Catalog) Plural(key string, n float64, pairs ...string) string {
	s, ok := c.text[key]
	if !ok {
		return key
	}
	if forms, ok := c.forms[key]; ok {
		if f, ok := forms[category(c.lang, n)]; ok && f != "" {
			s = f
		}
	}
	s = strings.ReplaceAll(s, "{n}", c.Number(n, 2))
	for i := 0; i+1 < len(pairs); i += 2 {
		s = strings.ReplaceAll(s, "{"+pairs[i]+"}", pairs[i+1])
	}
	return s
}

// category is the CLDR plural category of x in lang, as Intl.PluralRules names it. x is taken as
// Number shows it (at most two decimals, without trailing zeros), so "1" is "one" in English and
// "1.5" is "other". A language CLDR does not know is answered "other" by the rules.
func category(lang language.Tag, x float64) string {
	if x < 0 {
		x = -x
	}
	scaled := int64(x*100 + 0.5)
	i, frac := int(scaled/100), int(scaled%100)
	v, f := 0, 0 // visible fraction digits, and them as a number
	switch {
	case frac%10 != 0:
		v, f = 2, frac
	case frac != 0:
		v, f = 1, frac/10
	}
	// MatchPlural wants the trailing-zero-free fraction as t too; Number drops trailing zeros.
	switch plural.Cardinal.MatchPlural(lang, i, v, v, f, f) {
	case plural.Zero:
		return "zero"
	case plural.One:
		return "one"
	case plural.Two:
		return "two"
	case plural.Few:
		return "few"
	case plural.Many:
		return "many"
	}
	return "other"
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
		lt := language.Make(tag)
		c := &Catalog{Tag: tag, msgs: map[string]json.RawMessage{}, text: map[string]string{}, forms: map[string]map[string]string{},
			lang: lt, print: message.NewPrinter(lt)}
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
			c.forms[k] = forms
		}
		c.Name = c.text["_language"]
		s.byTag[tag] = c
		s.list = append(s.list, c)
		s.tags = append(s.tags, lt)
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

// Find returns the catalog of a BCP 47 tag: the catalog of that name, else the one the tag
// clearly means ("de-AT" and "de-CH" → de, "en-US" → en); nil when there is none ("fr" without
// fr.json). The chat bots use it for the locales the platforms send and for POKOR_LANGUAGE.
func (s *Set) Find(tag string) *Catalog { return s.pick(tag) }

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

// Count is Plural for a count, as templates and the charts have them: {{.L.Count "team.fig.sessions" .Sessions}}.
func (c *Catalog) Count(key string, n int, pairs ...string) string {
	return c.Plural(key, float64(n), pairs...)
}

// Number writes v rounded to at most decimals fraction digits, with the language's decimal and
// grouping separators (CLDR's, through golang.org/x/text): "1,234.5" in English, "1.234,5" in
// German. A new catalog's language needs no code for it. Halves round away from zero, as Intl
// does (x/text alone rounds them to even).
func (c *Catalog) Number(v float64, decimals int) string {
	scale := math.Pow(10, float64(decimals))
	v = math.Round(v*scale) / scale
	return c.print.Sprint(number.Decimal(v, number.MaxFractionDigits(decimals)))
}

// Int writes a count with the language's grouping separator, for templates: {{.L.Int .Votes}}.
func (c *Catalog) Int(n int) string { return c.Number(float64(n), 0) }
