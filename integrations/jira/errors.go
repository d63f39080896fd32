package jira

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pokor/pokor/integrations"
)

// errorCollection is Jira's documented error body: {"errorMessages": [...], "errors": {field: msg}}.
type errorCollection struct {
	ErrorMessages []string          `json:"errorMessages"`
	Errors        map[string]string `json:"errors"`
}

// parseErrorCollection decodes an error body whatever its Content-Type says: go-jira's
// NewJiraError ignores bodies not labelled application/json, and proxies mislabel them.
func parseErrorCollection(body []byte) errorCollection {
	var ec errorCollection
	if err := json.Unmarshal(body, &ec); err != nil {
		return errorCollection{}
	}
	return ec
}

// messages returns Jira's messages in a stable order: general ones first, then "field: message"
// sorted by field.
func (ec errorCollection) messages() []string {
	var out []string
	for _, m := range ec.ErrorMessages {
		if m = strings.TrimSpace(m); m != "" {
			out = append(out, m)
		}
	}
	fields := make([]string, 0, len(ec.Errors))
	for f := range ec.Errors {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	for _, f := range fields {
		out = append(out, f+": "+strings.TrimSpace(ec.Errors[f]))
	}
	return out
}

// jiraSays renders Jira's messages as a suffix for our own sentence, or "" when there are none.
func jiraSays(ec errorCollection) string {
	msgs := ec.messages()
	if len(msgs) == 0 {
		return ""
	}
	return " (Jira says: " + strings.Join(msgs, "; ") + ")"
}

// httpError is the cause kept in an *integrations.Error for a non-2xx answer, so callers can
// look at the status and at Jira's per-field messages.
type httpError struct {
	Status int
	Body   errorCollection
}

func (e *httpError) Error() string { return fmt.Sprintf("HTTP %d", e.Status) }

// statusError maps a non-2xx answer to an *integrations.Error whose kind tells the write-back
// worker whether to retry. what names the operation ("read issue API-12"); credentials names
// the kind of credentials used, never their value.
func statusError(resp *http.Response, body []byte, what, credentials string) *integrations.Error {
	ec := parseErrorCollection(body)
	says := jiraSays(ec)
	e := &integrations.Error{Provider: provider, Err: &httpError{Status: resp.StatusCode, Body: ec}}
	switch code := resp.StatusCode; {
	case code == http.StatusBadRequest || code == http.StatusUnprocessableEntity:
		e.Kind = integrations.KindInvalid
		if says == "" {
			says = fmt.Sprintf(" (Jira refused the request with status %d)", code)
		}
		e.Message = "could not " + what + says
	case code == http.StatusUnauthorized:
		e.Kind = integrations.KindAuth
		fix := "check the email and the API token, or create a new token at https://id.atlassian.com/manage-profile/security/api-tokens"
		if credentials == "personal access token" {
			fix = "check the personal access token; it may have expired or been revoked"
		}
		e.Message = fmt.Sprintf("could not %s: Jira refused the %s (401): %s", what, credentials, fix)
	case code == http.StatusForbidden:
		e.Kind = integrations.KindPermission
		e.Message = "could not " + what + ": these credentials are not allowed to (403)" + says
	case code == http.StatusNotFound:
		e.Kind = integrations.KindNotFound
		e.Message = "could not " + what + ": it does not exist or these credentials cannot see it (404)" + says
	case code == http.StatusTooManyRequests:
		e.Kind = integrations.KindRateLimited
		e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), time.Now())
		e.Message = "could not " + what + ": Jira is rate limiting these credentials (429)"
		if e.RetryAfter > 0 {
			e.Message += ", retry after " + e.RetryAfter.String()
		}
	case code == http.StatusConflict:
		// Jira answers 409 when another update of the same issue is in flight; a later attempt
		// succeeds.
		e.Kind = integrations.KindUnavailable
		e.Message = "could not " + what + ": another update of the issue was in progress (409), will retry" + says
	case code >= 500:
		e.Kind = integrations.KindUnavailable
		e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), time.Now())
		e.Message = fmt.Sprintf("could not %s: Jira is unavailable (%d), try again later", what, code)
	default:
		e.Kind = integrations.KindInvalid
		e.Message = fmt.Sprintf("could not %s: unexpected answer %d", what, code) + says
	}
	return e
}

// retryAfter reads a Retry-After header given in seconds or as an HTTP date; zero when absent
// or unreadable.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now).Round(time.Second)
	}
	return 0
}
