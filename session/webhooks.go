package session

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// The events sent to webhooks (docs/webhooks.md).
const (
	HookSessionCreated   = "session.created"
	HookEstimateAccepted = "estimate.accepted"
	HookSessionEnded     = "session.ended"
)

// HookEvents lists the events, in the order they happen to a session.
var HookEvents = []string{HookSessionCreated, HookEstimateAccepted, HookSessionEnded}

// The endpoints an event goes to.
const (
	HookScopeServer  = "server"  // POKOR_WEBHOOK_URLS, signed with POKOR_WEBHOOK_SECRET
	HookScopeTeam    = "team"    // a team's webhook, set by the team (its link) or the administrator
	HookScopeSession = "session" // a session's webhook, set by an organizer
)

// Webhook delivery policy.
const (
	// hookMaxAge is how long a delivery is retried before it is failed for good: a receiver may
	// be down for a weekend and still get every event.
	hookMaxAge = 72 * time.Hour
	// hookTimeout bounds one delivery attempt.
	hookTimeout = 15 * time.Second
)

// Delivery is one event on its way to one endpoint: a row of the webhook outbox, written by the
// store in the same transaction as the change it reports (session created, estimate accepted,
// session ended), so that a change is never committed without its notification.
type Delivery struct {
	ID        string // the delivery: one per event and endpoint
	EventID   string // the event, the same for every endpoint and attempt: the Idempotency-Key
	Event     string
	SessionID string
	StoryID   string
	Value     string
	Round     int
	Scope     string
	URL       string
	Sealed    string // the endpoint's signing secret, sealed; empty for server-wide endpoints
	// Body is the JSON sent, composed at the first attempt and kept, so that every retry sends
	// the same bytes.
	Body        []byte
	State       OutboxState
	Attempts    int
	NextAttempt time.Time
	LastError   string
	OccurredAt  time.Time
}

// Webhook is a session's or a team's endpoint. The secret is never shown after it was set.
type Webhook struct {
	URL       string    `json:"url"`
	Events    []string  `json:"events"`
	CreatedAt time.Time `json:"created_at"`
	// Secret is set only in the answer that generated it.
	Secret string `json:"secret,omitempty"`
	// Sealed is the secret as stored.
	Sealed string `json:"-"`
}

// WebhookStore keeps webhooks and their outbox. The store's CreateSession, Accept and
// CloseSession write the outbox rows of their events in their own transactions; these methods
// deliver them.
type WebhookStore interface {
	// ClaimWebhooks leases up to n due deliveries to owner. A delivery is not claimed while an
	// earlier event of its session is still pending for the same URL, so each receiver gets a
	// session's events in order.
	ClaimWebhooks(ctx context.Context, owner string, n int, now time.Time, lease time.Duration) ([]*Delivery, error)
	// FinishWebhook records an attempt: delivered, failed for good, or retry at NextAttempt.
	FinishWebhook(ctx context.Context, d *Delivery) error
	// ReleaseWebhooks gives back owner's leases.
	ReleaseWebhooks(ctx context.Context, owner string) error
	// PruneWebhooks deletes deliveries delivered before before.
	PruneWebhooks(ctx context.Context, before time.Time) error
	// SetSessionWebhook sets (replaces) a session's webhook.
	SetSessionWebhook(ctx context.Context, sessionID string, w *Webhook) error
	// SessionWebhook returns a session's webhook; ErrNotFound when it has none.
	SessionWebhook(ctx context.Context, sessionID string) (*Webhook, error)
	// DeleteSessionWebhook removes a session's webhook; pending deliveries to it are kept.
	DeleteSessionWebhook(ctx context.Context, sessionID string) error
	// SetTeamWebhook sets (replaces) a team's webhook: the events of the sessions in the team,
	// at the time of each event, go to it.
	SetTeamWebhook(ctx context.Context, teamID string, w *Webhook) error
	// TeamWebhook returns a team's webhook; ErrNotFound when it has none.
	TeamWebhook(ctx context.Context, teamID string) (*Webhook, error)
	// DeleteTeamWebhook removes a team's webhook; pending deliveries to it are kept.
	DeleteTeamWebhook(ctx context.Context, teamID string) error
}

