package browsertest

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// AxeSource returns the script of axe-core (https://github.com/dequelabs/axe-core), the
// accessibility checker: $POKOR_AXE_JS, or .ci/node_modules/axe-core/axe.min.js, where .ci/run
// installs it with npm. Outside CI a test without it skips; in CI it fails.
func AxeSource(t *testing.T) string {
	t.Helper()
	path := os.Getenv("POKOR_AXE_JS")
	if path == "" {
		path = filepath.Join(repoRoot(t), ".ci", "node_modules", "axe-core", "axe.min.js")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("axe-core is required in CI (.ci/run installs it): %v", err)
		}
		t.Skipf("skipping the accessibility check: no axe-core (npm install --prefix .ci axe-core@4.14.1, or run .ci/run): %v", err)
	}
	return string(b)
}

// ColorScheme makes the page's prefers-color-scheme "light" or "dark".
func ColorScheme(scheme string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		})
		return chromedp.Void{}, err
	}
}

// AxeViolation is one rule axe-core found broken, with the elements that break it.
type AxeViolation struct {
	ID, Impact, Help string
	Nodes            []string
}

// Axe runs axe-core's WCAG 2 A and AA rules (and its best practices) on the page as it is now,
// and fails the test for every serious or critical violation; minor and moderate ones are
// logged. where names the page in the messages.
func Axe(t *testing.T, ctx context.Context, src, where string) {
	t.Helper()
	if !Get(t, ctx, chromedp.Evaluate[bool](`typeof axe === "object"`)) {
		Get(t, ctx, chromedp.Evaluate[bool](src+"\n;true"))
	}
	out := Get(t, ctx, chromedp.Evaluate[string](`axe.run(document, {
		runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
		resultTypes: ["violations"],
	}).then(r => JSON.stringify(r.violations.map(v => ({
		ID: v.id, Impact: v.impact || "", Help: v.help,
		Nodes: v.nodes.map(n => n.target.join(" ") + ": " + (n.failureSummary || "").replace(/\s+/g, " ")),
	}))))`, chromedp.EvalAwaitPromise))
	var violations []AxeViolation
	if err := json.Unmarshal([]byte(out), &violations); err != nil {
		t.Fatalf("axe-core's answer on %s: %v", where, err)
	}
	for _, v := range violations {
		msg := where + ": " + v.Impact + " " + v.ID + " (" + v.Help + "):\n  " + strings.Join(v.Nodes, "\n  ")
		if v.Impact == "serious" || v.Impact == "critical" {
			t.Error(msg)
		} else {
			t.Log(msg)
		}
	}
}
