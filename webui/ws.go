package webui

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/gobwas/ws"

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
	readTimeout = 60 * time.Second
)

// writeTimeout bounds a blocking write of a flush (10 s). It is atomic so that a test can shorten
// it while connections of earlier tests still run.
var writeTimeout timeout

type timeout struct{ ns atomic.Int64 }

func (t *timeout) get() time.Duration {
	if v := t.ns.Load(); v != 0 {
		return time.Duration(v)
	}
	return 10 * time.Second
}

func (t *timeout) set(d time.Duration) { t.ns.Store(int64(d)) }

// Close codes gobwas/ws does not name (RFC 6455 section 7.4, IANA registry), and Pokor's own
// from the range RFC 6455 leaves to applications (4000-4999).
const (
	statusServiceRestart ws.StatusCode = 1012
	statusTryAgainLater  ws.StatusCode = 1013
	// statusRemoved closes the connections of a participant who is no longer in the session
	// (removed, left, turned away); the reason says why and the page shows it. The client must
	// not reconnect.
	statusRemoved ws.StatusCode = 4403
)

// conn is one room WebSocket connection. gobwas/ws performs the handshake and parses and builds
// the frames (RFC 6455); the connection decides when to read and write, so that an idle
// connection costs a small struct and no goroutine:
//
//   - Reading: on Linux a shared epoll instance reports the connections with data, and a
//     short-lived goroutine reads what arrived, handles the complete messages in order and
//     goes away (ws_linux.go). Elsewhere a goroutine per connection blocks in Read.
//   - Writing: Send queues the event and, when nothing is being written, frames what is queued
//     into one buffer and writes it at once without waiting (sendLocked); when the socket cannot
//     take it all, or something else is due (the snapshot, a ping), a short-lived flush goroutine
//     writes everything queued with one system call per round and ends when the queue is empty. The queue is bounded and a client that lets it fill is
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
	fragText bool         // the fragmented message is text, which must be UTF-8
	lastRead atomic.Int64 // unix nanoseconds of the last bytes received

	mu        sync.Mutex
	queue     [][]byte // at most sendQueue events, oldest first
	first     []byte   // the snapshot, written before any queued event
	pingDue   bool
	pongDue   []byte // the payload of a client's ping, to answer
	flushing  bool   // a flush goroutine runs (or the snapshot is not ready yet)
	corked    bool   // a request of this connection runs: its events wait for its answer (cork)
	closing   bool   // kicked: flush what is queued, say goodbye, close
	reason    string
	closeCode ws.StatusCode // the close code to send; 0 picks it from the reason
	peerClose []byte        // the client's close frame payload, echoed when it closed first

	// A change of the participant's role makes the connection reload the snapshot: events that
	// arrive meanwhile are held, and go out after the fresh snapshot (resync).
	live      bool     // the first snapshot is out (released)
	resyncDue bool     // a change arrived before the first snapshot went out
	holding   bool     // a resync runs: Send holds events in held
	held      [][]byte // events held during a resync, oldest first
	gen       uint64   // the latest resync; an older one that finishes late is dropped
}

// Send queues msg without blocking; false means the queue is full.
func (c *conn) Send(msg []byte) bool {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return true
	}
	if len(c.queue)+len(c.held) >= sendQueue {
		c.mu.Unlock()
		return false
	}
	if c.holding {
		c.held = append(c.held, msg)
		c.mu.Unlock()
		return true
	}
	c.queue = append(c.queue, msg)
	return c.sendLocked()
}