// WebhookSender is the outbound HTTP side (integrations/webhook).
type WebhookSender interface {
	// CheckURL refuses a URL an organizer may not send events to (not http or https, a private
	// address not allowed by the administrator), with a message saying why.
	CheckURL(ctx context.Context, url string) error
	// Send POSTs one signed delivery. guarded: connect only to public addresses (an organizer's
	// URL). A *Error with CodeUnavailable is worth retrying; anything else is too.
	Send(ctx context.Context, d *Delivery, secret string, guarded bool) error
}

// WebhookConfig enables webhooks.
type WebhookConfig struct {
	Store  WebhookStore
	Sender WebhookSender
	// Secret signs the deliveries to the server-wide endpoints (POKOR_WEBHOOK_SECRET).
	Secret string
	// Wake is signalled (without blocking) when events are queued; nil makes one.
	Wake chan struct{}
	// Poll is how often the worker looks for due deliveries; zero: every 2 seconds.
	Poll time.Duration
}

// hookBody is the JSON a receiver gets.
type hookBody struct {
	ID         string        `json:"id"`
	Type       string        `json:"type"`
	OccurredAt time.Time     `json:"occurred_at"`
	Session    hookSession   `json:"session"`
	Story      *hookStory    `json:"story,omitempty"`
	Estimate   *hookEstimate `json:"estimate,omitempty"`
}

type hookSession struct {
	ID       string     `json:"id"`
	Title    string     `json:"title,omitempty"`
	URL      string     `json:"url"`
	Platform string     `json:"platform,omitempty"`
	Deck     []string   `json:"deck,omitempty"`
	ClosedAt *time.Time `json:"closed_at,omitempty"`
}

type hookStory struct {
	ID          string `json:"id"`
	Title       string `json:"title,omitempty"`
	URL         string `json:"url,omitempty"`
	Source      string `json:"source,omitempty"`
	ExternalKey string `json:"external_key,omitempty"`
}

type hookEstimate struct {
	Value string `json:"value"`
	Round int    `json:"round"`
}

// webhooksOn reports whether the server delivers webhooks.
func (s *Service) webhooksOn() bool {
	return s.cfg.Webhooks.Store != nil && s.cfg.Webhooks.Sender != nil
}

// wakeWebhooks tells the worker that events were queued.
func (s *Service) wakeWebhooks() {
	if s.cfg.Webhooks.Wake == nil {
		return
	}
	select {
	case s.cfg.Webhooks.Wake <- struct{}{}:
	default:
	}
}

// SessionWebhook returns the session's webhook (without its secret). Only organizers may.
func (s *Service) SessionWebhook(ctx context.Context, a Actor) (*Webhook, error) {
	sess, _, err := s.organizer(ctx, a, "see the webhook")
	if err != nil {
		return nil, err
	}
	if !s.webhooksOn() {
		return nil, errNoWebhooks
	}
	w, err := s.cfg.Webhooks.Store.SessionWebhook(ctx, sess.ID)
	if err != nil {
		return nil, lookupErr("webhook", err)
	}
	w.Events = sessionHookEvents
	return w, nil
}

// sessionHookEvents are what a session's webhook receives: it is set after the session exists.
var sessionHookEvents = []string{HookEstimateAccepted, HookSessionEnded}

var errNoWebhooks = &Error{Code: CodeUnavailable, Message: "webhooks are not enabled on this server"}

// WebhookInput is what an organizer sets: the URL and, optionally, the signing secret (one is
// generated when empty and shown once).
type WebhookInput struct {
	URL    string `json:"url"`
	Secret string `json:"secret,omitempty"`
}

// SetSessionWebhook sets the session's webhook after checking its URL. Only organizers may.
func (s *Service) SetSessionWebhook(ctx context.Context, a Actor, in WebhookInput) (*Webhook, error) {
	sess, _, err := s.organizer(ctx, a, "set the webhook")
	if err != nil {
		return nil, err
	}
	if !s.webhooksOn() {
		return nil, errNoWebhooks
	}
	w, secret, err := s.newWebhook(ctx, in, sessionHookEvents)
	if err != nil {
		return nil, err
	}
	if err := s.cfg.Webhooks.Store.SetSessionWebhook(ctx, sess.ID, w); err != nil {
		return nil, internal("storing the webhook", err)
	}
	s.log.Info("session webhook set", "session", sess.ID)
	w.Secret = secret
	return w, nil
}

