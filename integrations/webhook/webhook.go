// Package webhook delivers Pokor's events to webhooks: a POST of a JSON body signed with
// HMAC-SHA256 over the timestamp and the body, as docs/webhooks.md describes for receivers. It
// implements session.WebhookSender; the outbox, retries and order are the domain's.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pokor/pokor/integrations/httpx"
	"github.com/pokor/pokor/session"
)

// The headers of a delivery.
const (
	HeaderEvent     = "Pokor-Event"
	HeaderDelivery  = "Pokor-Delivery"
	HeaderTimestamp = "Pokor-Timestamp"
	HeaderSignature = "Pokor-Signature"
	// HeaderIdempotency is the event's id: the same on every attempt and every endpoint.
	HeaderIdempotency = "Idempotency-Key"
)

// Tolerance is how far a receiver should accept a timestamp from its own clock.
const Tolerance = 5 * time.Minute

// Sender sends deliveries. Build it with New.
type Sender struct {
	allowed []string
	// trusted sends to URLs the administrator chose (server-wide, teams, allowed hosts);
	// public to an organizer's URLs, and only to public addresses.
	trusted, public *http.Client
	agent           string
	now             func() time.Time
}

var _ session.WebhookSender = (*Sender)(nil)

// New returns a Sender. allowedHosts (POKOR_WEBHOOK_ALLOWED_HOSTS) are hosts an organizer may
// name although they are on a private network.
func New(allowedHosts []string, version string) *Sender {
	return &Sender{
		allowed: allowedHosts,
		trusted: &http.Client{Timeout: 15 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		public:  httpx.PublicClient(15 * time.Second),
		agent:   "Pokor-Webhooks/" + version,
		now:     time.Now,
	}
}

func (s *Sender) isAllowed(host string) bool {
	return slices.ContainsFunc(s.allowed, func(h string) bool { return strings.EqualFold(strings.TrimSpace(h), host) })
}

// CheckURL accepts an http or https URL whose host is public, or allowed by the administrator.
func (s *Sender) CheckURL(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return &session.Error{Code: session.CodeInvalid, Message: "the webhook URL must be an http:// or https:// URL, such as https://hooks.example.com/pokor"}
	}
	if u.User != nil {
		return &session.Error{Code: session.CodeInvalid, Message: "the webhook URL must not hold a user name or password: the events are signed instead"}
	}
	host := u.Hostname()
	if s.isAllowed(host) {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ok, err := httpx.ResolvesPublic(ctx, host)
	switch {
	case err != nil:
		return &session.Error{Code: session.CodeInvalid, Message: fmt.Sprintf("the webhook host %s cannot be found (DNS: %v)", host, err)}
	case !ok:
		return &session.Error{Code: session.CodeInvalid, Message: fmt.Sprintf("the webhook host %s is on a private network; the server admin can allow it by adding it to POKOR_WEBHOOK_ALLOWED_HOSTS", host)}
	}
	return nil
}

// Sign returns the signature of a delivery: "sha256=" and the hex HMAC-SHA256, under secret,
// of the timestamp (decimal Unix seconds), a dot and the body.
func Sign(secret string, timestamp int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(timestamp, 10)))
	mac.Write([]byte("."))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify checks a delivery as a receiver should: the signature over timestamp and body, and a
// timestamp within Tolerance of now (an old delivery replayed is refused).
func Verify(secret, timestamp, signature string, body []byte, now time.Time) error {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return errors.New("webhook: no valid " + HeaderTimestamp)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > Tolerance || d < -Tolerance {
		return errors.New("webhook: the timestamp is too far from now")
	}
	if !hmac.Equal([]byte(Sign(secret, ts, body)), []byte(signature)) {
		return errors.New("webhook: the signature does not match")
	}
	return nil
}

// Send POSTs one delivery, signed now. A 2xx answer is success; anything else, or no answer, is
// an error worth retrying (CodeUnavailable, with the receiver's Retry-After).
func (s *Sender) Send(ctx context.Context, d *session.Delivery, secret string, guarded bool) error {
	u, err := url.Parse(d.URL)
	if err != nil {
		return &session.Error{Code: session.CodeInvalid, Message: "webhook: the URL cannot be read"}
	}
	client := s.trusted
	if guarded && !s.isAllowed(u.Hostname()) {
		client = s.public
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(d.Body))
	if err != nil {
		return &session.Error{Code: session.CodeInvalid, Message: "webhook: " + err.Error()}
	}
	ts := s.now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", s.agent)
	req.Header.Set(HeaderEvent, d.Event)
	req.Header.Set(HeaderDelivery, d.ID)
	req.Header.Set(HeaderIdempotency, d.EventID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign(secret, ts, d.Body))
	res, err := client.Do(req)
	if err != nil {
		return httpx.Network(ctx, "webhook", u.Host, "delivering "+d.Event, err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		return nil
	}
	e := &session.Error{Code: session.CodeUnavailable, Message: fmt.Sprintf("webhook: %s answered %d", u.Host, res.StatusCode)}
	if wait, ok := httpx.RetryAfter(res.Header, s.now()); ok {
		e.RetryAfter = wait
	}
	return e
}