// sendLocked writes what is queued at once, from the caller's goroutine, when nothing else is
// being written and the socket takes all of it without waiting (a non-blocking write); whatever
// remains goes to a flush goroutine as before. It unlocks c.mu.
//
// The Hub delivers an event to every member of a room from the publisher's goroutine; starting a
// flush goroutine for each member and event cost a goroutine, and often a wake-up of an idle
// thread (a futex call), per delivered event, on top of the write itself (docs/performance.md).
// A socket whose buffer has room, which is nearly always, now costs one write(2) and nothing else.
func (c *conn) sendLocked() bool {
	if c.corked {
		c.mu.Unlock()
		return true // written with the answer, by uncork
	}
	if c.flushing || c.rc == nil || c.closing || c.first != nil || c.pingDue || c.pongDue != nil {
		return c.startFlushLocked()
	}
	batch := c.queue
	c.queue = nil
	c.flushing = true
	c.mu.Unlock()
	b := flushBufs.Get().(*bytes.Buffer)
	b.Reset()
	for _, msg := range batch {
		writeFrame(b, ws.OpText, msg)
	}
	n, err := c.writeNow(b.Bytes())
	if err != nil {
		flushBufs.Put(b)
		c.writeFailed()
		go c.finish(nil) // not here: finish leaves the room, whose lock the Hub may hold
		return true
	}
	if n < b.Len() {
		go c.flushRest(b, n) // the socket is full: a goroutine waits for it
		return true
	}
	if b.Cap() <= 64<<10 {
		flushBufs.Put(b)
	}
	c.mu.Lock()
	if len(c.queue) == 0 && !c.closing && !c.pingDue && c.pongDue == nil {
		c.flushing = false
		c.mu.Unlock()
		return true
	}
	c.mu.Unlock()
	go c.flush() // more arrived meanwhile; flushing is still set
	return true
}

// cork holds the events sent to the connection while one of its requests runs, and uncork writes
// them together with the answer: a vote's own "voted" event and its ack, a reveal's "revealed"
// and its ack, go out in one write(2) instead of two. Writes are most of the server's CPU at load
// (docs/performance.md), and a held event waits at most as long as the request takes, which
// is mostly a commit. A flush that runs meanwhile (a ping, a full socket) still writes
// them: cork saves system calls, it never holds anything back on its own.
func (c *conn) cork() {
	c.mu.Lock()
	c.corked = true
	c.mu.Unlock()
}

func (c *conn) uncork() {
	c.mu.Lock()
	c.corked = false
	if len(c.queue) == 0 {
		c.mu.Unlock()
		return
	}
	c.sendLocked()
}

// writeNow writes p without waiting for the socket: it returns how much the socket took (all of
// it, part of it, or nothing when its buffer is full).
func (c *conn) writeNow(p []byte) (int, error) {
	var n int
	var werr error
	err := c.rc.Write(func(fd uintptr) bool {
		for {
			n, werr = syscall.Write(int(fd), p)
			if werr != syscall.EINTR {
				return true
			}
		}
	})
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return 0, nil // a flush goroutine writes it, with a deadline of its own
	}
	if err != nil {
		return 0, err
	}
	if werr == syscall.EAGAIN {
		return 0, nil
	}
	if werr != nil {
		return 0, werr
	}
	return n, nil
}

// flushRest writes what the socket did not take of b, from off, then goes on as flush.
func (c *conn) flushRest(b *bytes.Buffer, off int) {
	_ = c.nc.SetWriteDeadline(time.Now().Add(writeTimeout.get()))
	_, err := c.nc.Write(b.Bytes()[off:])
	_ = c.nc.SetWriteDeadline(time.Time{})
	if b.Cap() <= 64<<10 {
		flushBufs.Put(b)
	}
	if err != nil {
		c.writeFailed()
		c.finish(nil)
		return
	}
	c.flush()
}

// writeFailed marks the connection closing after a failed write: nothing more is written to it.
func (c *conn) writeFailed() {
	c.mu.Lock()
	c.closing, c.reason = true, "write failed"
	c.queue = nil
	c.mu.Unlock()
}

