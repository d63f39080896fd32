// Package openapitest checks, in tests, that the JSON API answers as its OpenAPI 3.1 description
// (webui/openapi.json) says: a test server's handler is wrapped, and every response to a request
// under /api/v1 is validated against the description with pb33f/libopenapi-validator, which
// supports OpenAPI 3.1 (JSON Schema 2020-12). Routes the description does not have yet are
// skipped here and listed by the route coverage test of package webui.
package openapitest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
)

// Prefix is where the described API lives (the description's server URL).
const Prefix = "/api/v1"

var (
	once    sync.Once
	checker *spec
	loadErr error
)

type spec struct {
	v        validator.Validator
	mu       sync.Mutex // the validator is not documented as safe for concurrent use
	patterns []*regexp.Regexp
}

// paramRE matches a path parameter of the description ("{id}").
var paramRE = regexp.MustCompile(`\{[^}]+\}`)

// load parses the description once per test binary.
func load(doc []byte) (*spec, error) {
	once.Do(func() {
		d, err := libopenapi.NewDocument(doc)
		if err != nil {
			loadErr = err
			return
		}
		v, errs := validator.NewValidator(d)
		if len(errs) > 0 {
			loadErr = fmt.Errorf("building the validator: %v", errs)
			return
		}
		if ok, verrs := v.ValidateDocument(); !ok {
			var msgs []string
			for _, e := range verrs {
				msgs = append(msgs, e.Message+": "+e.Reason)
			}
			loadErr = fmt.Errorf("the description is not valid OpenAPI 3.1: %s", strings.Join(msgs, "; "))
			return
		}
		s := &spec{v: v}
		m, err := d.BuildV3Model()
		if err != nil {
			loadErr = err
			return
		}
		for path := range m.Model.Paths.PathItems.KeysFromOldest() {
			// Quote the literal parts only: QuoteMeta would escape the braces of {param}.
			parts := paramRE.Split(path, -1)
			for i, p := range parts {
				parts[i] = regexp.QuoteMeta(p)
			}
			s.patterns = append(s.patterns, regexp.MustCompile("^"+regexp.QuoteMeta(Prefix)+strings.Join(parts, `[^/]+`)+"$"))
		}
		checker = s
	})
	return checker, loadErr
}

// Wrap returns h checking every response under /api/v1 against doc; what does not validate
// fails t when the test ends, with the request, the status and the reasons.
func Wrap(t testing.TB, doc []byte, h http.Handler) http.Handler {
	t.Helper()
	s, err := load(doc)
	if err != nil {
		t.Fatalf("openapi: %v", err)
	}
	var mu sync.Mutex
	var failures []string
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, f := range failures {
			t.Error(f)
		}
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, Prefix+"/") || !s.described(r.URL.Path) {
			h.ServeHTTP(w, r)
			return
		}
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rec, r)
		if msg := s.check(r, rec); msg != "" {
			mu.Lock()
			failures = append(failures, msg)
			mu.Unlock()
		}
	})
}

func (s *spec) described(path string) bool {
	for _, re := range s.patterns {
		if re.MatchString(path) {
			return true
		}
	}
	return false
}

// check validates one response; it returns what is wrong, or "".
func (s *spec) check(r *http.Request, rec *recorder) string {
	req := r.Clone(r.Context())
	req.Body = http.NoBody
	res := &http.Response{StatusCode: rec.status, Header: rec.Header().Clone(), Body: io.NopCloser(bytes.NewReader(rec.body.Bytes())), Request: req}
	s.mu.Lock()
	ok, errs := s.v.ValidateHttpResponse(req, res)
	s.mu.Unlock()
	if ok {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "openapi: %s %s answered %d, which webui/openapi.json does not describe:", r.Method, r.URL.Path, rec.status)
	for _, e := range errs {
		fmt.Fprintf(&b, "\n  - %s: %s", e.Message, e.Reason)
		for _, se := range e.SchemaValidationErrors {
			fmt.Fprintf(&b, "\n      %s: %s", se.FieldPath, se.Reason)
		}
	}
	body := rec.body.String()
	if len(body) > 600 {
		body = body[:600] + "…"
	}
	fmt.Fprintf(&b, "\n  body: %s", body)
	return b.String()
}

// recorder passes a response through and keeps a copy of its status and body.
type recorder struct {
	http.ResponseWriter
	status int
	wrote  bool
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

// Flush lets streaming handlers flush through the recorder.
func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
