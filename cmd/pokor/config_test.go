package main

import (
	"os"
	"strings"
	"testing"
)

// TestConfigurationDocumented: every setting of the table is in docs/configuration.md.
func TestConfigurationDocumented(t *testing.T) {
	b, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range settings {
		if !strings.Contains(string(b), "`"+s.Env+"`") {
			t.Errorf("%s is not documented in docs/configuration.md", s.Env)
		}
	}
}

func TestScaleSettings(t *testing.T) {
	base := map[string]string{"POKOR_DATABASE_URL": "postgres://db/pokor", "POKOR_SECRET_KEY": strings.Repeat("k", 32)}
	tests := []struct {
		name string
		env  map[string]string
		want string // part of the error; empty for none
	}{
		{"defaults", nil, ""},
		{"redis", map[string]string{"POKOR_REDIS_URL": "redis://:pw@redis:6379/0", "POKOR_REDIS_PREFIX": "team-a:"}, ""},
		{"redis tls", map[string]string{"POKOR_REDIS_URL": "rediss://redis.example.com:6380"}, ""},
		{"redis scheme", map[string]string{"POKOR_REDIS_URL": "redis.example.com:6379"}, "POKOR_REDIS_URL must start with redis://"},
		{"shutdown delay", map[string]string{"POKOR_SHUTDOWN_DELAY": "5s"}, ""},
		{"bad shutdown delay", map[string]string{"POKOR_SHUTDOWN_DELAY": "five"}, "POKOR_SHUTDOWN_DELAY"},
		{"negative shutdown delay", map[string]string{"POKOR_SHUTDOWN_DELAY": "-1s"}, "POKOR_SHUTDOWN_DELAY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range base {
				env[k] = v
			}
			for k, v := range tt.env {
				env[k] = v
			}
			cfg, err := loadConfig(nil, func(k string) string { return env[k] })
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("loadConfig: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("loadConfig = %v, want an error about %s", err, tt.want)
			}
			if tt.name == "defaults" && cfg.Get("POKOR_REDIS_PREFIX") != "pokor:" {
				t.Errorf("POKOR_REDIS_PREFIX defaults to %q", cfg.Get("POKOR_REDIS_PREFIX"))
			}
		})
	}
}

func TestLocalURL(t *testing.T) {
	for addr, want := range map[string]string{
		":8080":          "http://127.0.0.1:8080",
		"0.0.0.0:9000":   "http://127.0.0.1:9000",
		"[::]:8080":      "http://127.0.0.1:8080",
		"10.0.0.5:8080":  "http://10.0.0.5:8080",
		"[fd00::1]:8080": "http://[fd00::1]:8080",
	} {
		if got, err := localURL(addr); err != nil || got != want {
			t.Errorf("localURL(%q) = %q, %v; want %q", addr, got, err, want)
		}
	}
	if _, err := localURL("8080"); err == nil {
		t.Error("localURL accepted an address without a port")
	}
}

func TestLimitSettings(t *testing.T) {
	cfg, err := loadConfig(nil, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	l, err := cfg.Limits()
	if err != nil || l.Sessions.N != 1000 || l.Joins.N != 10000 || l.Messages.N != 20 || l.MaxConnections != 10000 || l.MaxRooms != 1000 || l.TrustedProxies != nil {
		t.Errorf("default limits = %+v, %v", l, err)
	}
	for env, bad := range map[string]string{
		"POKOR_RATE_SESSIONS": "20", "POKOR_RATE_JOINS": "5/day", "POKOR_RATE_MESSAGES": "x/s",
		"POKOR_MAX_CONNECTIONS_PER_CLIENT": "-1", "POKOR_MAX_ROOMS_PER_CLIENT": "many", "POKOR_TRUSTED_PROXIES": "10.0.0.0/8,proxy",
	} {
		if _, err := loadConfig(nil, func(k string) string {
			if k == env {
				return bad
			}
			return ""
		}); err == nil || !strings.Contains(err.Error(), env) {
			t.Errorf("%s=%s: %v, want an error naming it", env, bad, err)
		}
	}
	cfg, err = loadConfig([]string{"--rate-sessions", "off", "--trusted-proxies", "10.0.0.0/8, 127.0.0.1"}, func(string) string { return "" })
	if l, _ := cfg.Limits(); err != nil || l.Sessions.N != 0 || len(l.TrustedProxies) != 2 {
		t.Errorf("limits from flags = %+v, %v", l, err)
	}
}

// TestLanguageSetting: POKOR_LANGUAGE names a catalog; another value stops Pokor with the
// catalogs there are.
func TestLanguageSetting(t *testing.T) {
	for value, want := range map[string]string{"": "", "en": "", "de": "", "de-AT": "",
		"fr": `POKOR_LANGUAGE: there is no catalog for "fr"; the catalogs are en, de`, "deutsch": "POKOR_LANGUAGE"} {
		_, err := loadConfig(nil, func(k string) string {
			if k == "POKOR_LANGUAGE" {
				return value
			}
			return ""
		})
		if (want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("POKOR_LANGUAGE=%q: %v, want %q", value, err, want)
		}
	}
}
