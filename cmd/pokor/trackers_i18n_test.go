package main

import (
	"testing"

	"github.com/pokor/pokor/webui/i18n"
)

// TestTrackerTextsInCatalogs: the room shows a tracker's words (what it imports, its query help,
// its connection's fields and options) from the catalogs' trackers.<name>.* keys. Every tracker of
// this binary has them, and the English catalog holds exactly the descriptor's words, so that a
// descriptor changed without its translations fails here instead of showing stale help.
func TestTrackerTextsInCatalogs(t *testing.T) {
	set, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	en, de := set.Reference(), set.Get("de")
	n := 0
	check := func(key, text string) {
		t.Helper()
		n++
		if got := en.T(key); got != text {
			t.Errorf("en.json %q is %q; the descriptor says %q", key, got, text)
		}
		if de.T(key) == text && len(text) > 12 {
			t.Errorf("de.json %q is still the English %q", key, text)
		}
	}
	for _, tr := range trackers(func(string) string { return "" }) {
		p := "trackers." + tr.Name + "."
		check(p+"items", tr.Items)
		if tr.File != nil {
			check(p+"file.help", tr.File.Help)
		} else {
			check(p+"query.help", tr.Query.Help)
		}
		for _, f := range tr.Credentials {
			check(p+"credential."+f.Key, f.Label)
		}
		for _, o := range tr.Options {
			check(p+"option."+o.Key, o.Label)
			if o.Help != "" {
				check(p+"option."+o.Key+".help", o.Help)
			}
			for _, c := range o.Choices {
				check(p+"option."+o.Key+".choice."+c.Value, c.Label)
			}
		}
	}
	if n < 40 {
		t.Errorf("only %d tracker texts checked", n)
	}
}