// MemberChanged implements session.MemberListener: the Hub has applied a change of who this
// connection's participant is. A removed participant's connection closes with statusRemoved and
// the reason; any other change reloads the snapshot, so that the page shows what the new role may
// see (waiting joiners for a new organizer, the room for an admitted joiner) without reconnecting.
func (c *conn) MemberChanged(ch session.MemberChange) {
	if ch.Removed {
		c.kick(statusRemoved, ch.Reason)
		return
	}
	c.mu.Lock()
	switch {
	case c.closing:
	case !c.live:
		// The joining connection reads its snapshot again; this covers a change that arrives
		// after its last read.
		c.resyncDue = true
	default:
		c.startResyncLocked()
		return
	}
	c.mu.Unlock()
}

// startResyncLocked holds new events and reads a fresh snapshot in the background; it unlocks c.mu.
func (c *conn) startResyncLocked() {
	c.gen++
	gen := c.gen
	c.holding = true
	c.mu.Unlock()
	go c.resync(gen)
}

// resync sends a fresh snapshot, then the events held while it was read. Events queued before the
// change go first: the snapshot supersedes them, and the client applies what repeats idempotently.
func (c *conn) resync(gen uint64) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	snap, err := c.srv.svc.Snapshot(ctx, c.actor)
	cancel()
	if err != nil {
		if session.ErrorCode(err) == session.CodeForbidden {
			c.kick(statusRemoved, session.ErrorMessage(err))
		} else {
			c.Kick("could not reload the room")
		}
		return
	}
	msg, err := session.Event{Type: session.EvSnapshot, Data: snap}.Encode()
	if err != nil {
		c.Kick("could not reload the room")
		return
	}
	c.mu.Lock()
	if c.closing || gen != c.gen {
		c.mu.Unlock()
		return
	}
	c.queue = append(c.queue, msg)
	c.queue = append(c.queue, c.held...)
	c.held, c.holding = nil, false
	c.startFlushLocked()
}

// dropQueued forgets the events queued for a connection whose first snapshot is not out yet: they
// were routed by flags that turned out stale, and the snapshot read next covers them.
func (c *conn) dropQueued() {
	c.mu.Lock()
	c.queue, c.held = nil, nil
	c.mu.Unlock()
}

// Kick closes the connection after what is queued is sent, with a close frame giving the reason.
func (c *conn) Kick(reason string) { c.kick(0, reason) }

func (c *conn) kick(code ws.StatusCode, reason string) {
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
	c.live = true
	if c.resyncDue && !c.closing {
		c.resyncDue = false
		c.gen++
		c.holding = true
		go c.resync(c.gen)
	}
	c.mu.Unlock()
	go c.flush() // flushing has been set since the connection was made
}

// flushBufs recycles the buffers frames are assembled in. A buffer that grew past 64 KB (a large
// snapshot) is left to the garbage collector.
var flushBufs = sync.Pool{New: func() any { return bytes.NewBuffer(make([]byte, 0, 4096)) }}

// writeFrame appends one final, unmasked frame to b: a server never masks (RFC 6455 section 5.1),
// so the gobwas header is all there is to add. Writing to a bytes.Buffer cannot fail.
func writeFrame(b *bytes.Buffer, op ws.OpCode, payload []byte) {
	_ = ws.WriteHeader(b, ws.Header{Fin: true, OpCode: op, Length: int64(len(payload))})
	b.Write(payload)
}

// flush writes everything queued, then ends; when the connection is closing it also sends the
// close frame and closes the connection. Only one flush runs per connection at a time.
func (c *conn) flush() {
	b := flushBufs.Get().(*bytes.Buffer)
	defer func() {
		if b.Cap() <= 64<<10 {
			flushBufs.Put(b)
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
			c.finish(b)
			return
		}
		c.mu.Unlock()
		// Everything due goes out in one buffer and one system call.
		b.Reset()
		if pong != nil {
			writeFrame(b, ws.OpPong, pong)
		}
		if ping {
			writeFrame(b, ws.OpPing, nil)
		}
		if first != nil {
			writeFrame(b, ws.OpText, first)
		}
		for _, msg := range batch {
			writeFrame(b, ws.OpText, msg)
		}
		_ = c.nc.SetWriteDeadline(time.Now().Add(writeTimeout.get()))
		if _, err := c.nc.Write(b.Bytes()); err != nil {
			c.writeFailed()
			c.finish(nil)
			return
		}
		// No deadline outside a blocking write: the non-blocking writes of sendLocked would
		// otherwise fail once it has passed.
		_ = c.nc.SetWriteDeadline(time.Time{})
	}
}

