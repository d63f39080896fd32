package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// childConfig is the share of the scenario one child process drives: whole rooms, so that the
// members of a room share one clock and one process sees every delivery of a vote.
type childConfig struct {
	Index int    `json:"index"`
	URL   string `json:"url"`
	// URLs are the instances of the deployment: member i of every room connects to (and joins
	// through) URLs[i % len(URLs)], so that every room is split across them.
	URLs             []string `json:"urls,omitempty"`
	Run              string   `json:"run"`        // names this run's sessions
	FirstRoom        int      `json:"first_room"` // global index of the child's first room
	Rooms            int      `json:"rooms"`
	TotalRooms       int      `json:"total_rooms"`
	Members          int      `json:"members"`
	Spectators       int      `json:"spectators"`
	VoteRate         float64  `json:"vote_rate"` // votes per room per second
	SourceIP         string   `json:"source_ip"` // local address to dial from; empty lets the kernel pick
	DialConcurrency  int      `json:"dial_concurrency"`
	SetupConcurrency int      `json:"setup_concurrency"`
}

// command is what the parent tells a child on its stdin, one JSON object a line.
type command struct {
	Cmd      string        `json:"cmd"`          // setup, connect, play, prepare, storm, report, close
	At       int64         `json:"at,omitempty"` // wall-clock instant in Unix nanoseconds
	Duration time.Duration `json:"duration,omitempty"`
}

// reply is what a child answers on its stdout.
type reply struct {
	Cmd     string `json:"cmd"`
	Err     string `json:"err,omitempty"`
	Metrics *wire  `json:"metrics,omitempty"`
}

// localTime turns a wall-clock instant sent by the parent into a time.Time with a monotonic
// reading, so that every latency within this process is measured on the monotonic clock.
func localTime(unixNano int64) time.Time { return time.Now().Add(time.Until(time.Unix(0, unixNano))) }

// runChild serves the parent's commands until "close".
func runChild(cfgJSON string) error {
	var cfg childConfig
	if err := json.Unmarshal([]byte(cfgJSON), &cfg); err != nil {
		return err
	}
	g := newGen(cfg)
	out := json.NewEncoder(os.Stdout)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		var c command
		if err := json.Unmarshal(in.Bytes(), &c); err != nil {
			return err
		}
		r := reply{Cmd: c.Cmd}
		var err error
		switch c.Cmd {
		case "setup":
			err = g.setup()
		case "connect":
			err = g.connect()
		case "play":
			g.play(localTime(c.At), c.Duration)
		case "prepare":
			g.prepareStorm()
		case "storm":
			g.storm(localTime(c.At))
		case "report":
			g.tally()
			w := g.m.export()
			r.Metrics = &w
		case "close":
			g.close()
		default:
			err = fmt.Errorf("unknown command %q", c.Cmd)
		}
		if err != nil {
			r.Err = err.Error()
		}
		if err := out.Encode(r); err != nil {
			return err
		}
		if c.Cmd == "close" {
			return nil
		}
	}
	return in.Err()
}

// gen drives the rooms of one child process.
type gen struct {
	cfg     childConfig
	m       *metrics
	base    *url.URL
	hc      *http.Client
	dialer  *websocket.Dialer
	rooms   []*room
	closing atomic.Bool
	logged  atomic.Int64
}

func newGen(cfg childConfig) *gen {
	base, _ := url.Parse(cfg.URL)
	nd := &net.Dialer{Timeout: 30 * time.Second}
	if cfg.SourceIP != "" {
		nd.LocalAddr = &net.TCPAddr{IP: net.ParseIP(cfg.SourceIP)}
	}
	tr := &http.Transport{
		DialContext: nd.DialContext, MaxIdleConnsPerHost: cfg.SetupConcurrency, MaxConnsPerHost: cfg.SetupConcurrency,
		IdleConnTimeout: 30 * time.Second,
	}
	return &gen{
		cfg: cfg, m: newMetrics(), base: base,
		hc: &http.Client{Transport: tr, Timeout: 60 * time.Second},
		// The client side keeps small buffers too: a child holds thousands of connections.
		dialer: &websocket.Dialer{
			NetDialContext: nd.DialContext, HandshakeTimeout: 60 * time.Second,
			ReadBufferSize: 2048, WriteBufferSize: 512, WriteBufferPool: &sync.Pool{},
		},
	}
}

