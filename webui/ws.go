package webui

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gorilla/websocket"

	"github.com/pokor/pokor/session"
)

// WebSocket tuning. The figures come from the capacity target (docs/performance.md): a 512-byte
// read buffer, no write buffer and no writer goroutine keep an idle connection under 10 KB.
const (
	// sendQueue bounds the events waiting for one connection. A client that falls this far behind
	// is disconnected and resynchronises from a fresh snapshot, so it never slows its room.
	sendQueue = 64
	// maxMessage is the largest client message handled; larger ones get an error reply.
	maxMessage = 8 << 10
	// hardLimit closes the connection (1009) for messages too large to even read.
	hardLimit    = 64 << 10
	pingInterval = 25 * time.Second
	readTimeout  = 60 * time.Second
	writeTimeout = 10 * time.Second
)

// writeBufferPool is never drawn from: the connection writes its frames itself (conn.flush).
// Giving gorilla a pool keeps it from allocating a write buffer per connection.
var writeBufferPool = &sync.Pool{}

func (s *Server) upgrader() *websocket.Upgrader {
	return &websocket.Upgrader{
		ReadBufferSize:  512,
		WriteBufferSize: 512,
		WriteBufferPool: writeBufferPool,
		CheckOrigin: func(r *http.Request) bool {
			origin := r.Header.Get("Origin")
			return origin == "" || sameOrigin(origin, r, s.cfg.BaseURL)
		},
	}
}

// conn is one room WebSocket connection. gorilla/websocket reads it; writes are ours.
//
// A connection has no writer goroutine of its own. Send queues the message and, when no flush
// is running, starts one: a short-lived goroutine that frames everything queued into one buffer,
// writes it with one system call, and ends when the queue is empty. An idle connection therefore
// costs its reader goroutine, its read buffer and a ping timer, and a burst of events to one
// client costs one write, not one per event. The queue is still bounded per connection and a
// client that lets it fill is cut loose (ARCHITECTURE.md); a blocked write holds up only its own
// flush goroutine, never the room.
type conn struct {
	ws    *websocket.Conn
	nc    net.Conn
	ping  *time.Timer
	leave func()
	done  func() // tells the server this connection is closed

	// The reader's state, kept here so that its goroutine's frame stays small (readLoop).
	actor session.Actor
	msg   io.Reader
	goOn  chan bool

	mu        sync.Mutex
	queue     [][]byte // at most sendQueue events, oldest first
	first     []byte   // the snapshot, written before any queued event
	pingDue   bool
	pongDue   []byte // the payload of a client's ping, to answer
	flushing  bool   // a flush goroutine runs (or the snapshot is not ready yet)
	closing   bool   // kicked: flush what is queued, say goodbye, close
	reason    string
	peerClose []byte // the client's close frame payload, echoed when it closed first
}

// Send queues msg without blocking; false means the queue is full.
func (c *conn) Send(msg []byte) bool {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return true
	}
	if len(c.queue) >= sendQueue {
		c.mu.Unlock()
		return false
	}
	c.queue = append(c.queue, msg)
	return c.startFlushLocked()
}

// Kick closes the connection after what is queued is sent, with a close frame giving the reason.
func (c *conn) Kick(reason string) {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return
	}
	c.closing, c.reason = true, reason
	c.startFlushLocked()
}

// pingNow queues a ping; the client's pong keeps the read deadline moving.
func (c *conn) pingNow() {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return
	}
	c.ping.Reset(pingInterval)
	c.pingDue = true
	c.startFlushLocked()
}

// startFlushLocked starts a flush goroutine unless one runs; it unlocks c.mu.
func (c *conn) startFlushLocked() bool {
	start := !c.flushing
	c.flushing = true
	c.mu.Unlock()
	if start {
		go c.flush()
	}
	return true
}

// release lets the first flush run once the snapshot is ready; the snapshot goes out first.
func (c *conn) release(first []byte) {
	c.mu.Lock()
	c.first = first
	c.mu.Unlock()
	go c.flush() // flushing has been set since the connection was made
}