// newWebhook checks what was set and seals its secret. secret is the generated secret, to be
// shown once, or "" when the caller chose it.
func (s *Service) newWebhook(ctx context.Context, in WebhookInput, events []string) (w *Webhook, shown string, err error) {
	url := strings.TrimSpace(in.URL)
	if len(url) > 2000 {
		return nil, "", invalid("url", "the URL is longer than 2000 characters")
	}
	if err := s.cfg.Webhooks.Sender.CheckURL(ctx, url); err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.Field = "url"
			return nil, "", e
		}
		return nil, "", invalid("url", "%s", err.Error())
	}
	secret, generated := strings.TrimSpace(in.Secret), false
	switch {
	case secret == "":
		secret, generated = "whsec_"+NewToken(), true
	case len(secret) < 16 || len(secret) > 200:
		return nil, "", invalid("secret", "the secret must be 16 to 200 characters (or leave it empty to get one)")
	}
	w = &Webhook{URL: url, CreatedAt: s.now().UTC(), Sealed: s.cfg.Keys.Seal(secret), Events: events}
	if generated {
		shown = secret
	}
	return w, shown, nil
}

// teamHookEvents are what a team's webhook receives: every event of the sessions in the team.
var teamHookEvents = HookEvents

// TeamWebhook returns the team's webhook (without its secret). The caller checked access to t
// (TeamAccess).
func (s *Service) TeamWebhook(ctx context.Context, t *Team) (*Webhook, error) {
	if !s.webhooksOn() {
		return nil, errNoWebhooks
	}
	w, err := s.cfg.Webhooks.Store.TeamWebhook(ctx, t.ID)
	if err != nil {
		return nil, lookupErr("webhook", err)
	}
	w.Events = teamHookEvents
	return w, nil
}

// SetTeamWebhook sets the team's webhook after checking its URL, like a session's: an http(s)
// URL of a public address unless POKOR_WEBHOOK_ALLOWED_HOSTS allows it. The caller checked
// access to t.
func (s *Service) SetTeamWebhook(ctx context.Context, t *Team, in WebhookInput) (*Webhook, error) {
	if !s.webhooksOn() {
		return nil, errNoWebhooks
	}
	w, secret, err := s.newWebhook(ctx, in, teamHookEvents)
	if err != nil {
		return nil, err
	}
	if err := s.cfg.Webhooks.Store.SetTeamWebhook(ctx, t.ID, w); err != nil {
		return nil, internal("storing the webhook", err)
	}
	s.log.Info("team webhook set", "team", t.ID)
	w.Secret = secret
	return w, nil
}

// DeleteTeamWebhook removes the team's webhook. The caller checked access to t.
func (s *Service) DeleteTeamWebhook(ctx context.Context, t *Team) error {
	if !s.webhooksOn() {
		return errNoWebhooks
	}
	if err := s.cfg.Webhooks.Store.DeleteTeamWebhook(ctx, t.ID); err != nil {
		return lookupErr("webhook", err)
	}
	return nil
}

// DeleteSessionWebhook removes the session's webhook. Only organizers may.
func (s *Service) DeleteSessionWebhook(ctx context.Context, a Actor) error {
	sess, _, err := s.organizer(ctx, a, "remove the webhook")
	if err != nil {
		return err
	}
	if !s.webhooksOn() {
		return errNoWebhooks
	}
	if err := s.cfg.Webhooks.Store.DeleteSessionWebhook(ctx, sess.ID); err != nil {
		return lookupErr("webhook", err)
	}
	return nil
}