// logf writes a diagnostic to stderr, at most a few dozen times per process.
func (g *gen) logf(format string, args ...any) {
	if g.logged.Add(1) <= 30 {
		fmt.Fprintf(os.Stderr, "pokor-load[%d]: "+format+"\n", append([]any{g.cfg.Index}, args...)...)
	}
}

// room is one session: an organizer, voters and spectators.
type room struct {
	g       *gen
	index   int
	id      string
	story   string
	members []*member // the organizer first, then voters, then spectators
	voters  []*member
	byPID   map[string]int

	mu     sync.Mutex
	round  int
	voted  map[int]bool // member index → voted in the current round
	expect map[expKey]*expectation
}

// member is one participant with its WebSocket connection.
type member struct {
	r      *room
	idx    int
	pid    string
	role   string
	cookie string // "pokor_<session>=<token>"
	inst   int    // the instance it joined and connects through (childConfig.URLs)

	ws        *websocket.Conn
	connected atomic.Bool
	wmu       sync.Mutex // one writer at a time
	seq       int        // guarded by wmu

	reqMu sync.Mutex
	reqs  map[string]*request
}

// request is a message sent on a socket, waiting for its ack or error event.
type request struct {
	done   chan struct{}
	ok     bool
	body   []byte
	answer func(ok bool, body []byte, at time.Time) // runs on the reader goroutine
}

// expKey names an event every member of a room must receive: the voted event of a member in a
// round, or the revealed event of a round.
type expKey struct {
	kind  byte // 'v' or 'r'
	pidx  int
	round int
}

// expectation tracks which members have received an event and when.
type expectation struct {
	sched     time.Time
	deliv     string // histogram of each member's delivery; "" records none
	whole     string // histogram of the room's completion; "" records none
	need      int
	got       uint64 // members that received it, as a bit set over member indices
	n         int
	confirmed bool // the request that causes the event was acknowledged
	done      chan struct{}
}

// --- setup over the JSON API ---

func (g *gen) post(ctx context.Context, path, cookie string, body any, out any) (string, error) {
	return g.postTo(ctx, g.cfg.URL, path, cookie, body, out)
}

// instance returns the index of the instance member idx of a room uses, and its base URL.
func (g *gen) instance(idx int) (int, string) {
	if len(g.cfg.URLs) < 2 {
		return 0, g.cfg.URL
	}
	i := idx % len(g.cfg.URLs)
	return i, g.cfg.URLs[i]
}

// postTo is post to the instance at base.
func (g *gen) postTo(ctx context.Context, base, path, cookie string, body any, out any) (string, error) {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	start := time.Now()
	res, err := g.hc.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	rb, _ := io.ReadAll(res.Body)
	g.m.record(hSetup, time.Since(start))
	if res.StatusCode/100 != 2 {
		return "", fmt.Errorf("POST %s: %s: %s", path, res.Status, bytes.TrimSpace(rb))
	}
	if out != nil {
		if err := json.Unmarshal(rb, out); err != nil {
			return "", fmt.Errorf("POST %s: %w", path, err)
		}
	}
	for _, c := range res.Cookies() {
		if strings.HasPrefix(c.Name, "pokor_") {
			return c.Name + "=" + c.Value, nil
		}
	}
	return "", nil
}

type joined struct {
	Session     struct{ ID string } `json:"session"`
	Participant struct{ ID string } `json:"participant"`
}

func (g *gen) setupRoom(ctx context.Context, index int) (*room, error) {
	r := &room{g: g, index: index, byPID: map[string]int{}, voted: map[int]bool{}, expect: map[expKey]*expectation{}}
	var j joined
	cookie, err := g.post(ctx, "/api/v1/sessions", "", map[string]any{
		"title": fmt.Sprintf("Load %s room %d", g.cfg.Run, index), "deck": "fibonacci", "name": "Organizer",
	}, &j)
	if err != nil {
		return nil, err
	}
	r.id = j.Session.ID
	r.addMember(j.Participant.ID, "organizer", cookie)
	var stories []struct {
		ID    string `json:"id"`
		Round int    `json:"round"`
	}
	if _, err := g.post(ctx, "/api/v1/sessions/"+r.id+"/stories", cookie, map[string]any{"title": "Story 1"}, &stories); err != nil {
		return nil, err
	}
	if len(stories) != 1 {
		return nil, errors.New("adding a story returned no story")
	}
	r.story, r.round = stories[0].ID, stories[0].Round
	voters := g.cfg.Members - 1 - g.cfg.Spectators
	for i := 1; i < g.cfg.Members; i++ {
		role := "voter"
		if i > voters {
			role = "spectator"
		}
		var j joined
		_, joinVia := g.instance(i)
		cookie, err := g.postTo(ctx, joinVia, "/api/v1/sessions/"+r.id+"/participants", "", map[string]any{
			"name": fmt.Sprintf("%s %d", role, i), "role": role,
		}, &j)
		if err != nil {
			return nil, err
		}
		r.addMember(j.Participant.ID, role, cookie)
	}
	return r, nil
}

