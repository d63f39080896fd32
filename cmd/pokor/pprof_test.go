package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestPprof: the profiler is off by default, served only on its own loopback address when
// POKOR_PPROF_ADDR is set, never on the public listener, and refused on a public address.
func TestPprof(t *testing.T) {
	if m := openMain(t, baseEnv(t)); m.pprofAddr != "" {
		t.Errorf("pprof listens on %s without POKOR_PPROF_ADDR", m.pprofAddr)
	}

	env := baseEnv(t)
	env["POKOR_PPROF_ADDR"] = "127.0.0.1:0"
	m := openMain(t, env)
	if m.pprofAddr == "" {
		t.Fatal("POKOR_PPROF_ADDR set, and pprof does not listen")
	}
	resp, err := http.Get("http://" + m.pprofAddr + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "goroutine") {
		t.Errorf("GET /debug/pprof/ on %s: %d\n%.300s", m.pprofAddr, resp.StatusCode, body)
	}
	rec := httptest.NewRecorder()
	m.Web.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/debug/pprof/", nil))
	if rec.Code == http.StatusOK {
		t.Errorf("the public listener serves /debug/pprof/")
	}

	for _, addr := range []string{"0.0.0.0:6060", ":6060", "10.0.0.5:6060", "pokor.example.com:6060"} {
		env := baseEnv(t)
		env["POKOR_PPROF_ADDR"] = addr
		if _, err := loadConfig(nil, func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "loopback") {
			t.Errorf("POKOR_PPROF_ADDR=%s: %v, want a loopback error", addr, err)
		}
	}
}
