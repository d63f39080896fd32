package webui

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gorilla/websocket"
)

// frame is one WebSocket frame as a client reads it.
type frame struct {
	opcode  int
	payload []byte
}

// readFrame reads one unmasked frame, as a server sends them.
func readFrame(r *bufio.Reader) (frame, error) {
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return frame{}, err
	}
	if h[0]&0x80 == 0 || h[1]&0x80 != 0 {
		return frame{}, fmt.Errorf("fragmented or masked frame: % x", h)
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return frame{}, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return frame{}, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	f := frame{opcode: int(h[0] & 0x0f), payload: make([]byte, n)}
	_, err := io.ReadFull(r, f.payload)
	return f, err
}

// TestWriteFrameLengths checks the three length encodings against the test's own reader.
func TestWriteFrameLengths(t *testing.T) {
	for _, n := range []int{0, 1, 125, 126, 127, 4000, 65535, 65536, 200000} {
		payload := bytes.Repeat([]byte{'x'}, n)
		var b bytes.Buffer
		writeFrame(&b, ws.OpText, payload)
		f, err := readFrame(bufio.NewReader(&b))
		if err != nil || f.opcode != websocket.TextMessage || !bytes.Equal(f.payload, payload) {
			t.Errorf("length %d: got opcode %d, %d bytes, %v", n, f.opcode, len(f.payload), err)
		}
	}
}

// pipeConn returns a connection over an in-memory pipe, which blocks the writer until the client
// reads: a client that does not read is as slow as a client can be.
func pipeConn(t *testing.T) (*conn, *bufio.Reader, chan struct{}) {
	t.Helper()
	server, client := net.Pipe()
	t.Cleanup(func() { client.Close() })
	closed := make(chan struct{})
	srv := &Server{}
	srv.conns.Add(1)
	go func() { srv.conns.Wait(); close(closed) }()
	c := &conn{srv: srv, nc: server, flushing: true, leave: func() {}}
	c.lastRead.Store(time.Now().UnixNano())
	c.ping = time.AfterFunc(time.Hour, c.pingNow)
	return c, bufio.NewReader(client), closed
}

// TestSlowClientIsCutLoose fills the queue of a client that reads nothing: the event past the
// bound is refused (the hub then kicks), and what was queued still goes out, in order, after the
// snapshot and before the close frame that says why.
func TestSlowClientIsCutLoose(t *testing.T) {
	c, r, closed := pipeConn(t)
	c.release([]byte(`{"type":"snapshot"}`))
	for i := 0; i < sendQueue; i++ {
		if !c.Send([]byte(fmt.Sprintf(`{"n":%d}`, i))) {
			t.Fatalf("event %d refused before the queue was full", i)
		}
	}
	// The flush is blocked writing the snapshot; the queue holds sendQueue events now, or it
	// did and the flush took them. Keep sending until one is refused.
	refused := false
	for i := 0; i < 3*sendQueue && !refused; i++ {
		refused = !c.Send([]byte(`{"late":true}`))
	}
	if !refused {
		t.Fatal("a client that reads nothing never filled its queue")
	}
	c.Kick("too slow: the send queue is full")
	if !c.Send([]byte(`{"after":"kick"}`)) {
		t.Error("Send after Kick reported a full queue")
	}
	var got []string
	for {
		f, err := readFrame(r)
		if err != nil {
			t.Fatalf("reading: %v", err)
		}
		if f.opcode == websocket.CloseMessage {
			code := binary.BigEndian.Uint16(f.payload)
			if code != websocket.CloseTryAgainLater || string(f.payload[2:]) != "too slow: the send queue is full" {
				t.Errorf("close frame %d %q", code, f.payload[2:])
			}
			break
		}
		got = append(got, string(f.payload))
	}
	if len(got) == 0 || got[0] != `{"type":"snapshot"}` {
		t.Fatalf("the snapshot did not come first: %q", got)
	}
	for i := 0; i < sendQueue; i++ {
		if got[1+i] != fmt.Sprintf(`{"n":%d}`, i) {
			t.Fatalf("event %d is %q", i, got[1+i])
		}
	}
	for _, m := range got {
		if m == `{"after":"kick"}` {
			t.Error("an event sent after the kick went out")
		}
	}
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("the connection was not closed after the close frame")
	}
}

