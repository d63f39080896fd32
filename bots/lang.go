package bots

import (
	"strconv"
	"strings"
	"sync"

	"github.com/pokor/pokor/webui/i18n"
)

// The bots speak from the web pages' message catalogs (webui/i18n, a leaf package: nothing else of
// webui is imported here), under keys that start with "bot.", so that a language is one file for
// the pages and the bots alike. The grammar's keywords (from, help, the tracker names) stay
// English: they are what people type; the texts explaining them are translated.
//
// Which catalog a reply is written from is the platform's choice (docs/translations.md): Discord
// sends each user's locale and the server's; Slack and Mattermost send none with a command, so
// their bots answer in the server's POKOR_LANGUAGE.

// catalogs are the embedded catalogs, loaded once. They are part of the binary, and
// TestCatalogsComplete in webui/i18n fails on one that does not load, so a failure here is a
// broken build: it panics rather than letting every reply fail.
var catalogs = sync.OnceValue(func() *i18n.Set {
	set, err := i18n.Load()
	if err != nil {
		panic("bots: the embedded message catalogs do not load: " + err.Error())
	}
	return set
})

// Language returns the catalog for a BCP 47 tag ("de", Discord's "es-ES" or "pt-BR"), fallback when
// no catalog matches it or the tag is empty, and the reference (English) when fallback is nil.
func Language(tag string, fallback *i18n.Catalog) *i18n.Catalog {
	set := catalogs()
	if c := set.Find(tag); c != nil {
		return c
	}
	if fallback != nil {
		return fallback
	}
	return set.Reference()
}

// ParseLanguage checks a configured language (POKOR_LANGUAGE) and returns its catalog; its error
// names the catalogs there are.
func ParseLanguage(tag string) (*i18n.Catalog, error) {
	set := catalogs()
	if c := set.Find(tag); c != nil {
		return c, nil
	}
	tags := make([]string, 0, len(set.Languages()))
	for _, c := range set.Languages() {
		tags = append(tags, c.Tag)
	}
	return nil, &languageError{tag: tag, have: strings.Join(tags, ", ")}
}

type languageError struct{ tag, have string }

func (e *languageError) Error() string {
	return "there is no catalog for " + strconv.Quote(e.tag) + "; the catalogs are " + e.have + " (webui/i18n/<tag>.json; see docs/translations.md)"
}

// In returns the markup writing in the language of l (nil: the reference, English).
func (m Markup) In(l *i18n.Catalog) Markup {
	m.Lang = l
	return m
}

// lang is the catalog m writes from.
func (m Markup) lang() *i18n.Catalog {
	if m.Lang != nil {
		return m.Lang
	}
	return Language("", nil)
}

// T is the text of a catalog key in m's language, with its {placeholders} filled.
func (m Markup) T(key string, pairs ...string) string { return m.lang().T(key, pairs...) }

// N is the plural text of a catalog key for n in m's language ({n} written the language's way).
func (m Markup) N(key string, n float64, pairs ...string) string {
	return m.lang().Plural(key, n, pairs...)
}

// Number writes x the way m's language does ("5.5", "5,5").
func (m Markup) Number(x float64) string { return m.lang().Number(x, 2) }

// Tag is the BCP 47 tag of m's language, kept with a session (Origin.Language) so that what is
// posted later speaks as the command was answered.
func (m Markup) Tag() string { return m.lang().Tag }
