package notion

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// apiHost is where notionapi sends every request; the library has no option to change it.
const apiHost = "api.notion.com"

// maxErrorBody caps how much of an error response is kept; Notion's error objects are tiny.
const maxErrorBody = 64 << 10

// transport sits under notionapi: it sends api.notion.com requests to NOTION_API_URL when one
// is set, paces requests to Notion's rate limit, and tidies error responses for the library.
type transport struct {
	base   http.RoundTripper
	target *url.URL // replaces scheme and host of api.notion.com requests; nil keeps them
	pace   *pacer
}

// RoundTrip implements http.RoundTripper.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.target != nil && req.URL.Host == apiHost {
		req = rewrite(req, t.target)
	}
	if err := t.pace.wait(req.Context()); err != nil {
		if req.Body != nil {
			req.Body.Close() // a RoundTripper closes the body even when it sends nothing
		}
		return nil, err
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusOK {
		return resp, nil
	}
	if d, ok := retryAfter(resp); ok {
		t.pace.pause(d)
	} else if resp.StatusCode == http.StatusTooManyRequests {
		// A 429 without Retry-After still means "slow down"; one second is Notion's average
		// budget for three requests.
		t.pace.pause(time.Second)
	}
	if err := normalizeErrorBody(resp); err != nil {
		return nil, err
	}
	return resp, nil
}

// rewrite returns a copy of req aimed at target, keeping the API path under target's own path
// (so NOTION_API_URL may be a proxy prefix such as https://proxy.example/notion).
func rewrite(req *http.Request, target *url.URL) *http.Request {
	out := req.Clone(req.Context())
	out.URL.Scheme = target.Scheme
	out.URL.Host = target.Host
	prefix := strings.TrimSuffix(target.Path, "/")
	// Accept NOTION_API_URL with or without the version, since both forms circulate in docs.
	prefix = strings.TrimSuffix(prefix, "/v1")
	out.URL.Path = prefix + req.URL.Path
	out.URL.RawPath = ""
	out.Host = target.Host
	return out
}

// normalizeErrorBody reads a non-200 body into memory and closes the connection's body:
// notionapi reads error bodies but never closes them, which would leak the connection. A body
// that is not Notion's error object (an HTML page from a proxy, an empty 502) is replaced by
// one, so the library still reports the status instead of a JSON syntax error.
func normalizeErrorBody(resp *http.Response) error {
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("reading Notion's %d response: %w", resp.StatusCode, err)
	}
	var obj struct {
		Object string `json:"object"`
		Status int    `json:"status"`
	}
	if json.Unmarshal(data, &obj) != nil || obj.Object != "error" || obj.Status == 0 {
		data, _ = json.Marshal(map[string]any{
			"object":  "error",
			"status":  resp.StatusCode,
			"code":    statusCode(resp.StatusCode),
			"message": http.StatusText(resp.StatusCode),
		})
	}
	resp.Body = io.NopCloser(bytes.NewReader(data))
	resp.ContentLength = int64(len(data))
	resp.Header.Del("Content-Length")
	return nil
}

// statusCode names an HTTP status the way Notion names its error codes ("bad_gateway").
func statusCode(status int) string {
	text := http.StatusText(status)
	if text == "" {
		return "http_" + strconv.Itoa(status)
	}
	return strings.ToLower(strings.ReplaceAll(text, " ", "_"))
}

// retryAfter reads the Retry-After header: Notion sends whole seconds; an HTTP date is
// accepted too because proxies in front of Notion may send one.
func retryAfter(resp *http.Response) (time.Duration, bool) {
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0), true
	}
	return 0, false
}

// pacer spaces requests to Notion's documented average of three requests a second, allowing a
// burst of three, and holds every request back while Notion has asked to pause. It is a
// generic cell rate algorithm: tat is the theoretical arrival time of the next request.
type pacer struct {
	interval time.Duration // average spacing between requests
	burst    int           // requests that may go back to back
	maxWait  time.Duration // longest pause a request sits out before failing with a rate-limit error

	mu          sync.Mutex
	tat         time.Time
	pausedUntil time.Time
}

func newPacer() *pacer {
	return &pacer{interval: time.Second / 3, burst: 3, maxWait: maxInlineWait}
}

// wait blocks until a request may be sent. When Notion asked for a pause longer than maxWait
// it returns a rate-limit error at once rather than holding the caller for it.
func (p *pacer) wait(ctx context.Context) error {
	now := time.Now()
	p.mu.Lock()
	if pause := p.pausedUntil.Sub(now); pause > p.maxWait {
		p.mu.Unlock()
		return rateLimited(pause)
	}
	tat := p.tat
	if tat.Before(now) {
		tat = now
	}
	send := tat.Add(-time.Duration(p.burst-1) * p.interval)
	if send.Before(now) {
		send = now
	}
	if send.Before(p.pausedUntil) {
		send = p.pausedUntil
	}
	if tat.Before(send) {
		tat = send
	}
	p.tat = tat.Add(p.interval)
	p.mu.Unlock()

	delay := send.Sub(now)
	if delay <= 0 {
		return nil
	}
	timer := time.NewTimer(delay)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pause holds every request for d, as Notion asked with Retry-After.
func (p *pacer) pause(d time.Duration) {
	until := time.Now().Add(d)
	p.mu.Lock()
	if until.After(p.pausedUntil) {
		p.pausedUntil = until
	}
	p.mu.Unlock()
}

// remaining is how long the current pause still lasts, zero when there is none.
func (p *pacer) remaining() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return max(time.Until(p.pausedUntil), 0)
}
