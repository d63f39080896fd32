package bots

import (
	"context"
	"fmt"
	"strings"

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

// Nudge implements session.ChatNudger: it sends the reminder through the bot of the platform the
// participant came from (the prefix of its chat identity, "slack:T1:U2").
func (ns Notifiers) Nudge(ctx context.Context, n session.Nudge) error {
	platform, _, _ := strings.Cut(n.Participant.ChatID, ":")
	nt, ok := ns[platform]
	if !ok {
		return fmt.Errorf("%s is not configured on this server", platform)
	}
	nudger, ok := nt.(session.ChatNudger)
	if !ok {
		return fmt.Errorf("the %s bot cannot send reminders", platform)
	}
	return nudger.Nudge(ctx, n)
}
