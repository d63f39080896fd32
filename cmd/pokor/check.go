package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/pokor/pokor/session"
)

// checkNames lists what `pokor check` tests: every tracker that connects, and the chat
// platforms.
func checkNames() []string {
	var names []string
	for _, t := range trackers(getenv) {
		if t.Open != nil {
			names = append(names, t.Name)
		}
	}
	for name := range chatChecks {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// queryTrackers lists the trackers that import by query.
func queryTrackers() []string {
	var names []string
	for _, t := range trackers(getenv) {
		if t.Open != nil {
			names = append(names, t.Name)
		}
	}
	return names
}

// checkCmd tests a connection and prints what Pokor found, as text or, with --json, as JSON
// (the same report for every tracker and chat platform, docs/trackers.md). It exits non-zero
// when the check fails, so scripts can use it.
func checkCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	names := checkNames()
	if len(args) == 0 {
		return fmt.Errorf("usage: pokor check %s [--json] [flags]", strings.Join(names, "|"))
	}
	asJSON := false
	rest := make([]string, 0, len(args))
	for _, a := range args[1:] {
		if a == "--json" || a == "-json" {
			asJSON = true
			continue
		}
		rest = append(rest, a)
	}
	cfg, err := loadConfig(nil, getenv)
	if err != nil {
		return err
	}
	var res session.CheckReport
	if check, ok := chatChecks[args[0]]; ok {
		res, err = check(ctx, cfg, rest)
	} else if t, ok := findTracker(cfg, args[0]); ok && t.Open != nil {
		res, err = checkTracker(ctx, t, rest)
	} else {
		return fmt.Errorf("unknown check %q: use one of %s", args[0], strings.Join(names, ", "))
	}
	if err != nil && res.Provider == "" {
		return err
	}
	if res.Facts == nil {
		res.Facts = []session.Fact{}
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if eerr := enc.Encode(res); eerr != nil {
			return eerr
		}
	} else {
		printCheck(stdout, res)
	}
	if err != nil {
		return err
	}
	if !res.OK {
		return fmt.Errorf("%s check failed", res.Provider)
	}
	return nil
}

// findTracker returns the tracker named name, reading its settings from cfg.
func findTracker(cfg Config, name string) (session.Tracker, bool) {
	for _, t := range trackers(cfg.Get) {
		if t.Name == name {
			return t, true
		}
	}
	return session.Tracker{}, false
}

// checkTracker is `pokor check TRACKER [--FLAG VALUE | VALUE]`: it tests the tracker with the
// server's default credentials, against the target named by one of the descriptor's flags (or
// the one argument).
func checkTracker(ctx context.Context, t session.Tracker, args []string) (session.CheckReport, error) {
	fs := flag.NewFlagSet("pokor check "+t.Name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	flags := make([]*string, len(t.Check.Flags))
	var forms []string
	for i, name := range t.Check.Flags {
		flags[i] = fs.String(name, "", t.Check.Target)
		forms = append(forms, "--"+name+" VALUE")
	}
	usage := fmt.Errorf("usage: pokor check %s [--json] [%s]", t.Name, strings.Join(forms, " | "))
	if err := fs.Parse(args); err != nil {
		return session.CheckReport{}, usage
	}
	target := ""
	for _, f := range flags {
		if *f == "" {
			continue
		}
		if target != "" {
			return session.CheckReport{}, usage
		}
		target = *f
	}
	switch {
	case target == "" && fs.NArg() == 1:
		target = fs.Arg(0)
	case fs.NArg() > 0:
		return session.CheckReport{}, usage
	}
	res, err := session.CheckTracker(ctx, t, nil, target)
	if err != nil {
		err = errors.New(session.ErrorMessage(err))
	}
	return res, err
}

func printCheck(w io.Writer, c session.CheckReport) {
	status := "OK"
	if !c.OK {
		status = "FAILED"
	}
	fmt.Fprintf(w, "%s: %s\n", c.Provider, status)
	if c.Identity != "" {
		fmt.Fprintf(w, "  identity: %s\n", c.Identity)
	}
	if c.Site != "" {
		fmt.Fprintf(w, "  site: %s\n", c.Site)
	}
	for _, f := range c.Facts {
		mark := "✓"
		if !f.OK {
			mark = "✗"
		}
		fmt.Fprintf(w, "  %s %s: %s\n", mark, f.Name, f.Text)
	}
}