// flushBufs recycles the buffers frames are assembled in. A buffer that grew past 64 KB (a large
// snapshot) is left to the garbage collector.
var flushBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// flush writes everything queued, then ends; when the connection is closing it also sends the
// close frame and closes the connection. Only one flush runs per connection at a time.
func (c *conn) flush() {
	bp := flushBufs.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= 64<<10 {
			flushBufs.Put(bp)
		}
	}()
	for {
		c.mu.Lock()
		first, batch, ping, pong := c.first, c.queue, c.pingDue, c.pongDue
		c.first, c.queue, c.pingDue, c.pongDue = nil, nil, false, nil
		closing := c.closing
		if first == nil && len(batch) == 0 && !ping && pong == nil {
			if !closing {
				c.flushing = false
				c.mu.Unlock()
				return
			}
			c.mu.Unlock()
			c.finish(*bp)
			return
		}
		c.mu.Unlock()
		b := (*bp)[:0]
		if pong != nil {
			b = appendFrame(b, websocket.PongMessage, pong)
		}
		if ping {
			b = appendFrame(b, websocket.PingMessage, nil)
		}
		if first != nil {
			b = appendFrame(b, websocket.TextMessage, first)
		}
		for _, msg := range batch {
			b = appendFrame(b, websocket.TextMessage, msg)
		}
		*bp = b
		_ = c.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
		if _, err := c.nc.Write(b); err != nil {
			c.mu.Lock()
			c.closing, c.reason = true, "write failed"
			c.queue = nil
			c.mu.Unlock()
			c.finish(nil)
			return
		}
	}
}

// finish sends the close frame (unless the connection already failed), closes the connection,
// and takes it out of its room. It runs once, at the end of the last flush.
func (c *conn) finish(buf []byte) {
	c.ping.Stop()
	c.mu.Lock()
	reason, peerClose := c.reason, c.peerClose
	c.mu.Unlock()
	if buf != nil {
		code := websocket.CloseGoingAway
		switch {
		case reason == "server restart":
			code = websocket.CloseServiceRestart
		case reason != "" && reason != "client closed":
			code = websocket.CloseTryAgainLater
		}
		payload := websocket.FormatCloseMessage(code, reason)
		if peerClose != nil {
			payload = peerClose // the client closed first: echo its code
		}
		if len(payload) > 125 {
			payload = payload[:125]
		}
		_ = c.nc.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = c.nc.Write(appendFrame(buf[:0], websocket.CloseMessage, payload))
	}
	c.leave()
	c.nc.Close()
	c.done()
}

// appendFrame appends one unfragmented, unmasked WebSocket frame (RFC 6455 section 5.2): a
// server's frames are never masked, so the header is all there is to add.
func appendFrame(b []byte, opcode int, payload []byte) []byte {
	b = append(b, 0x80|byte(opcode)) // FIN
	switch n := len(payload); {
	case n < 126:
		b = append(b, byte(n))
	case n <= 0xffff:
		b = append(b, 126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, 127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	return append(b, payload...)
}

// clientMessage is a request from the room page: an action with its target and data.
type clientMessage struct {
	ID            string          `json:"id"`
	Type          string          `json:"type"`
	StoryID       string          `json:"story_id"`
	ParticipantID string          `json:"participant_id"`
	Data          json.RawMessage `json:"data"`
}

// websocket upgrades a room member's connection. The first message is the snapshot; events
// follow. The HTTP handler returns right after the upgrade, which frees net/http's buffers; a
// reader and a writer goroutine carry the connection.
func (s *Server) websocket(c *gin.Context) {
	actor, err := s.actor(c)
	if err != nil {
		writeError(c, err)
		return
	}
	select {
	case <-s.shutdown:
		writeError(c, &session.Error{Code: session.CodeUnavailable, Message: "the server is restarting; reconnect in a moment"})
		return
	default:
	}
	ws, err := s.upgrader().Upgrade(c.Writer, c.Request, nil)
	if err != nil {
		return // the upgrader has answered with the error
	}
	ws.SetReadLimit(hardLimit)
	cn := &conn{ws: ws, nc: ws.NetConn(), done: s.conns.Done, flushing: true}
	// The reader answers pings and close frames through the connection's flush, which owns
	// every write after the handshake.
	ws.SetPingHandler(func(data string) error {
		cn.mu.Lock()
		cn.pongDue = []byte(data)
		cn.startFlushLocked()
		return nil
	})
	ws.SetCloseHandler(func(code int, text string) error {
		cn.mu.Lock()
		cn.peerClose = websocket.FormatCloseMessage(code, "")
		cn.mu.Unlock()
		return nil
	})
	member := &session.Member{Sub: cn, ParticipantID: actor.ParticipantID}
	// Join before the snapshot is read, so that no event falls between the two; events queued
	// meanwhile may repeat what the snapshot holds, which the client applies idempotently. They
	// wait (flushing is set) until the snapshot is ready to go first.
	cn.leave = s.hub.Join(actor.SessionID, member)
	snap, err := s.svc.Snapshot(c.Request.Context(), actor)
	if err != nil {
		cn.leave()
		msg, _ := session.Event{Type: session.EvError, Data: toErrorBody(err)}.Encode()
		_ = ws.SetWriteDeadline(time.Now().Add(writeTimeout))
		_ = ws.WriteMessage(websocket.TextMessage, msg)
		_ = ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.ClosePolicyViolation, session.ErrorMessage(err)))
		ws.Close()
		return
	}
	member.SetRole(snap.Me.Role == session.RoleOrganizer, snap.Me.Status == session.StatusPending)
	first, _ := session.Event{Type: session.EvSnapshot, Data: snap}.Encode()
	s.conns.Add(2) // the reader, and the connection until its last flush closes it
	// One runtime timer per connection and no goroutine: it fires every pingInterval and queues
	// a ping, staggered by the connection's start.
	cn.ping = time.AfterFunc(pingInterval, cn.pingNow)
	cn.release(first)
	cn.actor, cn.goOn = actor, make(chan bool)
	_ = ws.SetReadDeadline(time.Now().Add(readTimeout))
	ws.SetPongHandler(func(string) error { return ws.SetReadDeadline(time.Now().Add(readTimeout)) })
	go s.readLoop(cn)
}