// TestEventsQueuedBeforeTheSnapshotWait checks that events published while the snapshot is being
// read follow it, and that a ping goes out on its own.
func TestEventsQueuedBeforeTheSnapshotWait(t *testing.T) {
	c, r, _ := pipeConn(t)
	c.Send([]byte(`{"type":"presence"}`))
	c.release([]byte(`{"type":"snapshot"}`))
	for _, want := range []string{`{"type":"snapshot"}`, `{"type":"presence"}`} {
		f, err := readFrame(r)
		if err != nil || string(f.payload) != want {
			t.Fatalf("got %q, %v; want %s", f.payload, err, want)
		}
	}
	c.pingNow()
	if f, err := readFrame(r); err != nil || f.opcode != websocket.PingMessage {
		t.Fatalf("got opcode %d, %v; want a ping", f.opcode, err)
	}
	c.Kick("server restart")
	if f, err := readFrame(r); err != nil || f.opcode != websocket.CloseMessage || binary.BigEndian.Uint16(f.payload) != websocket.CloseServiceRestart {
		t.Fatalf("got %v %q, %v; want close 1012", f.opcode, f.payload, err)
	}
}

// clientFrame builds a frame as a browser sends it: masked.
func clientFrame(fin bool, opcode int, payload []byte) []byte {
	b0 := byte(opcode)
	if fin {
		b0 |= 0x80
	}
	b := []byte{b0}
	switch n := len(payload); {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n <= 0xffff:
		b = append(b, 0x80|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	key := []byte{0x12, 0x34, 0x56, 0x78}
	b = append(b, key...)
	for i, c := range payload {
		b = append(b, c^key[i&3])
	}
	return b
}

// readyConn is a pipe connection whose snapshot has been read.
func readyConn(t *testing.T) (*conn, *bufio.Reader, chan struct{}) {
	t.Helper()
	c, r, closed := pipeConn(t)
	c.release([]byte(`{"type":"snapshot"}`))
	if f, err := readFrame(r); err != nil || string(f.payload) != `{"type":"snapshot"}` {
		t.Fatalf("snapshot: %q, %v", f.payload, err)
	}
	return c, r, closed
}

// feed gives the connection its input in pieces of n bytes, as TCP may deliver it, from a
// goroutine: the pipe makes every reply wait until the test reads it.
func feed(c *conn, data []byte, n int) chan bool {
	done := make(chan bool, 1)
	go func() {
		ok := true
		for len(data) > 0 && ok {
			k := min(n, len(data))
			ok = c.consume(append([]byte(nil), data[:k]...))
			data = data[k:]
		}
		done <- ok
	}()
	return done
}

func TestReaderAssemblesFragmentsAndAnswersPings(t *testing.T) {
	for _, piece := range []int{1, 3, 1000} {
		t.Run(fmt.Sprint("pieces of ", piece), func(t *testing.T) {
			c, r, _ := readyConn(t)
			msg := []byte(`{"id":"42","type":"ping"}`)
			var in []byte
			in = append(in, clientFrame(false, websocket.TextMessage, msg[:10])...)
			in = append(in, clientFrame(true, websocket.PingMessage, []byte("are you there"))...)
			in = append(in, clientFrame(false, 0, msg[10:20])...)
			in = append(in, clientFrame(true, 0, msg[20:])...)
			done := feed(c, in, piece)
			if f, err := readFrame(r); err != nil || f.opcode != websocket.PongMessage || string(f.payload) != "are you there" {
				t.Fatalf("got opcode %d %q, %v; want the pong", f.opcode, f.payload, err)
			}
			f, err := readFrame(r)
			if err != nil || !bytes.Contains(f.payload, []byte(`"type":"ack"`)) || !bytes.Contains(f.payload, []byte(`"id":"42"`)) {
				t.Fatalf("got %q, %v; want the ack of request 42", f.payload, err)
			}
			if !<-done {
				t.Fatal("the reader stopped")
			}
			if c.in != nil || c.frag != nil {
				t.Errorf("an idle connection still holds %d + %d bytes", len(c.in), len(c.frag))
			}
		})
	}
}

func TestReaderLimitsAndProtocolErrors(t *testing.T) {
	big := bytes.Repeat([]byte("x"), maxMessage+100)
	tests := []struct {
		name  string
		in    []byte
		reply string // a text reply expected before anything else, if any
		code  int    // the close code expected, 0 if the connection goes on
	}{
		{"over 8 KiB is refused, the socket goes on", clientFrame(true, websocket.TextMessage, big), "too large", 0},
		{"over 64 KiB closes with 1009", clientFrame(true, websocket.TextMessage, make([]byte, hardLimit+1)), "", websocket.CloseMessageTooBig},
		{"unmasked frame closes with 1002", []byte{0x81, 0x02, '{', '}'}, "", websocket.CloseProtocolError},
		{"continuation without a start closes with 1002", clientFrame(true, 0, []byte("{}")), "", websocket.CloseProtocolError},
		{"fragmented ping closes with 1002", clientFrame(false, websocket.PingMessage, nil), "", websocket.CloseProtocolError},
		{"text frame inside a fragmented message closes with 1002", append(clientFrame(false, websocket.TextMessage, []byte("{")), clientFrame(true, websocket.TextMessage, []byte("{}"))...), "", websocket.CloseProtocolError},
		{"reserved opcode closes with 1002", clientFrame(true, 3, nil), "", websocket.CloseProtocolError},
		{"RSV bit without an extension closes with 1002", append([]byte{0xc1}, clientFrame(true, websocket.TextMessage, []byte("{}"))[1:]...), "", websocket.CloseProtocolError},
		{"ping over 125 bytes closes with 1002", clientFrame(true, websocket.PingMessage, make([]byte, 126)), "", websocket.CloseProtocolError},
		{"fragments over 64 KiB close with 1009", append(clientFrame(false, websocket.TextMessage, make([]byte, hardLimit/2+1)), clientFrame(true, 0, make([]byte, hardLimit/2+1))...), "", websocket.CloseMessageTooBig},
		{"client close is echoed", clientFrame(true, websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye")), "", websocket.CloseNormalClosure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, r, closed := readyConn(t)
			done := feed(c, tt.in, 4096)
			if tt.reply != "" {
				f, err := readFrame(r)
				if err != nil || !bytes.Contains(f.payload, []byte(tt.reply)) {
					t.Fatalf("got %q, %v; want a reply containing %q", f.payload, err, tt.reply)
				}
			}
			if tt.code == 0 {
				if !<-done {
					t.Fatal("the reader stopped")
				}
				return
			}
			f, err := readFrame(r)
			if err != nil || f.opcode != websocket.CloseMessage || int(binary.BigEndian.Uint16(f.payload)) != tt.code {
				t.Fatalf("got opcode %d %q, %v; want close %d", f.opcode, f.payload, err, tt.code)
			}
			if <-done {
				t.Error("the reader goes on after closing")
			}
			<-closed
		})
	}
}

// TestPortableReader runs a round over real sockets with the reader used where there is no
// epoll: a goroutine per connection.
func TestPortableReader(t *testing.T) {
	defer func(v bool) { usePoller = v }(usePoller)
	usePoller = false
	ts := newTestServer(t, "")
	bob := ts.newClient("Bob")
	org, _, story := roomWith(t, ts, nil, bob)
	if ack := bob.request("vote", map[string]any{"story_id": story, "data": map[string]any{"card": "q9z"}}); ack["type"] != "ack" {
		t.Fatalf("vote: %v", ack)
	}
	if ack := org.request("reveal", map[string]any{"story_id": story}); ack["type"] != "ack" {
		t.Fatalf("reveal: %v", ack)
	}
	bob.expect("revealed")
}

// TestWebSocketOriginCheck: the handshake accepts the server's own origin and none, and refuses
// another site before upgrading, so a page elsewhere cannot ride the member's cookies.
func TestWebSocketOriginCheck(t *testing.T) {
	ts := newTestServer(t, "")
	org := ts.newClient("Ann")
	sid := org.create(map[string]any{"title": "x"})
	u := "ws" + strings.TrimPrefix(ts.http.URL, "http") + "/s/" + sid + "/ws"
	for origin, want := range map[string]int{
		"":                     http.StatusSwitchingProtocols,
		ts.http.URL:            http.StatusSwitchingProtocols,
		"https://evil.example": http.StatusForbidden,
	} {
		hdr := http.Header{}
		for _, ck := range org.http.Jar.Cookies(mustURL(ts.http.URL)) {
			hdr.Add("Cookie", ck.Name+"="+ck.Value)
		}
		if origin != "" {
			hdr.Set("Origin", origin)
		}
		c, res, err := websocket.DefaultDialer.Dial(u, hdr)
		if c != nil {
			c.Close()
		}
		if res == nil || res.StatusCode != want {
			t.Errorf("Origin %q: %v, %v; want status %d", origin, res, err, want)
		}
	}
}

// TestDirectWritesAfterTheWriteDeadline: an event written from the publisher's goroutine
// (sendLocked) long after the last blocking write of the connection still goes out; the deadline
// of that write once made every later direct write fail and closed the connection.
func TestDirectWritesAfterTheWriteDeadline(t *testing.T) {
	defer writeTimeout.set(0)
	writeTimeout.set(50 * time.Millisecond)
	ts := newTestServer(t, t.TempDir())
	defer ts.close()
	org := ts.newClient("Olga")
	sid := org.create(map[string]any{"title": "Deadlines", "name": "Olga"})
	org.connect(sid)
	for i := range 3 {
		time.Sleep(4 * writeTimeout.get())
		ann := ts.newClient(fmt.Sprintf("Ann %d", i))
		ann.join(sid, "voter")
		if ev := org.expect("participant"); ev == nil {
			t.Fatalf("event %d after the deadline did not arrive", i)
		}
	}
}