// finish sends the close frame (unless the connection already failed), closes the connection,
// and takes it out of its room. It runs once, at the end of the last flush.
func (c *conn) finish(buf *bytes.Buffer) {
	c.ping.Stop()
	c.mu.Lock()
	code, reason, peerClose := c.closeCode, c.reason, c.peerClose
	c.mu.Unlock()
	if buf != nil {
		if code == 0 {
			code = ws.StatusGoingAway
			switch {
			case reason == "server restart":
				code = statusServiceRestart
			case reason != "" && reason != "client closed":
				code = statusTryAgainLater
			}
		}
		payload := ws.NewCloseFrameBody(code, reason) // cropped to the 125 bytes allowed
		if peerClose != nil {
			payload = peerClose // the client closed first: echo its code
		}
		buf.Reset()
		writeFrame(buf, ws.OpClose, payload)
		_ = c.nc.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = c.nc.Write(buf.Bytes())
	}
	c.leave()
	stopReading(c)
	c.nc.Close()
	c.srv.conns.Done()
}

// The ways a client's frames can break the protocol; each closes the connection with its code.
var (
	errProtocol = errors.New("protocol error")
	errTooBig   = errors.New("message too big")
	// errInvalidUTF8 is a text message that is not UTF-8 (RFC 6455 section 8.1).
	errInvalidUTF8 = errors.New("invalid UTF-8")
)

// consume takes bytes read from the client, handles every message they complete, and keeps the
// start of an incomplete frame for the next read. It reports whether to go on reading.
//
// gobwas/ws parses and checks each header; the payload is unmasked in place, in the read buffer,
// so a complete frame is never copied (only a fragmented message is assembled).
func (c *conn) consume(data []byte) bool {
	c.lastRead.Store(time.Now().UnixNano())
	b := data
	if len(c.in) > 0 {
		c.in = append(c.in, data...)
		b = c.in
	}
	var r bytes.Reader
	for {
		r.Reset(b)
		h, err := ws.ReadHeader(&r)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break // the header is not all here yet
		}
		if err != nil {
			return c.fail(errProtocol)
		}
		// Server side: clients must mask, no extension is negotiated, control frames are final
		// and short, and continuations come only (and data frames never) inside a fragmented
		// message.
		state := ws.StateServerSide
		if c.fragging {
			state = state.Set(ws.StateFragmented)
		}
		if err := ws.CheckHeader(h, state); err != nil {
			return c.fail(errProtocol)
		}
		if h.Length > hardLimit {
			return c.fail(errTooBig)
		}
		head := len(b) - r.Len()
		if int64(r.Len()) < h.Length {
			break // the payload is not all here yet
		}
		payload := b[head : head+int(h.Length)]
		ws.Cipher(payload, h.Mask, 0)
		b = b[head+int(h.Length):]
		if !c.frame(h, payload) {
			return false
		}
	}
	if len(b) > hardLimit+ws.MaxHeaderSize {
		return c.fail(errTooBig)
	}
	c.in = append(c.in[:0], b...)
	if len(c.in) == 0 {
		c.in = nil
	}
	return true
}

