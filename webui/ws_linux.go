package webui

import (
	"log/slog"
	"sync"
	"syscall"
	"time"
)

// poller reports which room connections have data to read, through one epoll instance for the
// whole process. A connection is registered one-shot: when it becomes readable, a goroutine
// reads and handles what arrived and then re-arms it. So a connection waiting for its client
// holds no goroutine and no buffer; a goroutine blocked in Read would cost it 4 to 8 KB of stack
// (docs/performance.md).
type poller struct {
	epfd  int
	mu    sync.Mutex
	conns map[uint64]*conn
	next  uint64
}

var (
	pollerOnce sync.Once
	thePoller  *poller
)

// usePoller can be turned off by tests, to exercise the portable reader.
var usePoller = true

func getPoller() *poller {
	pollerOnce.Do(func() {
		fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
		if err != nil {
			slog.Warn("epoll is not available; room connections will read with a goroutine each", "err", err)
			return
		}
		thePoller = &poller{epfd: fd, conns: map[uint64]*conn{}}
		go thePoller.run()
	})
	return thePoller
}

// startReading has the connection's messages read and handled as they arrive.
func startReading(c *conn) {
	if sc, ok := c.nc.(syscall.Conn); ok && usePoller {
		if p := getPoller(); p != nil {
			if rc, err := sc.SyscallConn(); err == nil {
				c.rc = rc
				if p.add(c) == nil {
					return
				}
				c.rc = nil
			}
		}
	}
	go c.readBlocking()
}

// stopReading unregisters the connection before it is closed.
func stopReading(c *conn) {
	if c.rc != nil {
		thePoller.remove(c)
	}
}

const pollEvents = syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT

func (p *poller) add(c *conn) error {
	p.mu.Lock()
	p.next++
	c.id = p.next
	p.conns[c.id] = c
	p.mu.Unlock()
	if err := p.ctl(c, syscall.EPOLL_CTL_ADD); err != nil {
		p.mu.Lock()
		delete(p.conns, c.id)
		p.mu.Unlock()
		return err
	}
	return nil
}

func (p *poller) remove(c *conn) {
	p.mu.Lock()
	delete(p.conns, c.id)
	p.mu.Unlock()
	_ = p.ctl(c, syscall.EPOLL_CTL_DEL)
}

// ctl registers, re-arms or removes the connection's descriptor. The event carries the
// connection's id, never the descriptor itself, which the kernel may reuse once it is closed.
func (p *poller) ctl(c *conn, op int) error {
	var err error
	cerr := c.rc.Control(func(fd uintptr) {
		ev := syscall.EpollEvent{Events: pollEvents, Fd: int32(uint32(c.id)), Pad: int32(uint32(c.id >> 32))}
		err = syscall.EpollCtl(p.epfd, op, int(fd), &ev)
	})
	if cerr != nil {
		return cerr
	}
	return err
}

func (p *poller) run() {
	events := make([]syscall.EpollEvent, 256)
	for {
		n, err := syscall.EpollWait(p.epfd, events, -1)
		if err != nil {
			if err != syscall.EINTR {
				slog.Error("epoll_wait failed", "err", err)
				time.Sleep(10 * time.Millisecond)
			}
			continue
		}
		p.mu.Lock()
		for _, ev := range events[:n] {
			if c := p.conns[uint64(uint32(ev.Fd))|uint64(uint32(ev.Pad))<<32]; c != nil {
				go c.readable()
			}
		}
		p.mu.Unlock()
	}
}

// readBufs lend a buffer to a connection while it reads.
var readBufs = sync.Pool{New: func() any { b := make([]byte, 4096); return &b }}

// readable reads what the client sent, handles the messages it completes, and re-arms the
// connection. The poller starts it once per readiness, so it never runs twice at once for a
// connection, and the requests of a connection are handled in order.
func (c *conn) readable() {
	bp := readBufs.Get().(*[]byte)
	defer readBufs.Put(bp)
	buf := *bp
	for {
		var n int
		var rerr error
		err := c.rc.Read(func(fd uintptr) bool {
			n, rerr = syscall.Read(int(fd), buf)
			return true // never wait: the poller says when there is something to read
		})
		switch {
		case err != nil: // closed
			return
		case rerr == syscall.EINTR:
			continue
		case rerr == syscall.EAGAIN:
		case rerr != nil || n == 0:
			c.Kick("client closed")
			return
		default:
			if !c.consume(buf[:n]) {
				return
			}
			if n == len(buf) {
				continue // there may be more
			}
		}
		break
	}
	if !c.closingNow() {
		_ = thePoller.ctl(c, syscall.EPOLL_CTL_MOD)
	}
}