func (r *room) addMember(pid, role, cookie string) {
	m := &member{r: r, idx: len(r.members), pid: pid, role: role, cookie: cookie, reqs: map[string]*request{}}
	m.inst, _ = r.g.instance(m.idx)
	r.members = append(r.members, m)
	r.byPID[pid] = m.idx
	if role == "voter" {
		r.voters = append(r.voters, m)
	}
}

// setup creates the child's rooms through the JSON API, a few at a time.
func (g *gen) setup() error {
	ctx := context.Background()
	rooms := make([]*room, g.cfg.Rooms)
	next := atomic.Int64{}
	var wg sync.WaitGroup
	for w := 0; w < g.cfg.SetupConcurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(rooms) {
					return
				}
				r, err := g.setupRoom(ctx, g.cfg.FirstRoom+i)
				if err != nil {
					g.m.add(cSetupFailures, 1)
					g.logf("setting up room %d: %v", g.cfg.FirstRoom+i, err)
					continue
				}
				rooms[i] = r
			}
		}()
	}
	wg.Wait()
	for _, r := range rooms {
		if r != nil {
			g.rooms = append(g.rooms, r)
		}
	}
	g.m.add(cRooms, int64(len(g.rooms)))
	g.hc.CloseIdleConnections() // the server should hold room connections only
	if len(g.rooms) == 0 {
		return errors.New("no room could be set up")
	}
	return nil
}

// --- WebSocket ---

// connect opens every member's socket, with at most DialConcurrency dials in flight.
func (g *gen) connect() error {
	sem := make(chan struct{}, g.cfg.DialConcurrency)
	var wg sync.WaitGroup
	for _, r := range g.rooms {
		for _, m := range r.members {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				_, base := g.instance(m.idx)
				if err := m.dial(strings.Replace(base, "http", "ws", 1) + "/s/" + r.id + "/ws"); err != nil {
					g.m.add(cConnectFailures, 1)
					g.logf("connecting %s of room %d: %v", m.role, r.index, err)
					return
				}
				g.m.add(cConnected, 1)
			}()
		}
	}
	wg.Wait()
	return nil
}

func (m *member) dial(wsURL string) error {
	g := m.r.g
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	ws, res, err := g.dialer.DialContext(ctx, wsURL, http.Header{"Cookie": {m.cookie}})
	if err != nil {
		if res != nil {
			return fmt.Errorf("%w (HTTP %s)", err, res.Status)
		}
		return err
	}
	_ = ws.SetReadDeadline(time.Now().Add(2 * time.Minute))
	_, msg, err := ws.ReadMessage()
	if err != nil {
		ws.Close()
		return fmt.Errorf("reading the snapshot: %w", err)
	}
	if t := msgType(msg); t != "snapshot" {
		ws.Close()
		return fmt.Errorf("first message is %q, not the snapshot", t)
	}
	_ = ws.SetReadDeadline(time.Time{})
	g.m.record(hConnect, time.Since(start))
	m.ws = ws
	m.connected.Store(true)
	go m.read()
	return nil
}

// read receives events until the connection ends. The gorilla client answers the server's
// pings while it reads.
func (m *member) read() {
	g := m.r.g
	buf := make([]byte, 0, 2048)
	for {
		_, rd, err := m.ws.NextReader()
		if err == nil {
			buf, err = readInto(buf[:0], rd)
		}
		if err != nil {
			m.connected.Store(false)
			if !g.closing.Load() {
				g.m.add(cDisconnects, 1)
				g.logf("room %d %s disconnected: %v", m.r.index, m.role, err)
			}
			m.failRequests()
			return
		}
		m.handle(buf, time.Now())
	}
}