// readLoop waits for client messages and hands each to a goroutine of its own. A goroutine's
// stack grows to the deepest call it made and shrinks back only slowly, and the service and
// SQLite calls go deep; so the reader, which waits most of its life, keeps a small frame and the
// smallest stack (2 KB), and each request borrows a large stack for as long as it runs. The
// reader waits for the request to finish, so a connection's requests keep their order and only
// one goroutine reads at a time.
func (s *Server) readLoop(c *conn) {
	defer s.endRead(c)
	for {
		_, r, err := c.ws.NextReader()
		if err != nil {
			return
		}
		c.msg = r
		go s.handle(c)
		if !<-c.goOn {
			return
		}
	}
}

func (s *Server) endRead(c *conn) {
	c.Kick("client closed")
	s.conns.Done()
}

// handle reads one client message, runs it through the action table and queues the reply. It
// reports on goOn whether the connection can go on.
func (s *Server) handle(c *conn) {
	c.goOn <- s.request(c, c.actor, c.msg)
}

func (s *Server) request(c *conn, actor session.Actor, r io.Reader) bool {
	_ = c.ws.SetReadDeadline(time.Now().Add(readTimeout))
	body, err := io.ReadAll(io.LimitReader(r, maxMessage+1))
	if err != nil {
		return false
	}
	if len(body) > maxMessage {
		_, _ = io.Copy(io.Discard, r)
		s.reply(c, "", nil, &session.Error{Code: session.CodeInvalid, Message: "message too large: the limit is 8 KiB"})
		return true
	}
	var m clientMessage
	if err := json.Unmarshal(body, &m); err != nil {
		s.reply(c, "", nil, &session.Error{Code: session.CodeInvalid, Message: "message is not valid JSON: " + err.Error()})
		return true
	}
	if m.Type == "ping" {
		s.reply(c, m.ID, map[string]string{"pong": time.Now().UTC().Format(time.RFC3339Nano)}, nil)
		return true
	}
	run, ok := actions[m.Type]
	if !ok {
		s.reply(c, m.ID, nil, &session.Error{Code: session.CodeInvalid, Field: "type", Message: "unknown message type " + quote(m.Type) + " (see docs/api.md)"})
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	res, err := s.run(ctx, m.Type, run, actor, request{StoryID: m.StoryID, ParticipantID: m.ParticipantID, Data: m.Data})
	cancel()
	s.reply(c, m.ID, res, err)
	return true
}

type ackData struct {
	ID     string `json:"id"`
	Result any    `json:"result,omitempty"`
}

type errData struct {
	ID string `json:"id"`
	errorBody
}

// reply queues the answer to a request; it is for this connection only.
func (s *Server) reply(c *conn, id string, res any, err error) {
	ev := session.Event{Type: session.EvAck, Data: ackData{ID: id, Result: res}}
	if err != nil {
		if session.ErrorCode(err) == session.CodeInternal {
			s.log.Error("socket request failed", "err", err)
		}
		ev = session.Event{Type: session.EvError, Data: errData{ID: id, errorBody: toErrorBody(err)}}
	}
	msg, merr := ev.Encode()
	if merr != nil {
		s.log.Error("encoding reply", "err", merr)
		return
	}
	if !c.Send(msg) {
		c.Kick("too slow: the send queue is full")
	}
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
