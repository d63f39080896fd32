package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace/noop"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/pokor/pokor/session/sessiontest"
)

// otlpReceiver is an OpenTelemetry collector's OTLP/HTTP trace endpoint, in the test's process.
type otlpReceiver struct {
	*httptest.Server
	mu       sync.Mutex
	spans    []*tracepb.Span
	services []string
}

func newOTLPReceiver(t *testing.T) *otlpReceiver {
	t.Helper()
	r := &otlpReceiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodPost || req.URL.Path != "/v1/traces" || req.Header.Get("Content-Type") != "application/x-protobuf" {
			http.Error(w, "want POST /v1/traces as application/x-protobuf", http.StatusBadRequest)
			return
		}
		body, _ := io.ReadAll(req.Body)
		var export coltracepb.ExportTraceServiceRequest
		if err := proto.Unmarshal(body, &export); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		for _, rs := range export.ResourceSpans {
			for _, a := range rs.GetResource().GetAttributes() {
				if a.Key == "service.name" {
					r.services = append(r.services, a.GetValue().GetStringValue())
				}
			}
			for _, ss := range rs.ScopeSpans {
				r.spans = append(r.spans, ss.Spans...)
			}
		}
		r.mu.Unlock()
		out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Write(out)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *otlpReceiver) received() []*tracepb.Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*tracepb.Span(nil), r.spans...)
}

func spanAttr(s *tracepb.Span, key string) string {
	for _, a := range s.Attributes {
		if a.Key == key {
			if v := a.GetValue().GetStringValue(); v != "" {
				return v
			}
			return a.GetValue().String()
		}
	}
	return ""
}

// serveForTest opens and runs a Main with env as its environment, as `pokor serve` does; the
// returned function stops it and closes it (which flushes the traces).
func serveForTest(t *testing.T, env map[string]string, logs io.Writer) (*Main, func()) {
	t.Helper()
	withEnv(t, env)
	cfg, err := loadConfig(nil, getenv)
	if err != nil {
		t.Fatal(err)
	}
	m := NewMain(cfg, newLogger(cfg, logs))
	if err := m.Open(context.Background()); err != nil {
		m.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			<-done
			m.Close()
		})
	}
	t.Cleanup(stop)
	return m, stop
}

