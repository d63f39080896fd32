package webhook

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pokor/pokor/session"
)

// TestDocumentedReceiver builds the Go receiver of docs/webhooks.md as a reader would copy it,
// runs it, and sends it a delivery signed by Pokor and a forged one: the example must accept the
// first and refuse the second.
func TestDocumentedReceiver(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	doc, err := os.ReadFile("../../docs/webhooks.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```go\n")
	code, _, ok2 := strings.Cut(rest, "```\n")
	if !ok || !ok2 {
		t.Fatal("docs/webhooks.md has no Go example")
	}
	// The example listens on :9000; the test gives it a free port.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	code = strings.Replace(code, `":9000"`, `"`+addr+`"`, 1)
	dir := t.TempDir()
	src, bin := filepath.Join(dir, "receiver.go"), filepath.Join(dir, "receiver")
	if err := os.WriteFile(src, []byte(code), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("go", "build", "-o", bin, src).CombinedOutput(); err != nil {
		t.Fatalf("the documented receiver does not build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "POKOR_WEBHOOK_SECRET=documented-secret-0123")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	logged := make(chan string, 4)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logged <- sc.Text()
		}
	}()
	for deadline := time.Now().Add(10 * time.Second); ; {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the documented receiver does not listen")
		}
		time.Sleep(20 * time.Millisecond)
	}
	s := New(nil, "test")
	d := &session.Delivery{ID: "d1", EventID: "e1", Event: "session.created", URL: "http://" + addr + "/pokor", Body: []byte(`{"id":"e1","type":"session.created"}`)}
	if err := s.Send(t.Context(), d, "documented-secret-0123", false); err != nil {
		t.Fatalf("the documented receiver refused a signed delivery: %v", err)
	}
	select {
	case line := <-logged:
		if !strings.Contains(line, "session.created") {
			t.Errorf("the receiver logged %q", line)
		}
	case <-time.After(5 * time.Second):
		t.Error("the receiver did not log the event")
	}
	if err := s.Send(t.Context(), d, "not-the-secret-at-all", false); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("the documented receiver accepted a forged delivery: %v", err)
	}
}
