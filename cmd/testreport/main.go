// Command testreport runs `go test -json` and prints what a person reads from `go test`: the
// output of failed tests, build errors and one line per package. At the end it lists every
// skipped test with the reason it gave, then a count: "N passed, N failed, N skipped".
//
//	go run ./cmd/testreport go test -race ./...
//
// It exits with go test's status, or 1 when a test failed although go test said nothing.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"sort"
	"strings"
	"syscall"
)

func main() {
	args := os.Args[1:]
	if len(args) < 2 || args[1] != "test" {
		fmt.Fprintln(os.Stderr, "usage: testreport go test [flags] [packages]")
		os.Exit(2)
	}
	cmd := exec.Command(args[0], append([]string{"test", "-json"}, args[2:]...)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		fmt.Fprintln(os.Stderr, "testreport:", err)
		os.Exit(2)
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "testreport:", err)
		os.Exit(2)
	}
	// Ctrl-C reaches go test through the process group; wait for it to report.
	signal.Ignore(os.Interrupt, syscall.SIGTERM)
	r := NewReport(os.Stdout)
	if err := r.Read(out); err != nil {
		fmt.Fprintln(os.Stderr, "testreport:", err)
	}
	waitErr := cmd.Wait()
	r.Summary()
	var exit *exec.ExitError
	switch {
	case errors.As(waitErr, &exit):
		os.Exit(exit.ExitCode())
	case waitErr != nil:
		fmt.Fprintln(os.Stderr, "testreport:", waitErr)
		os.Exit(2)
	case r.Failed > 0:
		os.Exit(1)
	}
}

// event is one line of `go test -json` (go doc test2json).
type event struct {
	Action     string
	Package    string
	ImportPath string
	Test       string
	Output     string
}

type testKey struct{ pkg, test string }

// Skip is a skipped test and the reason it printed.
type Skip struct {
	Package, Test, Reason string
}

// Report follows a `go test -json` stream.
type Report struct {
	w                     io.Writer
	output                map[testKey][]string
	Passed, Failed, Skips int
	Skipped               []Skip
	failedPackages        []string
}

// NewReport returns a Report printing to w.
func NewReport(w io.Writer) *Report {
	return &Report{w: w, output: map[testKey][]string{}}
}

// Read consumes the stream until it ends.
func (r *Report) Read(in io.Reader) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			fmt.Fprintln(r.w, string(line)) // not JSON: go test's own words
			continue
		}
		r.handle(e)
	}
	return sc.Err()
}

func (r *Report) handle(e event) {
	if e.Action == "build-output" {
		fmt.Fprint(r.w, e.Output)
		return
	}
	if e.Test == "" {
		// Package-level lines: "ok  pkg 1.2s", "FAIL pkg", panics outside a test, coverage.
		if e.Action == "output" && !strings.HasPrefix(e.Output, "PASS") && !strings.HasPrefix(e.Output, "=== ") {
			fmt.Fprint(r.w, e.Output)
		}
		if e.Action == "fail" {
			r.failedPackages = append(r.failedPackages, e.Package)
		}
		return
	}
	k := testKey{e.Package, e.Test}
	switch e.Action {
	case "output":
		r.output[k] = append(r.output[k], e.Output)
	case "pass":
		r.Passed++
		delete(r.output, k)
	case "fail":
		r.Failed++
		for _, l := range r.output[k] {
			fmt.Fprint(r.w, l)
		}
		delete(r.output, k)
	case "skip":
		r.Skips++
		r.Skipped = append(r.Skipped, Skip{Package: e.Package, Test: e.Test, Reason: reason(r.output[k])})
		delete(r.output, k)
	}
}

// fileLine is the "name_test.go:12: " before each line a test logs.
var fileLine = regexp.MustCompile(`^[\w.-]+\.go:\d+: `)

// reason is what a skipped test printed, without the runner's own lines.
func reason(lines []string) string {
	var parts []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- ") {
			continue
		}
		parts = append(parts, fileLine.ReplaceAllString(t, ""))
	}
	if len(parts) == 0 {
		return "(no reason given)"
	}
	return strings.Join(parts, " ")
}

// Summary prints the skipped tests, grouped by reason, and the closing count.
func (r *Report) Summary() {
	if len(r.Skipped) > 0 {
		byReason := map[string][]string{}
		for _, s := range r.Skipped {
			byReason[s.Reason] = append(byReason[s.Reason], strings.TrimPrefix(s.Package, "github.com/pokor/pokor/")+"."+s.Test)
		}
		reasons := make([]string, 0, len(byReason))
		for k := range byReason {
			reasons = append(reasons, k)
		}
		sort.Strings(reasons)
		fmt.Fprintf(r.w, "\nSkipped tests (%d):\n", len(r.Skipped))
		for _, why := range reasons {
			names := byReason[why]
			sort.Strings(names)
			fmt.Fprintf(r.w, "  %s\n    %s\n", why, strings.Join(names, "\n    "))
		}
	}
	if len(r.failedPackages) > 0 {
		fmt.Fprintf(r.w, "\nFailed packages: %s\n", strings.Join(r.failedPackages, " "))
	}
	fmt.Fprintf(r.w, "\n%d passed, %d failed, %d skipped\n", r.Passed, r.Failed, r.Skips)
}
