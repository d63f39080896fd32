package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// Tracing is OpenTelemetry's, configured by its standard variables (OTEL_EXPORTER_OTLP_ENDPOINT,
// OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER, …; docs/configuration.md), read by the SDK itself.
// Without an endpoint nothing is set up: the global tracer provider stays OpenTelemetry's no-op
// one, the store and the server are not wrapped, and a vote costs what it cost before.

// tracingEnabled reports whether traces are to be exported.
func tracingEnabled(getenv func(string) string) bool {
	if strings.EqualFold(getenv("OTEL_SDK_DISABLED"), "true") || strings.EqualFold(getenv("OTEL_TRACES_EXPORTER"), "none") {
		return false
	}
	return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// setupTracing returns the tracer provider exporting by OTLP over HTTP and installs it (and the
// W3C trace context propagator) as OpenTelemetry's global, or nil when tracing is off.
// exporter replaces the OTLP exporter in tests; nil builds it from the environment.
func setupTracing(ctx context.Context, getenv func(string) string, exporter sdktrace.SpanExporter) (*sdktrace.TracerProvider, error) {
	if exporter == nil && !tracingEnabled(getenv) {
		return nil, nil
	}
	if exporter == nil {
		proto := getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
		if proto == "" {
			proto = getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
		}
		if proto != "" && proto != "http/protobuf" {
			return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL=%s: Pokor exports OTLP over HTTP only; set http/protobuf and the collector's OTLP/HTTP port (4318)", proto)
		}
		var err error
		if exporter, err = otlptracehttp.New(ctx); err != nil {
			return nil, fmt.Errorf("OTLP trace exporter: %w", err)
		}
	}
	// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES come last, so they win over the defaults.
	res, err := resource.New(ctx,
		resource.WithAttributes(semconv.ServiceName("pokor"), semconv.ServiceVersion(version)),
		resource.WithHost(), resource.WithTelemetrySDK(), resource.WithFromEnv())
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, fmt.Errorf("OTEL_RESOURCE_ATTRIBUTES: %w", err)
	}
	// The sampler comes from OTEL_TRACES_SAMPLER (default: parent-based, always on) and the batch
	// from OTEL_BSP_*: the SDK reads them.
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter), sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	return tp, nil
}

// traceHTTP wraps the server's handler: one server span per request, continuing the trace of a
// proxy or client that sent a traceparent header. webui names the span after its route. Room
// sockets (hours long) and the probes and metrics scrapes are left out.
func traceHTTP(h http.Handler, tp trace.TracerProvider) http.Handler {
	return otelhttp.NewHandler(h, "pokor",
		otelhttp.WithTracerProvider(tp),
		otelhttp.WithFilter(func(r *http.Request) bool {
			switch r.URL.Path {
			case "/healthz", "/readyz", "/metrics":
				return false
			}
			return !strings.HasSuffix(r.URL.Path, "/ws")
		}))
}

// tracedClient returns a copy of hc whose requests are client spans,
// children of the span in the request's context: the trackers' and the chat platforms' APIs.
// With tracing off the copy is hc itself.
func tracedClient(hc *http.Client, tp *sdktrace.TracerProvider) *http.Client {
	if tp == nil {
		return hc
	}
	copied := *hc
	out := &copied
	next := out.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	out.Transport = otelhttp.NewTransport(next, otelhttp.WithTracerProvider(tp))
	return out
}

// chatHTTP is the client of the chat platforms' API calls when tracing is on, nil otherwise (each
// platform keeps its own default). 15 s bounds a call, between the platforms' own defaults.
func (m *Main) chatHTTP() *http.Client {
	if m.Tracing == nil {
		return nil
	}
	return tracedClient(&http.Client{Timeout: 15 * time.Second}, m.Tracing)
}

// traceLogHandler adds the trace and span ids of the record's context to each log line, so that
// a log line leads to its trace and back.
type traceLogHandler struct{ slog.Handler }

func (h traceLogHandler) Handle(ctx context.Context, r slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

func (h traceLogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return traceLogHandler{h.Handler.WithAttrs(attrs)}
}

func (h traceLogHandler) WithGroup(name string) slog.Handler {
	return traceLogHandler{h.Handler.WithGroup(name)}
}
