package main

import (
	"math"
	"sort"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Latencies are recorded in microseconds from 1 µs to 10 minutes with three significant
// digits: a 1 ms reading is exact to the microsecond, a 1 s reading to the millisecond.
const (
	histMin    = 1
	histMax    = int64(10 * time.Minute / time.Microsecond)
	histDigits = 3
)

func newHist() *hdrhistogram.Histogram { return hdrhistogram.New(histMin, histMax, histDigits) }

// The names of the histograms, in the order the table prints them.
const (
	hSetup         = "setup"          // one HTTP request of the setup (create, add story, join)
	hConnect       = "connect"        // WebSocket dial until the snapshot has arrived
	hVoteAck       = "vote_ack"       // scheduled vote time until its ack reaches the voter
	hVoteDelivery  = "vote_delivery"  // scheduled vote time until one member has the voted event
	hVoteRoom      = "vote_room"      // scheduled vote time until every member of the room has it
	hRevealRoom    = "reveal_room"    // reveal sent (during play) until every member has it
	hStormAck      = "storm_ack"      // storm instant until the organizer's reveal is acknowledged
	hStormDelivery = "storm_delivery" // storm instant until one member has the revealed event
	hStormRoom     = "storm_room"     // storm instant until every member of the room has it
)

var histOrder = []string{hConnect, hVoteAck, hVoteDelivery, hVoteRoom, hRevealRoom, hStormAck, hStormDelivery, hStormRoom, hSetup, hSlash}

var histTitles = map[string]string{
	hSetup:         "setup request (HTTP)",
	hConnect:       "connect (dial → snapshot)",
	hVoteAck:       "vote → ack",
	hVoteDelivery:  "vote → delivery, per member",
	hVoteRoom:      "vote → whole room",
	hRevealRoom:    "reveal → whole room (play)",
	hStormAck:      "reveal storm → ack",
	hStormDelivery: "reveal storm → delivery",
	hStormRoom:     "reveal storm → whole room",
	hSlash:         "/pokor slash command",
}

// The counters.
const (
	cRooms           = "rooms"
	cSetupFailures   = "setup_failures"
	cConnected       = "connected"
	cConnectFailures = "connect_failures"
	cDisconnects     = "disconnects" // connections the server closed during the run
	cVotesSent       = "votes_sent"
	cVotesOK         = "votes_ok"
	cVotesFailed     = "votes_failed"     // answered with an error event
	cVotesUnanswered = "votes_unanswered" // no ack before the end of the run
	cReveals         = "reveals"
	cDeliveries      = "deliveries"
	cLostVoted       = "lost_voted"    // voted events a member never received
	cLostRevealed    = "lost_revealed" // revealed events a member never received
	cUnexpected      = "unexpected"    // events that matched no expectation (duplicates)
	cRequestErrors   = "request_errors"
	cLateRounds      = "late_rounds" // rounds whose reveal/re-vote ran past the next vote's slot
)

// metrics collects the histograms and counters of one process. Recording takes a lock: at
// the rates of the standard scenario (some 25,000 records a second) it is never contended
// for long.
type metrics struct {
	mu     sync.Mutex
	hists  map[string]*hdrhistogram.Histogram
	counts map[string]int64
}

func newMetrics() *metrics {
	return &metrics{hists: map[string]*hdrhistogram.Histogram{}, counts: map[string]int64{}}
}

func (m *metrics) record(name string, d time.Duration) {
	us := d.Microseconds()
	if us < histMin {
		us = histMin
	}
	if us > histMax {
		us = histMax
	}
	m.mu.Lock()
	h := m.hists[name]
	if h == nil {
		h = newHist()
		m.hists[name] = h
	}
	_ = h.RecordValue(us)
	m.mu.Unlock()
}

func (m *metrics) add(name string, n int64) {
	m.mu.Lock()
	m.counts[name] += n
	m.mu.Unlock()
}

func (m *metrics) count(name string) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.counts[name]
}

// wire is the metrics of one process as they travel to the parent: histograms in the
// compressed HdrHistogram V2 encoding.
type wire struct {
	Hists  map[string]string `json:"hists"`
	Counts map[string]int64  `json:"counts"`
}

func (m *metrics) export() wire {
	m.mu.Lock()
	defer m.mu.Unlock()
	w := wire{Hists: map[string]string{}, Counts: map[string]int64{}}
	for name, h := range m.hists {
		b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
		if err == nil {
			w.Hists[name] = string(b)
		}
	}
	for name, n := range m.counts {
		w.Counts[name] = n
	}
	return w
}

// merge adds the metrics of a child process.
func (m *metrics) merge(w wire) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for name, enc := range w.Hists {
		h, err := hdrhistogram.Decode([]byte(enc))
		if err != nil {
			return err
		}
		if m.hists[name] == nil {
			m.hists[name] = newHist()
		}
		m.hists[name].Merge(h)
	}
	for name, n := range w.Counts {
		m.counts[name] += n
	}
	return nil
}

// Summary is a histogram as the report shows it, in milliseconds.
type Summary struct {
	Count int64   `json:"count"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	P999  float64 `json:"p99_9_ms"`
	Max   float64 `json:"max_ms"`
	Mean  float64 `json:"mean_ms"`
}

func (m *metrics) summaries() map[string]Summary {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]Summary{}
	names := make([]string, 0, len(m.hists))
	for n := range m.hists {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		h := m.hists[n]
		ms := func(us int64) float64 { return math.Round(float64(us)/10) / 100 }
		out[n] = Summary{
			Count: h.TotalCount(),
			P50:   ms(h.ValueAtQuantile(50)), P90: ms(h.ValueAtQuantile(90)), P99: ms(h.ValueAtQuantile(99)),
			P999: ms(h.ValueAtQuantile(99.9)), Max: ms(h.Max()), Mean: math.Round(h.Mean()/10) / 100,
		}
	}
	return out
}
