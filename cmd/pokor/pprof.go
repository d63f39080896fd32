package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// openPprof serves net/http/pprof on POKOR_PPROF_ADDR, a loopback address apart from the public
// listener, when it is set: an operator profiles a busy instance (go tool pprof
// http://127.0.0.1:6060/debug/pprof/profile) without exposing the profiles to the room's users.
func (m *Main) openPprof() error {
	addr := m.Config.Get("POKOR_PPROF_ADDR")
	if addr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("POKOR_PPROF_ADDR: listening on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	m.pprofAddr = ln.Addr().String()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Log.Warn("pprof server stopped", "err", err)
		}
	}()
	m.OnClose(srv.Close)
	m.Log.Info("pprof listening", "addr", m.pprofAddr)
	return nil
}

// loopback reports whether addr (host:port) names a loopback interface only.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
