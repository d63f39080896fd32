package bots

import (
	"context"
	"fmt"

	"github.com/pokor/pokor/session"
)

// Notifiers sends each notice to the bot of the platform its session came from.
type Notifiers map[string]session.Notifier

// Notify implements session.Notifier.
func (ns Notifiers) Notify(ctx context.Context, n session.Notice) error {
	nt, ok := ns[n.Session.Origin.Platform]
	if !ok {
		return fmt.Errorf("%s is not configured on this server", n.Session.Origin.Platform)
	}
	return nt.Notify(ctx, n)
}
