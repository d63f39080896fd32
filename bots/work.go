package bots

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/pokor/pokor/session"
)

// Work is a bot's background work: what runs after the answer to a command (an import, a post),
// which Stop ends and waits for.
type Work struct {
	mu     sync.Mutex // orders starting work against Stop
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// NewWork returns background work ready to start.
func NewWork() *Work {
	w := &Work{}
	w.ctx, w.cancel = context.WithCancel(context.Background())
	return w
}

// Go runs f beside the request that started it, under a context that Stop cancels. After Stop
// it does nothing.
func (w *Work) Go(f func(ctx context.Context)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ctx.Err() != nil {
		return
	}
	w.wg.Go(func() { f(w.ctx) })
}

// Stopping reports whether Stop was called: work that fails now was interrupted.
func (w *Work) Stopping() bool { return w.ctx.Err() != nil }

// Stop cancels the work and waits for it to finish reporting.
func (w *Work) Stop() {
	w.mu.Lock()
	w.cancel()
	w.mu.Unlock()
	w.wg.Wait()
}

// ImportTimeout bounds an import started from a chat command.
const ImportTimeout = 10 * time.Minute

// Import runs the import a /pokor command names, after the answer (trackers may take longer than
// a chat platform waits), as the session's organizer, and reports the outcome in m's words
// through report (the command's reply link). The report goes out even while the work stops.
func (w *Work) Import(svc *session.Service, log *slog.Logger, m Markup, sess *session.Session, organizerID string, cmd Command,
	report func(ctx context.Context, text string) error) {
	w.Go(func(ctx context.Context) {
		ictx, cancel := context.WithTimeout(ctx, ImportTimeout)
		res, err := svc.Import(ictx, session.Actor{SessionID: sess.ID, ParticipantID: organizerID}, cmd.Source, cmd.Query)
		cancel()
		stopping := w.Stopping()
		if err != nil && !stopping && session.ErrorCode(err) == session.CodeInternal {
			log.Error("import from chat failed", "session", sess.ID, "source", cmd.Source, "err", err)
		}
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := report(rctx, ImportOutcome(m, sess.Title, cmd, res, err, stopping)); err != nil {
			log.Warn("reporting an import to chat", "session", sess.ID, "err", err)
		}
	})
}

// DisplayName is a chat user's name in the room, within the room's limit; fallback when empty.
func DisplayName(name, fallback string) string {
	name = strings.TrimSpace(name)
	if name == "" {
		return fallback
	}
	if utf8.RuneCountInString(name) > session.MaxNameLen {
		name = string([]rune(name)[:session.MaxNameLen])
	}
	return name
}