// frame handles one frame that ws.CheckHeader accepted; false ends the connection.
func (c *conn) frame(h ws.Header, payload []byte) bool {
	switch h.OpCode {
	case ws.OpClose:
		echo := []byte{} // a close without a code is answered without one
		if len(payload) >= 2 {
			code, _ := ws.ParseCloseFrameData(payload)
			echo = ws.NewCloseFrameBody(code, "")
		}
		c.mu.Lock()
		c.peerClose = echo
		c.mu.Unlock()
		c.Kick("client closed")
		return false
	case ws.OpPing:
		c.pong(payload)
	case ws.OpPong:
	case ws.OpContinuation:
		if len(c.frag)+len(payload) > hardLimit {
			return c.fail(errTooBig)
		}
		c.frag = append(c.frag, payload...)
		if h.Fin {
			c.fragging = false
			msg := c.frag
			c.frag = nil
			if c.fragText && !utf8.Valid(msg) {
				return c.fail(errInvalidUTF8)
			}
			c.srv.request(c, msg)
		}
	default: // text or binary: both carry JSON requests
		if !h.Fin {
			// The payload lives in the read buffer, which is reused: keep a copy.
			c.fragging, c.fragText = true, h.OpCode == ws.OpText
			c.frag = append([]byte(nil), payload...)
			return true
		}
		if h.OpCode == ws.OpText && !utf8.Valid(payload) {
			return c.fail(errInvalidUTF8)
		}
		c.srv.request(c, payload)
	}
	return !c.closingNow()
}

// fail closes the connection for a broken frame: 1009 for a message too large to read, 1007 for a
// text message that is not UTF-8, 1002 for anything else.
func (c *conn) fail(err error) bool {
	switch err {
	case errTooBig:
		c.kick(ws.StatusMessageTooBig, "message too large: the limit is 64 KiB")
	case errInvalidUTF8:
		c.kick(ws.StatusInvalidFramePayloadData, "a text message must be UTF-8")
	default:
		c.kick(ws.StatusProtocolError, "protocol error")
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
	actor, me, err := s.authenticate(c)
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
	// Browsers send Origin with every WebSocket handshake, and cookies with it: refuse other
	// sites, as for state-changing API requests (csrf).
	if origin := c.GetHeader("Origin"); origin != "" && !sameOrigin(origin, c.Request, s.cfg.BaseURL) {
		writeError(c, session.Errorf(session.CodeForbidden, "cross-site WebSocket refused: Origin %s is not this server", origin))
		return
	}
	release, err := s.guard.connect(c.ClientIP(), actor.SessionID)
	if err != nil {
		writeRateLimited(c, err, 30*time.Second)
		return
	}
	// HTTPUpgrader hijacks the connection and answers the handshake (or its error) itself. The
	// bufio.ReadWriter it returns is net/http's and is dropped here: the connection reads and
	// writes the socket directly, with pooled buffers, so nothing stays allocated while idle.
	nc, rw, _, err := ws.HTTPUpgrader{Timeout: writeTimeout.get()}.Upgrade(c.Request, c.Writer)
	if err != nil || rw.Reader.Buffered() > 0 {
		// A client may not send frames before it has the handshake's answer (RFC 6455 section
		// 4.1); refusing such bytes means none can be lost in net/http's buffer.
		if nc != nil {
			nc.Close()
		}
		release()
		return
	}
	cn := &conn{srv: s, nc: nc, actor: actor, flushing: true}
	cn.lastRead.Store(time.Now().UnixNano())
	member := &session.Member{Sub: cn, ParticipantID: actor.ParticipantID}
	member.SetRole(me.Role == session.RoleOrganizer && me.Status == session.StatusActive, me.Status == session.StatusPending)
	// Join before the snapshot is read, so that no event falls between the two; events queued
	// meanwhile may repeat what the snapshot holds, which the client applies idempotently. They
	// wait (flushing is set) until the snapshot is ready to go first.
	leave := s.hub.Join(actor.SessionID, member)
	cn.leave = func() { leave(); release() }
	snap, err := s.joinSnapshot(c.Request.Context(), cn, member)
	if err != nil {
		cn.leave()
		msg, _ := session.Event{Type: session.EvError, Data: toErrorBody(err)}.Encode()
		code, reason := ws.StatusPolicyViolation, session.ErrorMessage(err)
		cn.mu.Lock()
		if cn.closeCode == statusRemoved {
			code, reason = cn.closeCode, cn.reason // removed while joining: say so
		}
		cn.mu.Unlock()
		var b bytes.Buffer
		writeFrame(&b, ws.OpText, msg)
		writeFrame(&b, ws.OpClose, ws.NewCloseFrameBody(code, reason))
		_ = nc.SetWriteDeadline(time.Now().Add(writeTimeout.get()))
		_, _ = nc.Write(b.Bytes())
		nc.Close()
		return
	}
	first, _ := session.Event{Type: session.EvSnapshot, Data: snap}.Encode()
	// Counted until the connection's last flush closes it. Under s.mu, so that Shutdown either
	// waits for this connection or sees none: WaitGroup.Add must not race with Wait.
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		cn.leave()
		_ = nc.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = nc.Write(ws.MustCompileFrame(ws.NewCloseFrame(ws.NewCloseFrameBody(statusServiceRestart, "server restart"))))
		nc.Close()
		return
	}
	s.conns.Add(1)
	s.mu.Unlock()
	// One runtime timer per connection and no goroutine: it fires every pingInterval and queues
	// a ping, staggered by the connection's start.
	cn.ping = time.AfterFunc(pingInterval, cn.pingNow)
	// The reader starts before the first flush, which may close the connection and so must find
	// it registered; requests it handles meanwhile queue their replies behind the snapshot.
	startReading(cn)
	cn.release(first)
}