func readInto(buf []byte, r io.Reader) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// handle routes one event. Only the fields the generator needs are picked out of the JSON,
// without decoding it whole: the generator shares the machine with the server, and every
// microsecond it spends is one the server does not get.
func (m *member) handle(msg []byte, now time.Time) {
	r := m.r
	switch msgType(msg) {
	case "voted":
		if !bytes.Contains(msg, []byte(`"voted":true`)) {
			return
		}
		pid, ok1 := jsonStr(msg, "participant_id")
		round, ok2 := jsonInt(msg, "round")
		pidx, ok3 := r.byPID[pid]
		if !ok1 || !ok2 || !ok3 {
			r.g.m.add(cUnexpected, 1)
			return
		}
		r.arrive(expKey{'v', pidx, round}, m.idx, now)
	case "revealed":
		round, ok := jsonInt(msg, "round")
		if !ok {
			r.g.m.add(cUnexpected, 1)
			return
		}
		r.arrive(expKey{'r', 0, round}, m.idx, now)
	case "ack", "error":
		id, _ := jsonStr(msg, "id")
		m.reqMu.Lock()
		req := m.reqs[id]
		delete(m.reqs, id)
		m.reqMu.Unlock()
		if req == nil {
			return
		}
		req.ok = msgType(msg) == "ack"
		req.body = append([]byte(nil), msg...)
		if !req.ok {
			r.g.m.add(cRequestErrors, 1)
			r.g.logf("room %d %s: %s", r.index, m.role, msg)
		}
		if req.answer != nil {
			req.answer(req.ok, req.body, now)
		}
		close(req.done)
	}
}

// arrive records that member midx received the event k.
func (r *room) arrive(k expKey, midx int, now time.Time) {
	r.mu.Lock()
	e := r.expect[k]
	if e == nil || e.got&(1<<midx) != 0 {
		r.mu.Unlock()
		r.g.m.add(cUnexpected, 1)
		return
	}
	e.got |= 1 << midx
	e.n++
	complete := e.n == e.need
	if complete && e.confirmed {
		delete(r.expect, k)
	}
	r.mu.Unlock()
	r.g.m.add(cDeliveries, 1)
	if e.deliv != "" {
		r.g.m.record(e.deliv, now.Sub(e.sched))
		if len(r.g.cfg.URLs) > 1 {
			r.g.m.record(fmt.Sprintf("%s@%d", e.deliv, r.members[midx].inst), now.Sub(e.sched))
		}
	}
	if complete {
		if e.whole != "" {
			r.g.m.record(e.whole, now.Sub(e.sched))
		}
		if e.done != nil {
			close(e.done)
		}
	}
}

// expectEvent registers an event every connected member must receive.
func (r *room) expectEvent(k expKey, sched time.Time, deliv, whole string) *expectation {
	e := &expectation{sched: sched, deliv: deliv, whole: whole, done: make(chan struct{})}
	for _, m := range r.members {
		if m.connected.Load() {
			e.need++
		}
	}
	r.mu.Lock()
	r.expect[k] = e
	r.mu.Unlock()
	return e
}

// settle marks the request behind an expectation answered: acknowledged events are owed to
// every member; refused ones are not.
func (r *room) settle(k expKey, e *expectation, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !ok {
		delete(r.expect, k)
		return
	}
	e.confirmed = true
	if e.n >= e.need {
		delete(r.expect, k)
	}
}

// send writes a request and registers it for its answer.
func (m *member) send(typ string, data any, answer func(ok bool, body []byte, at time.Time)) *request {
	req := &request{done: make(chan struct{}), answer: answer}
	if !m.connected.Load() {
		req.body = []byte("not connected")
		if answer != nil {
			answer(false, req.body, time.Now())
		}
		close(req.done)
		return req
	}
	m.wmu.Lock()
	defer m.wmu.Unlock()
	m.seq++
	id := strconv.Itoa(m.seq)
	msg := map[string]any{"id": id, "type": typ, "story_id": m.r.story}
	if data != nil {
		msg["data"] = data
	}
	b, _ := json.Marshal(msg)
	m.reqMu.Lock()
	m.reqs[id] = req
	m.reqMu.Unlock()
	_ = m.ws.SetWriteDeadline(time.Now().Add(30 * time.Second))
	if err := m.ws.WriteMessage(websocket.TextMessage, b); err != nil {
		m.reqMu.Lock()
		_, mine := m.reqs[id]
		delete(m.reqs, id)
		m.reqMu.Unlock()
		if mine {
			m.r.g.m.add(cRequestErrors, 1)
			if answer != nil {
				answer(false, nil, time.Now())
			}
			close(req.done)
		}
	}
	return req
}

