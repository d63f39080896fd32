package webui

import (
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestOpenAPIRoutes: every route registered under /api/v1 is described in openapi.json, and the
// description names no route that does not exist. A route added without its description fails
// here by name: describe it in webui/openapi.json (docs/api.md says what it does).
func TestOpenAPIRoutes(t *testing.T) {
	ts := newTestServer(t, "")
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openapiJSON, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Errorf("openapi = %q, want 3.1.x", doc.OpenAPI)
	}
	described := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			described[strings.ToUpper(method)+" /api/v1"+path] = true
		}
	}
	param := regexp.MustCompile(`:([A-Za-z_]+)`)
	var missing []string
	registered := map[string]bool{}
	for _, r := range ts.web.engine.Routes() {
		if !strings.HasPrefix(r.Path, "/api/v1/") {
			continue
		}
		key := r.Method + " " + param.ReplaceAllString(r.Path, "{$1}")
		registered[key] = true
		if !described[key] {
			missing = append(missing, key)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("%d routes under /api/v1 are not described in webui/openapi.json:\n  %s", len(missing), strings.Join(missing, "\n  "))
	}
	var stale []string
	for key := range described {
		if !registered[key] {
			stale = append(stale, key)
		}
	}
	sort.Strings(stale)
	if len(stale) > 0 {
		t.Errorf("webui/openapi.json describes routes that do not exist:\n  %s", strings.Join(stale, "\n  "))
	}
}

// TestOpenAPIServed: the description is served, as JSON, to anyone.
func TestOpenAPIServed(t *testing.T) {
	ts := newTestServer(t, "")
	res, err := http.Get(ts.http.URL + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var doc map[string]any
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") || json.NewDecoder(res.Body).Decode(&doc) != nil || doc["openapi"] != "3.1.0" {
		t.Errorf("GET /api/v1/openapi.json: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
}
