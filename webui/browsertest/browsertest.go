// Package browsertest drives Debian's Chromium for the browser tests of the room (webui) and of
// the tracker dialog (integrations/trackers), through chromedp over the DevTools protocol.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// CSS selects the first element matching a CSS selector.
type CSS = chromedp.CSS

// Chromium finds Chromium. Outside CI a browser test skips when it is missing; in CI (CI=true)
// it fails, because .ci/run installs Debian's chromium package.
func Chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{os.Getenv("POKOR_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("Chromium is required in CI: .ci/run installs Debian's chromium package")
	}
	t.Skip("skipping the browser test: no chromium on PATH (apt-get install -y chromium)")
	return ""
}

// Start starts one headless Chromium with its own profile, so that each participant has its
// own cookies, as people on different machines would. The flags keep it off the network this
// machine does not have.
func Start(t *testing.T, exe string, width, height int) context.Context {
	t.Helper()
	return StartWith(t, exe, width, height)
}

// StartWith is Start with more Chromium options, e.g. Dark() for a browser in dark mode.
func StartWith(t *testing.T, exe string, width, height int, more ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// The tests' browsers speak English unless a test says otherwise (AcceptLanguage), whatever
		// the machine's locale: the pages follow Accept-Language.
		chromedp.Flag("accept-lang", "en-US,en"),
		chromedp.WindowSize(width, height),
	)
	opts = append(opts, more...)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	// The first Do starts the browser and binds it to this context, which has no timeout; each
	// later step gets its own deadline.
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

// AcceptLanguage is the option of StartWith for a browser whose languages are langs, in the
// form of Accept-Language ("de-DE,de"): it sends them, and navigator.languages lists them.
func AcceptLanguage(langs string) chromedp.ExecAllocatorOption {
	return chromedp.Flag("accept-lang", langs)
}

// DarkMode makes the page's media queries see a dark colour scheme, as on a phone in dark mode.
func DarkMode() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}})
		return err
	})
}

// Errors collects what the page's scripts report as an error: uncaught exceptions, unhandled
// promise rejections and console errors. The browser's own log of refused requests (a 403 before
// joining a room is part of the protocol) is not a script's error. Call it before navigating;
// read the result at the end.
func Errors(ctx context.Context) func() []string {
	var (
		mu   sync.Mutex
		errs []string
	)
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.IsException() || m.Type == chromedp.ConsoleError && m.Source != "network" {
				mu.Lock()
				errs = append(errs, m.String())
				mu.Unlock()
			}
		}
	}()
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), errs...)
	}
}

// stepTimeout is generous: a real browser on a shared, busy machine.
const stepTimeout = 30 * time.Second

// Do runs steps, failing the test on the first error.
func Do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// CloseImportAndAccept closes the import dialog, votes card alone on the current story, reveals
// and accepts the estimate the room suggests: what the trackers' browser tests do after an import
// to set off a write-back.
func CloseImportAndAccept(t *testing.T, ctx context.Context, card string) {
	t.Helper()
	Do(t, ctx,
		chromedp.Click(CSS(`#import-close`)),
		chromedp.Click(CSS(`#cards .card[data-card="`+card+`"]`)),
		chromedp.WaitVisible(CSS(`#cards .card.selected`)),
		chromedp.Click(CSS(`#reveal`)),
		chromedp.WaitVisible(CSS(`#accept button[type=submit]`)),
		chromedp.Click(CSS(`#accept button[type=submit]`)),
	)
}

// Get runs one action that returns a value.
func Get[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Until polls a JavaScript condition in the page until it holds.
func Until(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	if !Get(t, ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(20*time.Second))) {
		t.Fatalf("timed out waiting for %s", what)
	}
}

// Screenshot saves a PNG of the whole page in $POKOR_ARTIFACTS, or in artifacts/ at the top
// of the repository.
func Screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("POKOR_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(repoRoot(t), "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, Get(t, ctx, chromedp.FullScreenshot(100)), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// repoRoot is the nearest directory above the test's working directory that holds go.mod.
func repoRoot(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return dir
		}
	}
}
