package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of the CPU times in /proc/PID/stat; 100 on every Linux
// architecture Go supports.
const clockTicks = 100

// serverSample is what the generator reads about the server process at one moment.
type serverSample struct {
	At          time.Time `json:"-"`
	RSS         int64     `json:"rss_bytes"`      // VmRSS
	Threads     int64     `json:"threads"`        // OS threads
	FDs         int64     `json:"fds"`            // open files, sockets included
	CPU         float64   `json:"cpu_seconds"`    // user + system since start
	Goroutines  int64     `json:"goroutines"`     // go_goroutines
	Connections int64     `json:"ws_connections"` // pokor_ws_connections
	HeapInuse   int64     `json:"heap_inuse_bytes"`
	StackInuse  int64     `json:"stack_inuse_bytes"`
	NextGC      int64     `json:"next_gc_bytes"` // the heap goal: twice the live heap with GOGC=100
	GCs         int64     `json:"gcs"`           // garbage collections since start
	// GoHeld is what the Go runtime holds from the OS (sys minus released); RSS beyond it is
	// SQLite's page caches and the C-style allocations of modernc's SQLite.
	GoHeld        int64 `json:"go_held_bytes"`
	sys, released int64
}

// probe reads a server's process figures from /proc and its /metrics endpoint.
type probe struct {
	pid  int
	base string
	hc   *http.Client
}

func (p *probe) sample(ctx context.Context) (serverSample, error) {
	s := serverSample{At: time.Now()}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.pid))
	if err != nil {
		return s, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "VmRSS:":
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			s.RSS = kb << 10
		case "Threads:":
			s.Threads, _ = strconv.ParseInt(f[1], 10, 64)
		}
	}
	if fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", p.pid)); err == nil {
		s.FDs = int64(len(fds))
	}
	s.CPU, _ = procCPU(p.pid)
	if err := p.scrape(ctx, &s); err != nil {
		return s, err
	}
	return s, nil
}

// procCPU returns the user and system CPU seconds a process has used.
func procCPU(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces; the fields after it are space separated.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, errors.New("unexpected /proc stat format")
	}
	f := strings.Fields(string(b[i+2:]))
	if len(f) < 13 {
		return 0, errors.New("unexpected /proc stat format")
	}
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / clockTicks, nil
}

func (p *probe) scrape(ctx context.Context, s *serverSample) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.base+"/metrics", nil)
	res, err := p.hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		name, value, ok := strings.Cut(line, " ")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			continue
		}
		switch name {
		case "go_goroutines":
			s.Goroutines = int64(v)
		case "pokor_ws_connections":
			s.Connections = int64(v)
		case "go_memstats_heap_inuse_bytes":
			s.HeapInuse = int64(v)
		case "go_memstats_stack_inuse_bytes":
			s.StackInuse = int64(v)
		case "go_memstats_next_gc_bytes":
			s.NextGC = int64(v)
		case "go_gc_duration_seconds_count":
			s.GCs = int64(v)
		case "go_memstats_sys_bytes":
			s.sys = int64(v)
		case "go_memstats_heap_released_bytes":
			s.released = int64(v)
		}
	}
	s.GoHeld = s.sys - s.released
	return sc.Err()
}

// findListener returns the pid of the process listening on the TCP port of addr, by matching
// the socket's inode in /proc/net/tcp with the open files of every process we may read.
func findListener(addr string) (int, error) {
	_, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, err
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return 0, err
	}
	inodes := map[string]bool{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			fs := strings.Fields(line)
			if len(fs) < 10 || fs[3] != "0A" { // 0A: LISTEN
				continue
			}
			_, hexPort, _ := strings.Cut(fs[1], ":")
			if p, err := strconv.ParseInt(hexPort, 16, 32); err == nil && int(p) == port {
				inodes["socket:["+fs[9]+"]"] = true
			}
		}
	}
	if len(inodes) == 0 {
		return 0, fmt.Errorf("nothing listens on port %d", port)
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/fd")
	for _, dir := range procs {
		fds, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			if target, err := os.Readlink(filepath.Join(dir, fd.Name())); err == nil && inodes[target] {
				return strconv.Atoi(filepath.Base(filepath.Dir(dir)))
			}
		}
	}
	return 0, fmt.Errorf("no readable process holds the listener on port %d; pass --server-pid", port)
}

// localServer is a Pokor started by the generator on a fresh SQLite database.
type localServer struct {
	cmd  *exec.Cmd
	dir  string
	url  string
	log  *os.File
	done chan error
}

// startServer runs `bin serve` on 127.0.0.1 and a free port with a database in a new
// temporary directory, and waits until it is ready.
// With cpus set, the server is pinned to those CPUs (taskset -c cpus).
func startServer(ctx context.Context, bin, logPath, cpus string, env ...string) (*localServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	dir, err := os.MkdirTemp("", "pokor-load-")
	if err != nil {
		return nil, err
	}
	if logPath == "" {
		logPath = filepath.Join(dir, "server.log")
	}
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	s := &localServer{dir: dir, url: "http://" + addr, log: logf, done: make(chan error, 1)}
	s.cmd = exec.Command(bin, "serve")
	if cpus != "" {
		s.cmd = exec.Command("taskset", "-c", cpus, bin, "serve")
	}
	// Request logging is turned down: one log line per setup request would cost the server
	// more than the request itself.
	s.cmd.Env = append(os.Environ(),
		"POKOR_ADDR="+addr, "POKOR_BASE_URL="+s.url,
		"POKOR_DATABASE_URL=sqlite:"+filepath.Join(dir, "pokor.db"), "POKOR_LOG_LEVEL=warn")
	s.cmd.Env = append(s.cmd.Env, env...)
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { s.done <- s.cmd.Wait() }()
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := hc.Get(s.url + "/readyz")
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		select {
		case err := <-s.done:
			return nil, fmt.Errorf("the server exited: %v (log: %s)", err, s.logTail())
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("the server was not ready within a minute (log: %s)", s.logTail())
		}
	}
}

func (s *localServer) pid() int { return s.cmd.Process.Pid }

func (s *localServer) logTail() string {
	b, _ := os.ReadFile(s.log.Name())
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return strings.TrimSpace(string(b))
}

// stop ends the server with SIGTERM (a graceful shutdown) and removes its directory.
func (s *localServer) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.log.Close()
	os.RemoveAll(s.dir)
}