// RunWebhooks delivers queued webhook events until ctx ends, like RunWriteBack: claimed with a
// lease, retried with backoff for up to three days, the one in flight finished on shutdown and
// the rest given back. A delivery is at least once: a receiver that answered but whose answer
// was lost gets the event again, with the same Idempotency-Key, and should ignore it.
func (s *Service) RunWebhooks(ctx context.Context, owner string) {
	if !s.webhooksOn() {
		return
	}
	store := s.cfg.Webhooks.Store
	var pruned time.Time
	runWorker(s, ctx, outboxWorker[*Delivery]{
		name: "webhook", poll: s.cfg.Webhooks.Poll, wake: s.cfg.Webhooks.Wake,
		release: func(ctx context.Context) error { return store.ReleaseWebhooks(ctx, owner) },
		claim: func(ctx context.Context) ([]*Delivery, error) {
			return store.ClaimWebhooks(ctx, owner, 16, s.now().UTC(), leaseTime)
		},
		handle: func(_, work context.Context, d *Delivery) { s.sendHook(work, d) },
		idle: func(ctx context.Context) {
			if s.now().Sub(pruned) < time.Hour {
				return
			}
			pruned = s.now()
			if err := store.PruneWebhooks(ctx, s.now().Add(-7*24*time.Hour)); err != nil && ctx.Err() == nil {
				s.log.Warn("pruning delivered webhooks", "err", err)
			}
		},
	})
}

// sendHook makes one attempt at a delivery and records its outcome.
func (s *Service) sendHook(ctx context.Context, d *Delivery) {
	if len(d.Body) == 0 {
		d.Body = s.hookBody(ctx, d)
	}
	secret := s.cfg.Webhooks.Secret
	var err error
	if d.Scope != HookScopeServer {
		if secret, err = s.cfg.Keys.Open(d.Sealed); err != nil {
			err = Errorf(CodeInternal, "the webhook's secret cannot be read (was POKOR_SECRET_KEY changed?)")
		}
	}
	if err == nil {
		sctx, cancel := context.WithTimeout(ctx, hookTimeout)
		// A team's URL is guarded like a session's: anyone with the team's link may set it.
		err = s.cfg.Webhooks.Sender.Send(sctx, d, secret, d.Scope != HookScopeServer)
		cancel()
	}
	if ctx.Err() != nil {
		return // shutdown outlasted the drain: the lease is released and the delivery retried
	}
	d.Attempts++
	switch {
	case err == nil:
		d.State, d.LastError = OutboxDelivered, ""
		s.log.Info("webhook delivered", "event", d.Event, "session", d.SessionID, "scope", d.Scope, "attempts", d.Attempts)
	case s.now().Sub(d.OccurredAt) > hookMaxAge:
		d.State, d.LastError = OutboxFailed, ErrorMessage(err)
		s.log.Error("webhook failed for good", "event", d.Event, "session", d.SessionID, "scope", d.Scope, "attempts", d.Attempts, "err", err)
	default:
		next := backoff
		if s.cfg.Backoff != nil {
			next = s.cfg.Backoff
		}
		var e *Error
		wait := next(d.Attempts)
		if errors.As(err, &e) && e.RetryAfter > wait {
			wait = e.RetryAfter
		}
		d.State, d.LastError, d.NextAttempt = OutboxPending, ErrorMessage(err), s.now().UTC().Add(wait)
		s.log.Warn("webhook delivery failed", "event", d.Event, "session", d.SessionID, "scope", d.Scope,
			"attempt", d.Attempts, "retry_in", wait.Round(time.Second), "err", err)
	}
	if err := s.cfg.Webhooks.Store.FinishWebhook(ctx, d); err != nil {
		s.log.Error("recording a webhook delivery", "err", err)
	}
}

// hookBody composes what the receiver gets from the event and the session as it is now; the
// estimate is the event's own, not whatever was accepted since.
func (s *Service) hookBody(ctx context.Context, d *Delivery) []byte {
	b := hookBody{ID: d.EventID, Type: d.Event, OccurredAt: d.OccurredAt.UTC(), Session: hookSession{ID: d.SessionID, URL: s.RoomURL(d.SessionID)}}
	if sess, err := s.cfg.Store.Session(ctx, d.SessionID); err == nil {
		b.Session.Title, b.Session.Platform, b.Session.Deck, b.Session.ClosedAt = sess.Title, sess.Origin.Platform, sess.Deck.Cards, sess.ClosedAt
	}
	if d.StoryID != "" {
		b.Story = &hookStory{ID: d.StoryID}
		if st, err := s.cfg.Store.Story(ctx, d.SessionID, d.StoryID); err == nil {
			b.Story.Title, b.Story.URL, b.Story.Source, b.Story.ExternalKey = st.Title, st.URL, st.Source, st.ExternalKey
		}
		b.Estimate = &hookEstimate{Value: d.Value, Round: d.Round}
	}
	out, _ := json.Marshal(b)
	return out
}