// failRequests answers the requests of a closed connection with a failure.
func (m *member) failRequests() {
	m.reqMu.Lock()
	reqs := m.reqs
	m.reqs = map[string]*request{}
	m.reqMu.Unlock()
	for _, req := range reqs {
		if req.answer != nil {
			req.answer(false, nil, time.Now())
		}
		close(req.done)
	}
}

// wait waits for a request's answer; false when there is none within d.
func (req *request) wait(d time.Duration) bool {
	select {
	case <-req.done:
		return true
	case <-time.After(d):
		return false
	}
}

var cards = []string{"1", "2", "3", "5", "8", "13"}

// vote casts a voter's card in the current round. With measure, the vote's latencies are
// recorded from sched, the moment the schedule wanted it sent.
func (r *room) vote(v *member, sched time.Time, measure bool) *request {
	r.mu.Lock()
	round := r.round
	r.voted[v.idx] = true
	r.mu.Unlock()
	k := expKey{'v', v.idx, round}
	deliv, whole := "", ""
	if measure {
		deliv, whole = hVoteDelivery, hVoteRoom
	}
	e := r.expectEvent(k, sched, deliv, whole)
	g := r.g
	g.m.add(cVotesSent, 1)
	return v.send("vote", map[string]string{"card": cards[rand.IntN(len(cards))]}, func(ok bool, _ []byte, at time.Time) {
		if ok {
			g.m.add(cVotesOK, 1)
			if measure {
				g.m.record(hVoteAck, at.Sub(sched))
				if len(g.cfg.URLs) > 1 {
					g.m.record(fmt.Sprintf("%s@%d", hVoteAck, v.inst), at.Sub(sched))
				}
			}
		} else {
			g.m.add(cVotesFailed, 1)
		}
		r.settle(k, e, ok)
	})
}

// reveal shows the current round's votes and returns the request with its expectation.
func (r *room) reveal(sched time.Time, ack, deliv, whole string) (*request, *expectation) {
	r.mu.Lock()
	round := r.round
	r.mu.Unlock()
	k := expKey{'r', 0, round}
	e := r.expectEvent(k, sched, deliv, whole)
	g := r.g
	g.m.add(cReveals, 1)
	req := r.members[0].send("reveal", nil, func(ok bool, _ []byte, at time.Time) {
		if ok && ack != "" {
			g.m.record(ack, at.Sub(sched))
		}
		r.settle(k, e, ok)
	})
	return req, e
}

// revote opens the next round and learns its number from the answer.
func (r *room) revote() bool {
	req := r.members[0].send("revote", nil, nil)
	if !req.wait(30*time.Second) || !req.ok {
		return false
	}
	round, ok := jsonInt(req.body, "round")
	if !ok {
		return false
	}
	r.mu.Lock()
	r.round = round
	clear(r.voted)
	r.mu.Unlock()
	return true
}

// --- phases ---

// play runs the open-loop schedule: each room gets VoteRate votes a second from its voters in
// turn, whatever the server's answers; the first room starts at start and the others are
// spread evenly over one interval. When every voter of a round has voted, the organizer
// reveals and opens a re-vote, as a room does; a late transition makes the next votes late,
// and their latency, measured from the schedule, shows it.
func (g *gen) play(start time.Time, d time.Duration) {
	interval := time.Duration(float64(time.Second) / g.cfg.VoteRate)
	end := start.Add(d)
	var wg sync.WaitGroup
	for _, r := range g.rooms {
		if len(r.voters) == 0 {
			continue
		}
		offset := time.Duration(int64(interval) * int64(r.index) / int64(g.cfg.TotalRooms))
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.play(start.Add(offset), end, interval)
		}()
	}
	wg.Wait()
	g.drain(15 * time.Second)
}

