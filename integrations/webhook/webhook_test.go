package webhook

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pokor/pokor/session"
)

func TestSignVerify(t *testing.T) {
	now := time.Unix(1764700000, 0)
	body := []byte(`{"id":"e1","type":"session.created"}`)
	sig := Sign("s3cret-s3cret-s3cret", now.Unix(), body)
	// The same as docs/webhooks.md's shell check computes:
	// printf '%s.%s' 1764700000 '{"id":"e1","type":"session.created"}' | openssl dgst -sha256 -hmac s3cret-s3cret-s3cret
	if want := "sha256=b8213f9eb388df00272e0edd8dbb063a38b445052333468a76a26392d4011e43"; sig != want {
		t.Fatalf("Sign = %q, want %q", sig, want)
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	tests := []struct {
		name       string
		secret, ts string
		sig        string
		body       []byte
		at         time.Time
		ok         bool
	}{
		{"valid", "s3cret-s3cret-s3cret", ts, sig, body, now.Add(time.Minute), true},
		{"other secret", "another-secret-xxxx", ts, sig, body, now, false},
		{"body changed", "s3cret-s3cret-s3cret", ts, sig, []byte(`{"id":"e1","type":"session.ended"}`), now, false},
		{"timestamp changed", "s3cret-s3cret-s3cret", strconv.FormatInt(now.Unix()+1, 10), sig, body, now, false},
		{"replayed later", "s3cret-s3cret-s3cret", ts, sig, body, now.Add(10 * time.Minute), false},
		{"no timestamp", "s3cret-s3cret-s3cret", "", sig, body, now, false},
	}
	for _, tt := range tests {
		if err := Verify(tt.secret, tt.ts, tt.sig, tt.body, tt.at); (err == nil) != tt.ok {
			t.Errorf("%s: Verify = %v, want ok %v", tt.name, err, tt.ok)
		}
	}
}

func TestSend(t *testing.T) {
	var got *http.Request
	var gotBody []byte
	status := http.StatusNoContent
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, gotBody = r, nil
		gotBody, _ = io.ReadAll(r.Body)
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "30")
		}
		w.WriteHeader(status)
	}))
	defer srv.Close()
	s := New(nil, "test")
	d := &session.Delivery{ID: "d1", EventID: "e1", Event: "estimate.accepted", URL: srv.URL + "/hook", Body: []byte(`{"id":"e1"}`)}
	if err := s.Send(t.Context(), d, "secret-secret-secret", false); err != nil {
		t.Fatalf("Send: %v", err)
	}
	h := got.Header
	if got.Method != "POST" || h.Get("Content-Type") != "application/json" || h.Get(HeaderEvent) != "estimate.accepted" ||
		h.Get(HeaderDelivery) != "d1" || h.Get(HeaderIdempotency) != "e1" || string(gotBody) != `{"id":"e1"}` {
		t.Errorf("request %s %v %s", got.Method, h, gotBody)
	}
	if err := Verify("secret-secret-secret", h.Get(HeaderTimestamp), h.Get(HeaderSignature), gotBody, time.Now()); err != nil {
		t.Errorf("the delivery does not verify: %v", err)
	}
	status = http.StatusTooManyRequests
	err := s.Send(t.Context(), d, "secret-secret-secret", false)
	if e, ok := err.(*session.Error); !ok || e.Code != session.CodeUnavailable || e.RetryAfter != 30*time.Second || strings.Contains(e.Message, "/hook") {
		t.Errorf("a 429: %#v", err)
	}
	// An organizer's URL (guarded) may not reach a private address, even if it was public when set.
	status = http.StatusNoContent
	if err := s.Send(t.Context(), d, "secret-secret-secret", true); err == nil || !strings.Contains(err.Error(), "not a public address") {
		t.Errorf("a guarded delivery to 127.0.0.1: %v", err)
	}
	if err := New([]string{"127.0.0.1"}, "test").Send(t.Context(), d, "secret-secret-secret", true); err != nil {
		t.Errorf("a guarded delivery to an allowed host: %v", err)
	}
}

func TestCheckURL(t *testing.T) {
	s := New([]string{"hooks.internal"}, "test")
	for raw, ok := range map[string]bool{
		"https://hooks.internal/pokor": true,
		"http://127.0.0.1:8080/hook":   false,
		"https://10.1.2.3/hook":        false,
		"https://[::1]/hook":           false,
		"ftp://example.com/x":          false,
		"https://user:pw@8.8.8.8/h":    false,
		"javascript:alert(1)":          false,
		"https://8.8.8.8/hook":         true,
	} {
		if err := s.CheckURL(t.Context(), raw); (err == nil) != ok {
			t.Errorf("CheckURL(%q) = %v, want ok %v", raw, err, ok)
		}
	}
}
