package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// healthcheck asks the local server whether it lives (or, with --ready, whether it is ready). The
// container image runs it as its HEALTHCHECK: the distroless image has no curl or wget.
func healthcheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("pokor healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ready := fs.Bool("ready", false, "check /readyz (store and event bus reachable) instead of /healthz")
	url := fs.String("url", "", "URL to check (default: /healthz on the POKOR_ADDR of this container)")
	timeout := fs.Duration("timeout", 3*time.Second, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *url == "" {
		addr := getenv("POKOR_ADDR")
		if addr == "" {
			addr = ":8080"
		}
		u, err := localURL(addr)
		if err != nil {
			return err
		}
		*url = u + "/healthz"
		if *ready {
			*url = u + "/readyz"
		}
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 1024))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %s: %s", *url, res.Status, body)
	}
	fmt.Fprintf(stdout, "%s", body)
	return nil
}

// localURL turns a listen address into the URL this host reaches it at: an address that listens
// on every interface (":8080", "0.0.0.0:8080", "[::]:8080") is reached on the loopback.
func localURL(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", errors.New("POKOR_ADDR: " + err.Error())
	}
	switch host {
	case "", "0.0.0.0", "::":
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port), nil
}
