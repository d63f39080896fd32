package jira

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/pokor/pokor/integrations/httpx"
	"github.com/pokor/pokor/session"
)

// errorCollection is Jira's documented error body: {"errorMessages": [...], "errors": {field: msg}}.
type errorCollection struct {
	ErrorMessages []string          `json:"errorMessages"`
	Errors        map[string]string `json:"errors"`
}

// parseErrorCollection decodes an error body whatever its Content-Type says: proxies mislabel
// them.
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

// httpError is the cause kept in an *session.Error for a non-2xx answer, so callers can
// look at the status and at Jira's per-field messages.
type httpError struct {
	Status int
	Body   errorCollection
}

func (e *httpError) Error() string { return fmt.Sprintf("HTTP %d", e.Status) }

// statusError maps a non-2xx answer to a *session.Error whose code tells the write-back
// worker whether to retry (httpx.Code). what names the operation ("read issue API-12");
// credentials names the kind of credentials used, never their value.
func statusError(resp *httpx.Response, what, credentials string) *session.Error {
	ec := parseErrorCollection(resp.Body)
	says := jiraSays(ec)
	code := resp.Status
	e := &session.Error{Code: httpx.Code(code), Err: &httpError{Status: code, Body: ec}}
	var msg string
	switch {
	case code == http.StatusBadRequest || code == http.StatusUnprocessableEntity:
		if says == "" {
			says = fmt.Sprintf(" (Jira refused the request with status %d)", code)
		}
		msg = "could not " + what + says
	case code == http.StatusUnauthorized:
		fix := "check the email and the API token, or create a new token at https://id.atlassian.com/manage-profile/security/api-tokens"
		if credentials == "personal access token" {
			fix = "check the personal access token; it may have expired or been revoked"
		}
		msg = fmt.Sprintf("could not %s: Jira refused the %s (401): %s", what, credentials, fix)
	case code == http.StatusForbidden:
		msg = "could not " + what + ": these credentials are not allowed to (403)" + says
	case code == http.StatusNotFound:
		msg = "could not " + what + ": it does not exist or these credentials cannot see it (404)" + says
	case code == http.StatusTooManyRequests:
		wait, _ := httpx.RetryAfter(resp.Header, time.Now())
		msg = "could not " + what + ": Jira is rate limiting these credentials (429)"
		if wait > 0 {
			msg += ", retry after " + wait.String()
		}
		r := httpx.RateLimited(provider, wait, "%s", msg)
		r.Err = e.Err
		return r
	case code == http.StatusConflict:
		// Jira answers 409 when another update of the same issue is in flight; a later attempt
		// succeeds.
		msg = "could not " + what + ": another update of the issue was in progress (409), will retry" + says
	case code >= 500:
		e.RetryAfter, _ = httpx.RetryAfter(resp.Header, time.Now())
		msg = fmt.Sprintf("could not %s: Jira is unavailable (%d), try again later", what, code)
	default:
		e.Code = session.CodeInvalid
		msg = fmt.Sprintf("could not %s: unexpected answer %d", what, code) + says
	}
	e.Message = provider + ": " + msg
	return e
}
