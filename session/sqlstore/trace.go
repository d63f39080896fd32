package sqlstore

import (
	"context"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Trace makes the store record a client span for each statement, transaction and queued round
// write, as children of the span in the caller's context. Call it before the store is used;
// without it (tracing off) the store does no tracing work at all: each helper checks one field.
func (s *Store) Trace(tp trace.TracerProvider) {
	s.tracer = tp.Tracer("github.com/pokor/pokor/session/sqlstore")
}

// trace starts the span of one statement (or of "transaction" and round writes: name given, no
// query) and returns its context and the function that ends it with the call's error:
//
//	if s.tracer != nil {
//		var end func(error)
//		ctx, end = s.trace(ctx, "", query)
//		defer func() { end(err) }()
//	}
//
// Written so that nothing escapes to the heap when tracing is off (no &ctx, no &err): a vote
// costs the same allocations as without tracing.
func (s *Store) trace(ctx context.Context, name, query string) (context.Context, func(error)) {
	system := "sqlite"
	if s.dialect == postgres {
		system = "postgresql"
	}
	attrs := []attribute.KeyValue{attribute.String("db.system.name", system)}
	if query != "" {
		op, table := statement(query)
		name = op
		if table != "" {
			name += " " + table
			attrs = append(attrs, attribute.String("db.collection.name", table))
		}
		// The text holds placeholders, never the values.
		attrs = append(attrs, attribute.String("db.operation.name", op), attribute.String("db.query.text", query))
	}
	ctx, span := s.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	return ctx, func(err error) {
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
		span.End()
	}
}

// statement returns the operation and the table a statement works on ("SELECT", "votes"), for
// the span's name.
func statement(query string) (op, table string) {
	f := strings.Fields(query)
	if len(f) == 0 {
		return "SQL", ""
	}
	op = strings.ToUpper(f[0])
	after := ""
	switch op {
	case "SELECT", "DELETE":
		after = "FROM"
	case "INSERT":
		after = "INTO"
	case "UPDATE":
		return op, strings.Trim(f[1%len(f)], `"(`)
	default:
		return op, ""
	}
	for i, w := range f[:len(f)-1] {
		if strings.EqualFold(w, after) {
			return op, strings.Trim(f[i+1], `"(),`)
		}
	}
	return op, ""
}

// Traced reports whether Trace was called.
func (s *Store) Traced() bool { return s.tracer != nil }
