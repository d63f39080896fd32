package webui

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

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

func TestAppendFrameLengths(t *testing.T) {
	for _, n := range []int{0, 1, 125, 126, 127, 4000, 65535, 65536, 200000} {
		payload := bytes.Repeat([]byte{'x'}, n)
		f, err := readFrame(bufio.NewReader(bytes.NewReader(appendFrame(nil, websocket.TextMessage, payload))))
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
	c := &conn{nc: server, flushing: true, leave: func() {}, done: func() { close(closed) }}
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
