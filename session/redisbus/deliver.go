package redisbus

import (
	"runtime"
	"sync"
)

// deliverer hands the messages the subscription receives to this instance's members on several
// goroutines. One goroutine delivering everything, a write(2) per member for each event, fell
// behind at 1,500 votes a second across two instances: the Go scheduler gave it one
// goroutine's share of the CPU against hundreds of request goroutines, and deliveries queued
// for seconds while the votes were acknowledged in milliseconds (docs/performance.md). Each room
// belongs to one shard, by a hash of its session id, so a room's events, membership changes
// and cache invalidations keep the order Redis gave them, and rooms are delivered in parallel.
// A message for no room in particular waits until every shard has delivered what it holds.
type deliverer struct {
	deliver func(wire)
	shards  []chan job
	wg      sync.WaitGroup
}

type job struct {
	w wire
	// barrier, when set, is not a message: the shard reports that it has delivered everything
	// queued before it.
	barrier *sync.WaitGroup
}

// shardQueue bounds what a shard holds. When it is full the subscription waits, and Redis keeps
// the messages (up to its pubsub output buffer limit) rather than this process.
const shardQueue = 256

func newDeliverer(deliver func(wire)) *deliverer {
	d := &deliverer{deliver: deliver, shards: make([]chan job, max(4, 2*runtime.GOMAXPROCS(0)))}
	for i := range d.shards {
		d.shards[i] = make(chan job, shardQueue)
		d.wg.Add(1)
		go d.run(d.shards[i])
	}
	return d
}

func (d *deliverer) run(jobs chan job) {
	defer d.wg.Done()
	for j := range jobs {
		if j.barrier != nil {
			j.barrier.Done()
			continue
		}
		d.deliver(j.w)
	}
}

// dispatch queues w on its room's shard; a message of no room (an instance-wide Forget) is
// delivered here once everything received before it has been.
func (d *deliverer) dispatch(w wire) {
	if w.SessionID == "" || (w.Forget != nil && w.Forget.All) {
		d.drain()
		d.deliver(w)
		return
	}
	d.shards[shardOf(w.SessionID, len(d.shards))] <- job{w: w}
}

// drain waits until every shard has delivered what it held when drain was called.
func (d *deliverer) drain() {
	var wg sync.WaitGroup
	wg.Add(len(d.shards))
	for _, s := range d.shards {
		s <- job{barrier: &wg}
	}
	wg.Wait()
}

// stop delivers what is queued and ends the shards' goroutines. dispatch must not be called
// after it.
func (d *deliverer) stop() {
	for _, s := range d.shards {
		close(s)
	}
	d.wg.Wait()
}

// shardOf is FNV-1a of id, modulo n.
func shardOf(id string, n int) int {
	h := uint32(2166136261)
	for i := 0; i < len(id); i++ {
		h ^= uint32(id[i])
		h *= 16777619
	}
	return int(h % uint32(n))
}