// TestTracing exports the traces of an organizer's request, the store calls it makes and the
// write-back to GitHub that follows, to a collector at OTEL_EXPORTER_OTLP_ENDPOINT, and finds
// the request's trace id in the log line of the request.
func TestTracing(t *testing.T) {
	collector := newOTLPReceiver(t)
	gh := newFakeGitHubAPI(t)
	dir := t.TempDir()
	otelEnv := map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": collector.URL,
		"OTEL_SERVICE_NAME":           "pokor-test",
		"OTEL_BSP_SCHEDULE_DELAY":     "50",
	}
	// The exporter reads the process environment; the configuration table reads getenv.
	for k, v := range otelEnv {
		t.Setenv(k, v)
	}
	t.Cleanup(func() { otel.SetTracerProvider(noop.NewTracerProvider()) })
	env := map[string]string{
		"POKOR_ADDR": "127.0.0.1:0", "POKOR_DATABASE_URL": "sqlite:" + filepath.Join(dir, "pokor.db"),
		"POKOR_SECRET_KEY": testSecretKey, "GITHUB_TOKEN": githubToken, "GITHUB_API_URL": gh.URL,
		"POKOR_LOG_FORMAT": "json",
	}
	for k, v := range otelEnv {
		env[k] = v
	}
	var logs sessiontest.Logs
	m, stop := serveForTest(t, env, &logs)
	if m.Tracing == nil {
		t.Fatal("tracing is off with OTEL_EXPORTER_OTLP_ENDPOINT set")
	}

	acceptGitHubEstimate(t, jsonCaller(t, "http://"+m.Addr()))
	gh.waitWrites(t, 10*time.Second)
	stop() // flushes the batch of spans

	spans := collector.received()
	byID := map[string]*tracepb.Span{}
	for _, s := range spans {
		byID[hex.EncodeToString(s.SpanId)] = s
	}
	find := func(what string, ok func(*tracepb.Span) bool) *tracepb.Span {
		t.Helper()
		for _, s := range spans {
			if ok(s) {
				return s
			}
		}
		var names []string
		for _, s := range spans {
			names = append(names, s.Name)
		}
		t.Fatalf("no span of %s among %d: %v", what, len(spans), names)
		return nil
	}
	// The request: a server span named after its route.
	create := find("the request", func(s *tracepb.Span) bool {
		return s.Kind == tracepb.Span_SPAN_KIND_SERVER && s.Name == "POST /api/v1/sessions"
	})
	if got := spanAttr(create, "http.route"); got != "/api/v1/sessions" {
		t.Errorf("http.route %q", got)
	}
	// Its store calls: client spans in the same trace, below the request.
	store := find("a store call of the request", func(s *tracepb.Span) bool {
		return spanAttr(s, "db.system.name") == "sqlite" && bytes.Equal(s.TraceId, create.TraceId)
	})
	if store.Kind != tracepb.Span_SPAN_KIND_CLIENT || len(store.ParentSpanId) == 0 {
		t.Errorf("store span %q: kind %v, parent %x", store.Name, store.Kind, store.ParentSpanId)
	}
	// The vote: its round write is traced too.
	find("the vote's round write", func(s *tracepb.Span) bool { return s.Name == "round write" })
	// The tracker call: a client span to GitHub below the write-back worker's span.
	ghCall := find("the write-back's call to GitHub", func(s *tracepb.Span) bool {
		return s.Kind == tracepb.Span_SPAN_KIND_CLIENT && strings.Contains(spanAttr(s, "url.full"), "/repos/acme/api/issues/1/labels")
	})
	root := ghCall
	for len(root.ParentSpanId) > 0 && byID[hex.EncodeToString(root.ParentSpanId)] != nil {
		root = byID[hex.EncodeToString(root.ParentSpanId)]
	}
	if root.Name != "write-back github" || spanAttr(root, "pokor.write_back.state") != "delivered" {
		t.Errorf("the GitHub call's root span is %q (state %q), want the write-back's", root.Name, spanAttr(root, "pokor.write_back.state"))
	}
	if strings.Contains(spanAttr(ghCall, "url.full"), githubToken) {
		t.Error("a span holds the token")
	}
	collector.mu.Lock()
	if len(collector.services) == 0 || collector.services[0] != "pokor-test" {
		t.Errorf("service.name %v, want OTEL_SERVICE_NAME", collector.services)
	}
	collector.mu.Unlock()

	// The log line of the request names its trace.
	traceID := hex.EncodeToString(create.TraceId)
	found := false
	for _, line := range strings.Split(logs.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "request" && rec["path"] == "/api/v1/sessions" {
			found = rec["trace_id"] == traceID && rec["span_id"] != ""
		}
	}
	if !found {
		t.Errorf("no request log line with trace_id %s:\n%s", traceID, logs.String())
	}
	// And the write-back's line names the write-back's trace.
	found = false
	for _, line := range strings.Split(logs.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "estimate written back" {
			found = rec["trace_id"] == hex.EncodeToString(root.TraceId)
		}
	}
	if !found {
		t.Errorf("no write-back log line with trace_id %x:\n%s", root.TraceId, logs.String())
	}
}

// TestTracingOff: without OTEL_EXPORTER_OTLP_ENDPOINT nothing is set up and logs carry no ids.
func TestTracingOff(t *testing.T) {
	var logs sessiontest.Logs
	m, stop := serveForTest(t, map[string]string{
		"POKOR_ADDR": "127.0.0.1:0", "POKOR_DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "pokor.db"),
		"POKOR_LOG_FORMAT": "json",
	}, &logs)
	if m.Tracing != nil || m.Store.Traced() {
		t.Fatal("tracing is on without an endpoint")
	}
	res, err := http.Post("http://"+m.Addr()+"/api/v1/sessions", "application/json", strings.NewReader(`{"name":"Ann"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	stop()
	if !strings.Contains(logs.String(), `"msg":"request"`) || strings.Contains(logs.String(), "trace_id") {
		t.Errorf("logs:\n%s", logs.String())
	}
	for _, v := range []string{"OTEL_SDK_DISABLED", "OTEL_TRACES_EXPORTER"} {
		val := map[string]string{"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "none"}[v]
		env := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", v: val}
		if tracingEnabled(func(k string) string { return env[k] }) {
			t.Errorf("%s=%s does not turn tracing off", v, val)
		}
	}
	if _, err := setupTracing(context.Background(), func(k string) string {
		return map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}[k]
	}, nil); err == nil || !strings.Contains(err.Error(), "http/protobuf") {
		t.Errorf("OTLP over gRPC: %v", err)
	}
}