func (r *room) play(first, end time.Time, interval time.Duration) {
	round := make([]*request, 0, len(r.voters))
	// Rooms start at different points of their round, so that rounds end (and the organizers
	// reveal) evenly over time rather than all in the same second; the first round of a room
	// may have fewer votes.
	phase := r.index % len(r.voters)
	for k := 0; ; k++ {
		sched := first.Add(time.Duration(k) * interval)
		if !sched.Before(end) {
			return
		}
		time.Sleep(time.Until(sched))
		turn := (k + phase) % len(r.voters)
		round = append(round, r.vote(r.voters[turn], sched, true))
		if turn == len(r.voters)-1 {
			// The organizer reveals once every vote of the round is in, as it would on seeing
			// everyone voted; then it opens the next round.
			for _, req := range round {
				req.wait(30 * time.Second)
			}
			round = round[:0]
			req, _ := r.reveal(time.Now(), "", "", hRevealRoom)
			req.wait(30 * time.Second)
			if !r.revote() {
				r.g.logf("room %d: re-vote failed", r.index)
				return
			}
			if time.Now().After(first.Add(time.Duration(k+1) * interval)) {
				r.g.m.add(cLateRounds, 1)
			}
		}
	}
}

// drain waits until every expected event has arrived or d has passed.
func (g *gen) drain(d time.Duration) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		pending := 0
		for _, r := range g.rooms {
			r.mu.Lock()
			pending += len(r.expect)
			r.mu.Unlock()
		}
		if pending == 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// forEachRoom runs f on every room, n at a time.
func (g *gen) forEachRoom(n int, f func(r *room)) {
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for _, r := range g.rooms {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			f(r)
		}()
	}
	wg.Wait()
}

// prepareStorm makes every voter of every room vote in the current round, so that the storm
// reveals full rounds.
func (g *gen) prepareStorm() {
	g.forEachRoom(64, func(r *room) {
		for _, v := range r.voters {
			r.mu.Lock()
			done := r.voted[v.idx]
			r.mu.Unlock()
			if !done {
				r.vote(v, time.Now(), false).wait(30 * time.Second)
			}
		}
	})
	g.drain(15 * time.Second)
}

// storm has every organizer reveal at the same instant.
func (g *gen) storm(at time.Time) {
	var wg sync.WaitGroup
	for _, r := range g.rooms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Until(at))
			_, e := r.reveal(at, hStormAck, hStormDelivery, hStormRoom)
			select {
			case <-e.done:
			case <-time.After(30 * time.Second):
			}
		}()
	}
	wg.Wait()
	g.drain(5 * time.Second)
}

// tally counts the events owed to members that never arrived.
func (g *gen) tally() {
	for _, r := range g.rooms {
		r.mu.Lock()
		for k, e := range r.expect {
			if !e.confirmed {
				if k.kind == 'v' {
					g.m.add(cVotesUnanswered, 1)
				}
				continue
			}
			name := cLostVoted
			if k.kind == 'r' {
				name = cLostRevealed
			}
			g.m.add(name, int64(e.need-e.n))
		}
		clear(r.expect)
		r.mu.Unlock()
	}
}

func (g *gen) close() {
	g.closing.Store(true)
	for _, r := range g.rooms {
		for _, m := range r.members {
			if m.ws != nil {
				m.ws.Close()
			}
		}
	}
}

// --- picking fields out of events ---

// msgType returns the type of an event, which the server always encodes first.
func msgType(msg []byte) string {
	const prefix = `{"type":"`
	if !bytes.HasPrefix(msg, []byte(prefix)) {
		return ""
	}
	rest := msg[len(prefix):]
	if i := bytes.IndexByte(rest, '"'); i >= 0 {
		return string(rest[:i])
	}
	return ""
}

// jsonStr returns the first string value of key in msg. It is enough for the ids the
// generator looks for, which are never escaped.
func jsonStr(msg []byte, key string) (string, bool) {
	pat := `"` + key + `":"`
	i := bytes.Index(msg, []byte(pat))
	if i < 0 {
		return "", false
	}
	rest := msg[i+len(pat):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return "", false
	}
	return string(rest[:j]), true
}

// jsonInt returns the first integer value of key in msg.
func jsonInt(msg []byte, key string) (int, bool) {
	pat := `"` + key + `":`
	i := bytes.Index(msg, []byte(pat))
	if i < 0 {
		return 0, false
	}
	rest := msg[i+len(pat):]
	n, j := 0, 0
	for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
		n = n*10 + int(rest[j]-'0')
		j++
	}
	return n, j > 0
}
