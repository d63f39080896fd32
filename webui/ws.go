package webui

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gorilla/websocket"

	"github.com/pokor/pokor/session"
)

// WebSocket tuning. The figures come from the capacity target (docs/performance.md): an idle
// connection holds no goroutine and no buffer, and stays well under 10 KB.
const (
	// sendQueue bounds the events waiting for one connection. A client that falls this far behind
	// is disconnected and resynchronises from a fresh snapshot, so it never slows its room.
	sendQueue = 64
	// maxMessage is the largest client message handled; larger ones get an error reply.
	maxMessage = 8 << 10
	// hardLimit closes the connection (1009) for messages too large to even read.
	hardLimit    = 64 << 10
	pingInterval = 25 * time.Second
	// readTimeout closes a connection that has sent nothing, not even a pong, for this long.
	readTimeout  = 60 * time.Second
	writeTimeout = 10 * time.Second
)

// writeBufferPool is never drawn from: gorilla/websocket only performs the handshake, and the
// connection frames its messages itself. Giving gorilla a pool keeps it from allocating a
// write buffer during the upgrade.
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

// conn is one room WebSocket connection. gorilla/websocket performs the handshake; after it the
// connection reads and writes its frames itself (RFC 6455), so that an idle connection costs a
// small struct and no goroutine:
//
//   - Reading: on Linux a shared epoll instance reports the connections with data, and a
//     short-lived goroutine reads what arrived, handles the complete messages in order and
//     goes away (ws_linux.go). Elsewhere a goroutine per connection blocks in Read.
//   - Writing: Send queues the event and, when no flush is running, starts one: a short-lived
//     goroutine that frames everything queued into one buffer, writes it with one system call,
//     and ends when the queue is empty. The queue is bounded and a client that lets it fill is
//     cut loose (ARCHITECTURE.md); a blocked write holds up only its own flush, never the room.
type conn struct {
	srv   *Server
	nc    net.Conn
	rc    syscall.RawConn // nc's file descriptor, for the poller; nil reads with a goroutine
	actor session.Actor
	ping  *time.Timer
	leave func()

	// The reader's state, touched only by the one goroutine reading at a time.
	id       uint64 // the poller's key
	in       []byte // the start of a frame not yet complete
	frag     []byte // a fragmented message being assembled
	fragging bool
	lastRead atomic.Int64 // unix nanoseconds of the last bytes received

	mu        sync.Mutex
	queue     [][]byte // at most sendQueue events, oldest first
	first     []byte   // the snapshot, written before any queued event
	pingDue   bool
	pongDue   []byte // the payload of a client's ping, to answer
	flushing  bool   // a flush goroutine runs (or the snapshot is not ready yet)
	closing   bool   // kicked: flush what is queued, say goodbye, close
	reason    string
	closeCode int    // the close code to send; 0 picks it from the reason
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
func (c *conn) Kick(reason string) { c.kick(0, reason) }

func (c *conn) kick(code int, reason string) {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return
	}
	c.closing, c.closeCode, c.reason = true, code, reason
	c.startFlushLocked()
}

// closingNow reports whether the connection is being closed.
func (c *conn) closingNow() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closing
}

// pingNow queues a ping, or closes a connection that has been silent too long; the client's pong
// counts as a sign of life.
func (c *conn) pingNow() {
	if time.Since(time.Unix(0, c.lastRead.Load())) > readTimeout {
		c.Kick("no answer to pings")
		return
	}
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return
	}
	c.ping.Reset(pingInterval)
	c.pingDue = true
	c.startFlushLocked()
}

