package webui

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/pokor/pokor/session"
)

type metrics struct {
	requests *prometheus.HistogramVec
	actions  *prometheus.CounterVec
	votes    prometheus.Counter
}

func newMetrics(reg *prometheus.Registry, hub *session.Hub) *metrics {
	m := &metrics{
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "pokor_http_request_duration_seconds", Help: "HTTP requests by route, method and status.",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route", "method", "status"}),
		actions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pokor_actions_total", Help: "Room actions (vote, reveal, ...) by outcome, over the API and the WebSocket.",
		}, []string{"action", "outcome"}),
		votes: prometheus.NewCounter(prometheus.CounterOpts{Name: "pokor_votes_total", Help: "Votes stored (each one durable before it was acknowledged)."}),
	}
	reg.MustRegister(m.requests, m.actions, m.votes,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "pokor_ws_connections", Help: "Open room WebSocket connections."},
			func() float64 { return float64(hub.Stats().Connections) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "pokor_rooms", Help: "Rooms with at least one connection."},
			func() float64 { return float64(hub.Stats().Rooms) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "pokor_broadcast_queue_drops_total", Help: "Connections cut loose because their send queue was full."},
			func() float64 { return float64(hub.Stats().Drops) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "pokor_events_delivered_total", Help: "Events queued on connections."},
			func() float64 { return float64(hub.Stats().Delivered) }),
	)
	return m
}

func (m *metrics) observe(route, method string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Observe(d.Seconds())
}

// action counts a room action; pokor_actions_total{action="vote",outcome="ok"} counts votes.
func (m *metrics) action(name string, err error) {
	outcome := "ok"
	if err != nil {
		outcome = string(session.ErrorCode(err))
	}
	m.actions.WithLabelValues(name, outcome).Inc()
	if name == "vote" && err == nil {
		m.votes.Inc()
	}
}
