package session

import (
	"context"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// tracer records the write-back worker's spans through OpenTelemetry's global provider: a no-op
// unless cmd/pokor installed an exporting one (OTEL_EXPORTER_OTLP_ENDPOINT).
var tracer = otel.Tracer("github.com/pokor/pokor/session")

// deliverTraced is deliver inside a span of its own: the root of one delivery attempt, with the
// tracker's HTTP calls as its children.
func (s *Service) deliverTraced(ctx context.Context, o *Outbox) time.Duration {
	ctx, span := tracer.Start(ctx, "write-back "+o.Source, trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(attribute.String("pokor.tracker", o.Source), attribute.String("pokor.session.id", o.SessionID),
			attribute.String("pokor.story.key", o.ExternalKey), attribute.Int("pokor.write_back.attempt", o.Attempts+1)))
	defer span.End()
	pause := s.deliver(ctx, o)
	span.SetAttributes(attribute.String("pokor.write_back.state", string(o.State)))
	if o.State != OutboxDelivered && o.LastError != "" {
		span.SetStatus(codes.Error, o.LastError)
	}
	return pause
}