// pong queues the answer to a client's ping.
func (c *conn) pong(payload []byte) {
	c.mu.Lock()
	c.pongDue = append([]byte(nil), payload...)
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
	code, reason, peerClose := c.closeCode, c.reason, c.peerClose
	c.mu.Unlock()
	if buf != nil {
		if code == 0 {
			code = websocket.CloseGoingAway
			switch {
			case reason == "server restart":
				code = websocket.CloseServiceRestart
			case reason != "" && reason != "client closed":
				code = websocket.CloseTryAgainLater
			}
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
	stopReading(c)
	c.nc.Close()
	c.srv.conns.Done()
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

// The ways a client's frames can break the protocol; each closes the connection with its code.
var (
	errProtocol = errors.New("protocol error")
	errTooBig   = errors.New("message too big")
)

// nextFrame parses the frame at the start of b, unmasking its payload in place. It returns the
// frame's length in b, or 0 when b does not hold the whole frame yet.
func nextFrame(b []byte) (fin bool, opcode int, payload []byte, n int, err error) {
	if len(b) < 2 {
		return false, 0, nil, 0, nil
	}
	fin, opcode = b[0]&0x80 != 0, int(b[0]&0x0f)
	if b[0]&0x70 != 0 || b[1]&0x80 == 0 { // no extension is negotiated; clients must mask
		return false, 0, nil, 0, errProtocol
	}
	switch opcode {
	case 0, websocket.TextMessage, websocket.BinaryMessage:
	case websocket.CloseMessage, websocket.PingMessage, websocket.PongMessage:
		if !fin || b[1]&0x7f > 125 {
			return false, 0, nil, 0, errProtocol
		}
	default:
		return false, 0, nil, 0, errProtocol
	}
	size, head := uint64(b[1]&0x7f), 2
	switch size {
	case 126:
		if len(b) < 4 {
			return false, 0, nil, 0, nil
		}
		size, head = uint64(binary.BigEndian.Uint16(b[2:])), 4
	case 127:
		if len(b) < 10 {
			return false, 0, nil, 0, nil
		}
		size, head = binary.BigEndian.Uint64(b[2:]), 10
	}
	if size > hardLimit {
		return false, 0, nil, 0, errTooBig
	}
	head += 4
	if uint64(len(b)) < uint64(head)+size {
		return false, 0, nil, 0, nil
	}
	key, payload := b[head-4:head], b[head:head+int(size)]
	for i := range payload {
		payload[i] ^= key[i&3]
	}
	return fin, opcode, payload, head + int(size), nil
}

// consume takes bytes read from the client, handles every message they complete, and keeps the
// start of an incomplete frame for the next read. It reports whether to go on reading.
func (c *conn) consume(data []byte) bool {
	c.lastRead.Store(time.Now().UnixNano())
	b := data
	if len(c.in) > 0 {
		c.in = append(c.in, data...)
		b = c.in
	}
	for {
		fin, opcode, payload, n, err := nextFrame(b)
		if err != nil {
			return c.fail(err)
		}
		if n == 0 {
			break
		}
		b = b[n:]
		if !c.frame(fin, opcode, payload) {
			return false
		}
	}
	if len(b) > hardLimit+14 {
		return c.fail(errTooBig)
	}
	c.in = append(c.in[:0], b...)
	if len(c.in) == 0 {
		c.in = nil
	}
	return true
}

// frame handles one frame; false ends the connection.
func (c *conn) frame(fin bool, opcode int, payload []byte) bool {
	switch opcode {
	case websocket.CloseMessage:
		echo := []byte{}
		if len(payload) >= 2 {
			echo = payload[:2:2]
		}
		c.mu.Lock()
		c.peerClose = append([]byte(nil), echo...)
		c.mu.Unlock()
		c.Kick("client closed")
		return false
	case websocket.PingMessage:
		c.pong(payload)
	case websocket.PongMessage:
	case 0:
		if !c.fragging {
			return c.fail(errProtocol)
		}
		if len(c.frag)+len(payload) > hardLimit {
			return c.fail(errTooBig)
		}
		c.frag = append(c.frag, payload...)
		if fin {
			c.fragging = false
			msg := c.frag
			c.frag = nil
			c.srv.request(c, msg)
		}
	default: // text or binary: both carry JSON requests
		if c.fragging {
			return c.fail(errProtocol)
		}
		if !fin {
			c.fragging = true
			c.frag = append([]byte(nil), payload...)
			return true
		}
		c.srv.request(c, payload)
	}
	return !c.closingNow()
}

// fail closes the connection for a broken frame: 1009 for a message too large to read, 1002 for
// anything else.
func (c *conn) fail(err error) bool {
	if err == errTooBig {
		c.kick(websocket.CloseMessageTooBig, "message too large: the limit is 64 KiB")
	} else {
		c.kick(websocket.CloseProtocolError, "protocol error")
	}
	return false
}

// readBlocking is the reader where there is no poller: a goroutine per connection that blocks in
// Read. It is also what connections without a file descriptor use.
func (c *conn) readBlocking() {
	buf := make([]byte, 512)
	for {
		n, err := c.nc.Read(buf)
		if n > 0 && !c.consume(buf[:n]) {
			return
		}
		if err != nil {
			c.Kick("client closed")
			return
		}
	}
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
// follow. The HTTP handler returns right after the upgrade, which frees net/http's buffers.
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
	// From here on the connection is read and written directly; gorilla's Conn is dropped.
	// Nothing can be buffered in it yet: it reads only when asked to.
	cn := &conn{srv: s, nc: ws.NetConn(), actor: actor, flushing: true}
	cn.lastRead.Store(time.Now().UnixNano())
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
	s.conns.Add(1) // until the connection's last flush closes it
	// One runtime timer per connection and no goroutine: it fires every pingInterval and queues
	// a ping, staggered by the connection's start.
	cn.ping = time.AfterFunc(pingInterval, cn.pingNow)
	cn.release(first)
	startReading(cn)
}

// request handles one client message: it runs it through the action table and queues the reply.
// The payload is not kept.
func (s *Server) request(c *conn, body []byte) {
	if len(body) > maxMessage {
		s.reply(c, "", nil, &session.Error{Code: session.CodeInvalid, Message: "message too large: the limit is 8 KiB"})
		return
	}
	var m clientMessage
	if err := json.Unmarshal(body, &m); err != nil {
		s.reply(c, "", nil, &session.Error{Code: session.CodeInvalid, Message: "message is not valid JSON: " + err.Error()})
		return
	}
	if m.Type == "ping" {
		s.reply(c, m.ID, map[string]string{"pong": time.Now().UTC().Format(time.RFC3339Nano)}, nil)
		return
	}
	run, ok := actions[m.Type]
	if !ok {
		s.reply(c, m.ID, nil, &session.Error{Code: session.CodeInvalid, Field: "type", Message: "unknown message type " + quote(m.Type) + " (see docs/api.md)"})
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	res, err := s.run(ctx, m.Type, run, c.actor, request{StoryID: m.StoryID, ParticipantID: m.ParticipantID, Data: m.Data})
	cancel()
	s.reply(c, m.ID, res, err)
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
