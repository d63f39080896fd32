package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/pokor/pokor/integrations"
)

func init() { commands["check"] = checkCmd }

// checkFunc tests a connection with the configuration and the arguments after its name.
type checkFunc func(ctx context.Context, cfg Config, args []string) (integrations.Check, error)

// checkCmd tests a connection and prints what Pokor found, as text or, with --json, as JSON.
// It exits non-zero when the check fails, so scripts can use it.
func checkCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	names := make([]string, 0, len(checkers))
	for n := range checkers {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(args) == 0 {
		return fmt.Errorf("usage: pokor check %s [--json] [flags]", strings.Join(names, "|"))
	}
	check, ok := checkers[args[0]]
	if !ok {
		return fmt.Errorf("unknown check %q: use one of %s", args[0], strings.Join(names, ", "))
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
	res, err := check(ctx, cfg, rest)
	if err != nil && res.Provider == "" {
		return err
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

func printCheck(w io.Writer, c integrations.Check) {
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
		fmt.Fprintf(w, "  %s %s: %s\n", mark, f.Name, f.Value)
	}
}
