package webui

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gorilla/websocket"

	"github.com/pokor/pokor/session"
)

// WebSocket tuning. The figures come from the capacity target (docs/performance.md): small
// buffers and a shared write-buffer pool keep an idle connection near 5 KB.
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

// conn is one room WebSocket connection.
type conn struct {
	ws     *websocket.Conn
	queue  chan []byte
	closed chan struct{}
	once   sync.Once
	reason string
}

// Send queues msg without blocking; false means the queue is full.
func (c *conn) Send(msg []byte) bool {
	select {
	case <-c.closed:
		return true
	default:
	}
	select {
	case c.queue <- msg:
		return true
	default:
		return false
	}
}

// Kick closes the connection; the writer sends the close frame with the reason.
func (c *conn) Kick(reason string) {
	c.once.Do(func() {
		c.reason = reason
		close(c.closed)
	})
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
	cn := &conn{ws: ws, queue: make(chan []byte, sendQueue), closed: make(chan struct{})}
	member := &session.Member{Sub: cn, ParticipantID: actor.ParticipantID}
	// Join before the snapshot is read, so that no event falls between the two; events queued
	// meanwhile may repeat what the snapshot holds, which the client applies idempotently.
	leave := s.hub.Join(actor.SessionID, member)
	snap, err := s.svc.Snapshot(c.Request.Context(), actor)
	if err != nil {
		leave()
		msg, _ := session.Event{Type: session.EvError, Data: toErrorBody(err)}.Encode()
		_ = ws.SetWriteDeadline(time.Now().Add(writeTimeout))
		_ = ws.WriteMessage(websocket.TextMessage, msg)
		_ = ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.ClosePolicyViolation, session.ErrorMessage(err)))
		ws.Close()
		return
	}
	member.SetRole(snap.Me.Role == session.RoleOrganizer, snap.Me.Status == session.StatusPending)
	first, _ := session.Event{Type: session.EvSnapshot, Data: snap}.Encode()
	s.conns.Add(2)
	go s.writeLoop(cn, first, leave)
	go s.readLoop(cn, actor)
}

// writeLoop sends the snapshot, then queued events, and pings. It owns all writes.
func (s *Server) writeLoop(c *conn, first []byte, leave func()) {
	defer s.conns.Done()
	ticker := time.NewTicker(pingInterval)
	defer func() {
		ticker.Stop()
		leave()
		c.ws.Close()
	}()
	write := func(msg []byte) bool {
		_ = c.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
		return c.ws.WriteMessage(websocket.TextMessage, msg) == nil
	}
	if !write(first) {
		c.Kick("write failed")
		return
	}
	for {
		select {
		case msg := <-c.queue:
			if !write(msg) {
				c.Kick("write failed")
				return
			}
		case <-ticker.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeTimeout)); err != nil {
				c.Kick("ping failed")
				return
			}
		case <-c.closed:
			// Flush what is queued (a reconnect notice) before saying goodbye.
			for {
				select {
				case msg := <-c.queue:
					if !write(msg) {
						return
					}
					continue
				default:
				}
				break
			}
			code := websocket.CloseGoingAway
			if c.reason == "server restart" {
				code = websocket.CloseServiceRestart
			} else if c.reason != "" && c.reason != "client closed" {
				code = websocket.CloseTryAgainLater
			}
			_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, c.reason), time.Now().Add(time.Second))
			return
		}
	}
}

// readLoop reads client requests, runs them through the action table and queues the reply.
func (s *Server) readLoop(c *conn, actor session.Actor) {
	defer s.conns.Done()
	defer c.Kick("client closed")
	_ = c.ws.SetReadDeadline(time.Now().Add(readTimeout))
	c.ws.SetPongHandler(func(string) error { return c.ws.SetReadDeadline(time.Now().Add(readTimeout)) })
	for {
		_, r, err := c.ws.NextReader()
		if err != nil {
			return
		}
		_ = c.ws.SetReadDeadline(time.Now().Add(readTimeout))
		body, err := io.ReadAll(io.LimitReader(r, maxMessage+1))
		if err != nil {
			return
		}
		if len(body) > maxMessage {
			_, _ = io.Copy(io.Discard, r)
			s.reply(c, "", nil, &session.Error{Code: session.CodeInvalid, Message: "message too large: the limit is 8 KiB"})
			continue
		}
		var m clientMessage
		if err := json.Unmarshal(body, &m); err != nil {
			s.reply(c, "", nil, &session.Error{Code: session.CodeInvalid, Message: "message is not valid JSON: " + err.Error()})
			continue
		}
		if m.Type == "ping" {
			s.reply(c, m.ID, map[string]string{"pong": time.Now().UTC().Format(time.RFC3339Nano)}, nil)
			continue
		}
		run, ok := actions[m.Type]
		if !ok {
			s.reply(c, m.ID, nil, &session.Error{Code: session.CodeInvalid, Field: "type", Message: "unknown message type " + quote(m.Type) + " (see docs/api.md)"})
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		res, err := s.run(ctx, m.Type, run, actor, request{StoryID: m.StoryID, ParticipantID: m.ParticipantID, Data: m.Data})
		cancel()
		s.reply(c, m.ID, res, err)
	}
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