// joinSnapshot reads the snapshot of a joining connection. The member joined with the role its
// cookie was checked with; a change may have landed between that check and the join, unseen. So
// the snapshot's own reading of the participant decides: when the member was routed by anything
// else meanwhile, or a change arrived during the read, what was queued is dropped and the snapshot
// read again (a handful of times at most: roles do not change every millisecond).
func (s *Server) joinSnapshot(ctx context.Context, cn *conn, member *session.Member) (*session.Snapshot, error) {
	for attempt := 1; ; attempt++ {
		mark := member.Mark()
		snap, err := s.svc.Snapshot(ctx, cn.actor)
		if err != nil {
			return nil, err
		}
		if member.Settle(mark, snap.Me) {
			return snap, nil
		}
		cn.dropQueued()
		if attempt == 5 {
			return nil, &session.Error{Code: session.CodeUnavailable, Message: "the room is changing too fast; reconnect in a moment"}
		}
	}
}

// request handles one client message: it runs it through the action table and queues the reply.
// The payload is not kept.
func (s *Server) request(c *conn, body []byte) {
	c.cork()
	defer c.uncork()
	if len(body) > maxMessage {
		s.reply(c, "", nil, &session.Error{Code: session.CodeInvalid, Message: "message too large: the limit is 8 KiB"})
		return
	}
	if !utf8.Valid(body) { // a binary message; text ones were checked as they arrived
		s.reply(c, "", nil, &session.Error{Code: session.CodeInvalid, Message: "message is not valid UTF-8: JSON text must be UTF-8"})
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
	if err, retry := s.guard.message(c.actor); err != nil {
		s.replyLimited(c, m.ID, err, retry)
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
	// RetryAfter is, for a rate_limited error, the seconds to wait (as HTTP's Retry-After).
	RetryAfter int `json:"retry_after,omitempty"`
}

// replyLimited answers a message refused by the rate limit with an error naming when to retry.
func (s *Server) replyLimited(c *conn, id string, err error, retry time.Duration) {
	msg, _ := session.Event{Type: session.EvError, Data: errData{ID: id, errorBody: toErrorBody(err), RetryAfter: retrySeconds(retry)}}.Encode()
	if !c.Send(msg) {
		c.Kick("too slow: the send queue is full")
	}
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
