package notion

import (
	"context"
	"sync"
	"time"
)

// apiHost is Notion's API; NOTION_API_URL replaces it.
const apiHost = "api.notion.com"

// pacer spaces requests to Notion's documented average of three requests a second, allowing a
// burst of three, and holds every request back while Notion has asked to pause. It is a
// generic cell rate algorithm: tat is the theoretical arrival time of the next request.
type pacer struct {
	interval time.Duration // average spacing between requests
	burst    int           // requests that may go back to back
	maxWait  time.Duration // longest pause a request sits out before failing with a rate-limit error

	mu          sync.Mutex
	tat         time.Time
	pausedUntil time.Time
}

func newPacer() *pacer {
	return &pacer{interval: time.Second / 3, burst: 3, maxWait: maxInlineWait}
}

// wait blocks until a request may be sent. When Notion asked for a pause longer than maxWait
// it returns a rate-limit error at once rather than holding the caller for it.
func (p *pacer) wait(ctx context.Context) error {
	now := time.Now()
	p.mu.Lock()
	if pause := p.pausedUntil.Sub(now); pause > p.maxWait {
		p.mu.Unlock()
		return rateLimited(pause)
	}
	tat := p.tat
	if tat.Before(now) {
		tat = now
	}
	send := tat.Add(-time.Duration(p.burst-1) * p.interval)
	if send.Before(now) {
		send = now
	}
	if send.Before(p.pausedUntil) {
		send = p.pausedUntil
	}
	if tat.Before(send) {
		tat = send
	}
	p.tat = tat.Add(p.interval)
	p.mu.Unlock()

	delay := send.Sub(now)
	if delay <= 0 {
		return nil
	}
	timer := time.NewTimer(delay)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pause holds every request for d, as Notion asked with Retry-After.
func (p *pacer) pause(d time.Duration) {
	until := time.Now().Add(d)
	p.mu.Lock()
	if until.After(p.pausedUntil) {
		p.pausedUntil = until
	}
	p.mu.Unlock()
}

// remaining is how long the current pause still lasts, zero when there is none.
func (p *pacer) remaining() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return max(time.Until(p.pausedUntil), 0)
}
