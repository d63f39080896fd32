package httpx

import (
	"net/http"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/trace"
)

// Traced returns a transport that makes each request a client span (OpenTelemetry's HTTP
// conventions, through the global tracer provider that cmd/pokor installs when tracing is on),
// the child of the span in the request's context: an import in a request's trace, a write-back
// in the worker's. A request whose context holds no span (tracing off) goes straight to next, so
// tracing off costs one context lookup per call.
func Traced(next http.RoundTripper) http.RoundTripper {
	return tracedTransport{plain: next, traced: otelhttp.NewTransport(next)}
}

type tracedTransport struct{ plain, traced http.RoundTripper }

func (t tracedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if trace.SpanContextFromContext(req.Context()).IsValid() {
		return t.traced.RoundTrip(req)
	}
	return t.plain.RoundTrip(req)
}
