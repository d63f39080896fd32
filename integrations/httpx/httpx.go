// Package httpx is what every tracker adapter needs from HTTP, written once: JSON requests with
// a bounded answer, Retry-After, an HTTP status as the domain's error code, network failures as
// retryable errors, and a guard for sites that organizers type. Errors are *session.Error whose
// message starts with the tracker's name and never holds a credential.
package httpx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pokor/pokor/session"
)

// DefaultTimeout bounds one HTTP exchange when an adapter is given no client of its own: the
// write-back worker may call without a deadline, and a hung connection must not hold it.
const DefaultTimeout = 30 * time.Second

// MaxBody caps how much of an answer is read, so a misbehaving proxy cannot exhaust memory.
const MaxBody = 16 << 20

// minRateLimitWait is the least pause after a rate limit: coming back at once would only spend
// an attempt on another refusal.
const minRateLimitWait = time.Second

// Errorf returns a *session.Error of code whose message is "<provider>: <message>".
func Errorf(provider string, code session.Code, format string, args ...any) *session.Error {
	return &session.Error{Code: code, Message: provider + ": " + fmt.Sprintf(format, args...)}
}

// Wrap is Errorf keeping err as the cause.
func Wrap(provider string, code session.Code, err error, format string, args ...any) *session.Error {
	e := Errorf(provider, code, format, args...)
	e.Err = err
	return e
}

// Code is the domain's code for an HTTP status that is not a success: 401 and 403 forbidden,
// 404 and 410 not found, 408, 409, 425, 429 and 5xx unavailable (retried), other 4xx invalid.
func Code(status int) session.Code {
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return session.CodeForbidden
	case status == http.StatusNotFound || status == http.StatusGone:
		return session.CodeNotFound
	case status == http.StatusRequestTimeout || status == http.StatusConflict || status == http.StatusTooEarly ||
		status == http.StatusTooManyRequests || status >= 500:
		return session.CodeUnavailable
	}
	return session.CodeInvalid
}

// RetryAfter reads a Retry-After header given in seconds or as an HTTP date. ok is false when
// the header is absent or unreadable; a date in the past is a zero wait.
func RetryAfter(h http.Header, now time.Time) (wait time.Duration, ok bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Duration(max(secs, 0)) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0).Round(time.Second), true
	}
	return 0, false
}

// RateLimited is the error for a request the tracker held back: retryable after wait, which is
// rounded up to whole seconds and at least one.
func RateLimited(provider string, wait time.Duration, format string, args ...any) *session.Error {
	wait = max(wait, minRateLimitWait)
	if r := wait % time.Second; r != 0 {
		wait += time.Second - r
	}
	e := Errorf(provider, session.CodeUnavailable, format, args...)
	e.RetryAfter = wait
	return e
}

// Network is the error for a request that got no HTTP answer: retryable, since the site may be
// back in a moment. what names the operation ("read issue API-12"), host the site.
func Network(ctx context.Context, provider, host, what string, err error) *session.Error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		err = ctxErr
	}
	if e, ok := NetworkError(provider, host, what, err); ok {
		return e
	}
	return Wrap(provider, session.CodeUnavailable, err, "%s: %v", couldNot(what, "the request to "+host+" failed"), err)
}

// NetworkError words err when it is a network failure or a context that ended (ok false for
// anything else, an adapter's own error for instance). what may be empty.
func NetworkError(provider, host, what string, err error) (*session.Error, bool) {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return Wrap(provider, session.CodeUnavailable, err, "%s did not answer in time", prefix(what)+host), true
	}
	var ue *url.Error
	var ne net.Error
	if !errors.As(err, &ue) && !errors.As(err, &ne) {
		return nil, false
	}
	cause := err
	if ue != nil {
		// url.Error repeats the method and address; the message already names the host.
		cause = ue.Err
	}
	return Wrap(provider, session.CodeUnavailable, err, "%scannot reach %s: %v", prefix(what), host, cause), true
}

// prefix is "could not <what>: ", or nothing when what is empty.
func prefix(what string) string {
	if what == "" {
		return ""
	}
	return "could not " + what + ": "
}

func couldNot(what, otherwise string) string {
	if what == "" {
		return otherwise
	}
	return "could not " + what
}

// NewClient returns a copy of hc (nil: a client with DefaultTimeout) whose transport is wrap of
// the original one, so an adapter can add its headers without changing the caller's client.
// Its requests are traced (Traced) when tracing is on.
func NewClient(hc *http.Client, wrap func(next http.RoundTripper) http.RoundTripper) *http.Client {
	out := &http.Client{Timeout: DefaultTimeout}
	if hc != nil {
		copied := *hc
		out = &copied
	}
	next := out.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	if wrap != nil {
		next = wrap(next)
	}
	out.Transport = Traced(next)
	return out
}

// HeaderFor sets headers on the requests to one host only: a redirect to another host must not
// carry the credentials along.
func HeaderFor(host string, header http.Header) func(next http.RoundTripper) http.RoundTripper {
	return func(next http.RoundTripper) http.RoundTripper {
		return roundTripper(func(req *http.Request) (*http.Response, error) {
			if !strings.EqualFold(req.URL.Host, host) {
				return next.RoundTrip(req)
			}
			r := req.Clone(req.Context())
			for k, vs := range header {
				r.Header[k] = vs
			}
			return next.RoundTrip(r)
		})
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// API sends JSON requests to one tracker's API.
type API struct {
	// Provider names the tracker in errors ("jira").
	Provider string
	// Base is the API root; request paths are joined to it, so a base with a path (a Data
	// Center context path, a proxy prefix) keeps it.
	Base *url.URL
	HTTP *http.Client
	// Header is added to every request (Accept, a version header); credentials belong in the
	// client's transport (HeaderFor).
	Header http.Header
}

// Response is a complete answer: status, headers and the body read (at most MaxBody).
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// OK reports a 2xx status.
func (r *Response) OK() bool { return r.Status >= 200 && r.Status < 300 }

// Decode reads the body as JSON into out; a body that is not the documented JSON is a
// retryable error (a proxy's error page), worded with what.
func (a *API) Decode(r *Response, out any, what string) error {
	if out == nil || len(bytes.TrimSpace(r.Body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(r.Body, out); err != nil {
		return Wrap(a.Provider, session.CodeUnavailable, err,
			"could not %s: %s answered something that is not the documented JSON (%v)", what, a.Base.Host, err)
	}
	return nil
}

// Do sends one request: path is relative to Base, body (when not nil) is sent as JSON. It
// returns the answer whatever its status; the error is set only when there is no answer (a
// network failure, a body cut short), and is then a retryable *session.Error.
func (a *API) Do(ctx context.Context, method, path string, query url.Values, body any, what string) (*Response, error) {
	u := a.Base.JoinPath(strings.TrimPrefix(path, "/"))
	if len(query) > 0 {
		u.RawQuery = query.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, Wrap(a.Provider, session.CodeInvalid, err, "could not %s: %v", what, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, Wrap(a.Provider, session.CodeInvalid, err, "could not %s: %v", what, err)
	}
	for k, vs := range a.Header {
		req.Header[k] = vs
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	if body != nil && req.Header.Get("Content-Type") == "" {
		// A JSON variant set in Header (application/json-patch+json) is kept.
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.HTTP.Do(req)
	if err != nil {
		return nil, Network(ctx, a.Provider, a.Base.Host, what, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody))
	if err != nil {
		return nil, Network(ctx, a.Provider, a.Base.Host, what, err)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: data}, nil
}
