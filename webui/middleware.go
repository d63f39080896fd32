package webui

import (
	"bytes"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"runtime/debug"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/pokor/pokor/session"
)

// logRequests logs one line per request. It logs the path without the query string: pre-signed
// link tokens travel in the query and must never reach a log.
func (s *Server) logRequests(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	s.metrics.observe(route, c.Request.Method, c.Writer.Status(), time.Since(start))
	// With tracing on, the request's server span is named after its route ("POST
	// /api/v1/sessions/:id/stories"); off, the span is a no-op and records nothing.
	if span := trace.SpanFromContext(c.Request.Context()); span.IsRecording() {
		span.SetName(c.Request.Method + " " + route)
		span.SetAttributes(attribute.String("http.route", route))
	}
	if route == "/s/:id/ws" || route == "/healthz" || route == "/readyz" || route == "/metrics" {
		return
	}
	s.log.InfoContext(c.Request.Context(), "request", "method", c.Request.Method, "path", c.Request.URL.Path, "status", c.Writer.Status(),
		"duration_ms", time.Since(start).Milliseconds())
}

func (s *Server) recover(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			if r == http.ErrAbortHandler {
				panic(r)
			}
			s.log.Error("panic", "path", c.Request.URL.Path, "panic", r, "stack", string(debug.Stack()))
			writeError(c, &session.Error{Code: session.CodeInternal, Message: "internal error"})
		}
	}()
	c.Next()
}

func securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	c.Next()
}

// csrf refuses state-changing API requests that come from another site. Browsers send
// Sec-Fetch-Site (and Origin) with every such request; a cross-site form cannot send JSON
// without a CORS preflight, which we never grant, so requiring application/json closes the rest.
func (s *Server) csrf(c *gin.Context) {
	switch c.Request.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		c.Next()
		return
	}
	if site := c.GetHeader("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		writeError(c, session.Errorf(session.CodeForbidden, "cross-site request refused"))
		return
	}
	if origin := c.GetHeader("Origin"); origin != "" && !sameOrigin(origin, c.Request, s.cfg.BaseURL) {
		writeError(c, session.Errorf(session.CodeForbidden, "cross-site request refused: Origin %s is not this server", origin))
		return
	}
	if c.Request.ContentLength != 0 && c.ContentType() != "application/json" {
		writeError(c, &session.Error{Code: session.CodeInvalid, Message: "send the request body as JSON with Content-Type: application/json"})
		return
	}
	c.Next()
}

// sameOrigin reports whether origin is the host the request was sent to, or the public base URL.
func sameOrigin(origin string, r *http.Request, baseURL string) bool {
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	if u.Host == r.Host {
		return true
	}
	b, err := url.Parse(baseURL)
	return err == nil && b.Host == u.Host && b.Scheme == u.Scheme
}

func limitBody(n int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, n)
		c.Next()
	}
}

// httpStatus maps each error code to its HTTP status, once for the whole API.
var httpStatus = map[session.Code]int{
	session.CodeInvalid:     http.StatusBadRequest,
	session.CodeNotFound:    http.StatusNotFound,
	session.CodeForbidden:   http.StatusForbidden,
	session.CodeConflict:    http.StatusConflict,
	session.CodeUnavailable: http.StatusServiceUnavailable,
	session.CodeRateLimited: http.StatusTooManyRequests,
	session.CodeInternal:    http.StatusInternalServerError,
}

// errorBody is the JSON shape of every API error.
type errorBody struct {
	Code    session.Code `json:"code"`
	Message string       `json:"message"`
	Field   string       `json:"field,omitempty"`
}

func toErrorBody(err error) errorBody {
	body := errorBody{Code: session.ErrorCode(err), Message: session.ErrorMessage(err)}
	var e *session.Error
	if errors.As(err, &e) {
		body.Field = e.Field
	}
	return body
}

// writeError answers with the error's status and a message the user can act on. Internal
// errors are logged with their cause and shown without it.
func writeError(c *gin.Context, err error) {
	if session.ErrorCode(err) == session.CodeInternal {
		slogFrom(c).Error("request failed", "path", c.Request.URL.Path, "err", err)
	}
	c.AbortWithStatusJSON(httpStatus[session.ErrorCode(err)], gin.H{"error": toErrorBody(err)})
}

// decodeJSON reads a JSON body into v with a message that says what is wrong.
func decodeJSON(c *gin.Context, v any) error {
	if c.Request.ContentLength == 0 {
		return nil
	}
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &session.Error{Code: session.CodeInvalid, Message: "the request body is larger than 1 MiB"}
		}
		return &session.Error{Code: session.CodeInvalid, Message: "the request body could not be read: " + err.Error()}
	}
	if len(body) == 0 {
		return nil
	}
	// encoding/json would store invalid bytes as U+FFFD; refuse them instead (RFC 8259 section 8.1).
	if !utf8.Valid(body) {
		return &session.Error{Code: session.CodeInvalid, Message: "the request body is not valid UTF-8: JSON text must be UTF-8"}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &session.Error{Code: session.CodeInvalid, Message: "the request body is not valid JSON for this endpoint: " + err.Error()}
	}
	return nil
}

// jsonForScript renders v as JSON safe to embed in a <script type="application/json"> element.
func jsonForScript(v any) (template.JS, error) {
	b, err := json.Marshal(v)
	return template.JS(b), err
}
