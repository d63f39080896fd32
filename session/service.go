package session

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// Presence tells which participants of a session have a live connection on any instance.
type Presence interface {
	Online(sessionID string) map[string]bool
}

// Notice is something worth telling the chat a session came from.
type Notice struct {
	Kind    string // "estimated" or "closed"
	Session *Session
	Story   *Story   // the story estimated, for "estimated"
	Stories []*Story // every story, for "closed"
	URL     string   // the room's clean URL
	// Round is the revealed round an "estimated" story's estimate came from, with its votes as
	// the room showed them: without who cast them when that round was anonymous. Names holds the
	// names of the participants its votes name.
	Round *RoundView
	Names map[string]string
	// People are the names of those who voted in the session, for "closed". (Who voted on an
	// "estimated" story is in Round, which hides names when the round was anonymous.)
	People []string
}

// Notifier reports notices back to a chat (Slack, Discord). Failures are shown to organizers.
type Notifier interface {
	Notify(ctx context.Context, n Notice) error
}

// Config is what a Service needs besides its store.
type Config struct {
	Store    Store
	Bus      Bus
	Presence Presence
	// Approvals keeps join requests waiting for an organizer; nil keeps them in memory.
	Approvals Approvals
	// ApprovalTTL is how long a join request waits; zero means DefaultApprovalTTL.
	ApprovalTTL time.Duration
	Keys        *Keys
	// BaseURL is the public URL of the server, for links ("https://poker.example.com").
	BaseURL string
	// Trackers are the issue trackers stories are imported from and estimates written back to,
	// as their adapters describe them; none disables both.
	Trackers []Tracker
	// Wake is signalled (without blocking) when a write-back is queued; nil makes one.
	Wake     chan struct{}
	Notifier Notifier
	Logger   *slog.Logger
	Now      func() time.Time

	// WriteBackPoll is how often the write-back worker looks for due entries; zero means every
	// 2 seconds. Backoff is the wait before attempt n+1 after n failures; nil means exponential
	// from 2 s to 15 min with jitter. Tests shorten both.
	WriteBackPoll time.Duration
	Backoff       func(attempts int) time.Duration

	// Nudger reminds participants who came from a chat to vote; nil reminds in the room only.
	Nudger ChatNudger
	// TimerPoll is how often RunTimers looks for timers whose deadline passed; zero means every
	// second.
	TimerPoll time.Duration

	// Webhooks delivers events to webhooks; its zero value sends none.
	Webhooks WebhookConfig
}

// Service is the one way to read or change sessions; it enforces who may do what.
type Service struct {
	cfg       Config
	log       *slog.Logger
	now       func() time.Time
	approvals Approvals
	trackers  *trackerSet
	nudged    nudges
}

// NewService returns a service over cfg.
func NewService(cfg Config) *Service {
	s := &Service{cfg: cfg, log: cfg.Logger, now: cfg.Now, trackers: newTrackerSet(cfg.Trackers)}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.cfg.Wake == nil {
		s.cfg.Wake = make(chan struct{}, 1)
	}
	if s.cfg.Webhooks.Wake == nil {
		s.cfg.Webhooks.Wake = make(chan struct{}, 1)
	}
	s.approvals = cfg.Approvals
	if s.approvals == nil {
		s.approvals = NewMemoryApprovals(s.now)
	}
	if s.cfg.ApprovalTTL <= 0 {
		s.cfg.ApprovalTTL = DefaultApprovalTTL
	}
	return s
}

// Keys returns the keys links are signed with.
func (s *Service) Keys() *Keys { return s.cfg.Keys }

// RoomURL returns the clean URL of a session's room.
func (s *Service) RoomURL(sessionID string) string {
	return strings.TrimRight(s.cfg.BaseURL, "/") + "/s/" + sessionID
}

// LinkURL returns the pre-signed URL for a link.
func (s *Service) LinkURL(l Link) string {
	return s.RoomURL(l.SessionID) + "/enter?t=" + s.cfg.Keys.SignLink(l)
}

// Actor is who makes a request: a participant of a session, as authenticated by its token.
type Actor struct {
	SessionID     string
	ParticipantID string
}

// CreateInput describes a new session.
type CreateInput struct {
	Title     string
	Deck      DeckKind
	Cards     []string
	Settings  *Settings
	Organizer string // the organizer's display name
	ChatID    string
	Origin    Origin
	// ChannelName is the chat channel's name ("planning"), when the platform says it: the name
	// its team gets when this is the channel's first session.
	ChannelName string
}

// CreateSession creates a session and its organizer, and returns the organizer's new token.
func (s *Service) CreateSession(ctx context.Context, in CreateInput) (*Session, *Participant, string, error) {
	title := strings.TrimSpace(in.Title)
	if title == "" {
		title = "Planning poker " + s.now().UTC().Format("2 Jan 2006")
	}
	title, err := cleanName("title", title, MaxTitleLen)
	if err != nil {
		return nil, nil, "", err
	}
	name, err := cleanName("name", in.Organizer, MaxNameLen)
	if err != nil {
		return nil, nil, "", err
	}
	deck, err := NewDeck(in.Deck, in.Cards)
	if err != nil {
		return nil, nil, "", err
	}
	settings := DefaultSettings
	if in.Settings != nil {
		settings = *in.Settings
	}
	if err := settings.check(); err != nil {
		return nil, nil, "", err
	}
	now := s.now().UTC()
	sess := &Session{ID: newID(), Title: title, Deck: deck, Settings: settings, Origin: in.Origin, CreatedAt: now, UpdatedAt: now}
	sess.TeamID = s.channelTeam(ctx, in.Origin, in.ChannelName)
	org := &Participant{ID: newID(), SessionID: sess.ID, Name: name, Role: RoleOrganizer, Status: StatusActive, ChatID: in.ChatID, CreatedAt: now}
	token := NewToken()
	if err := s.cfg.Store.CreateSession(ctx, sess, org, HashToken(token)); err != nil {
		return nil, nil, "", internal("creating the session", err)
	}
	s.wakeWebhooks()
	s.log.Info("session created", "session", sess.ID, "deck", deck.Kind, "origin", in.Origin.Platform)
	return sess, org, token, nil
}

// Session returns a session; anyone holding its unguessable id may read its public fields.
func (s *Service) Session(ctx context.Context, id string) (*Session, error) {
	sess, err := s.cfg.Store.Session(ctx, id)
	if err != nil {
		return nil, lookupErr("session", err)
	}
	return sess, nil
}

// Authenticate returns the participant a token belongs to in a session.
func (s *Service) Authenticate(ctx context.Context, sessionID, token string) (*Participant, error) {
	if token == "" {
		return nil, Errorf(CodeForbidden, "join the session first")
	}
	p, err := s.cfg.Store.ParticipantByToken(ctx, sessionID, HashToken(token))
	if err != nil {
		if ErrorCode(err) == CodeNotFound {
			return nil, Errorf(CodeForbidden, "join the session first")
		}
		return nil, internal("checking who you are", err)
	}
	return p, nil
}

// JoinInput describes someone joining through the room link.
type JoinInput struct {
	Name string
	Role Role
}

// Join adds a participant through the room link. With RequireApproval the participant waits
// (StatusPending) until an organizer admits it.
func (s *Service) Join(ctx context.Context, sessionID string, in JoinInput) (*Participant, string, error) {
	sess, err := s.Session(ctx, sessionID)
	if err != nil {
		return nil, "", err
	}
	if sess.Closed() {
		return nil, "", Errorf(CodeConflict, "this session has ended")
	}
	name, err := cleanName("name", in.Name, MaxNameLen)
	if err != nil {
		return nil, "", err
	}
	if name, err = s.distinctName(ctx, sessionID, name, ""); err != nil {
		return nil, "", err
	}
	role := in.Role
	switch role {
	case "":
		role = RoleVoter
	case RoleVoter:
	case RoleSpectator:
		if !sess.Settings.AllowSpectators {
			return nil, "", invalid("role", "this session does not allow spectators; join as a voter")
		}
	default:
		return nil, "", invalid("role", "role must be voter or spectator; an organizer can promote you later")
	}
	status := StatusActive
	if sess.Settings.RequireApproval {
		status = StatusPending
	}
	p := &Participant{ID: newID(), SessionID: sessionID, Name: name, Role: role, Status: status, CreatedAt: s.now().UTC()}
	if status == StatusPending {
		if err := s.approvals.Add(ctx, sessionID, p.ID, s.cfg.ApprovalTTL); err != nil {
			s.log.Warn("recording a join request", "session", sessionID, "err", err)
			return nil, "", &Error{Code: CodeUnavailable, Message: "could not ask the organizers right now; try again in a moment", Err: err}
		}
	}
	token := NewToken()
	if err := s.cfg.Store.AddParticipant(ctx, p, HashToken(token)); err != nil {
		if status == StatusPending {
			_, _ = s.approvals.Remove(ctx, sessionID, p.ID)
		}
		return nil, "", internal("joining", err)
	}
	s.publish(ctx, Event{Type: EvParticipant, SessionID: sessionID, OrganizersOnly: status == StatusPending, Data: s.participantView(p, nil)})
	return p, token, nil
}

// JoinWithLink redeems a pre-signed link: the chat user it names becomes (or again is) a
// participant with the link's role, without waiting for approval. It returns a new token.
func (s *Service) JoinWithLink(ctx context.Context, token string) (*Participant, string, error) {
	l, err := s.cfg.Keys.VerifyLink(token, s.now())
	if err != nil {
		return nil, "", err
	}
	sess, err := s.Session(ctx, l.SessionID)
	if err != nil {
		return nil, "", err
	}
	if sess.Closed() {
		return nil, "", Errorf(CodeConflict, "this session has ended")
	}
	if l.Role == RoleOrganizer {
		// Past the cache: a rotation on another instance refuses old links at once.
		epoch, err := s.cfg.Store.OrganizerLinkEpoch(ctx, l.SessionID)
		if err != nil {
			return nil, "", err
		}
		if l.Epoch != epoch {
			return nil, "", ErrLinkRotated
		}
	}
	tok := NewToken()
	if l.ParticipantID != "" {
		return s.returnAsOrganizer(ctx, l, tok)
	}
	if l.ChatID != "" {
		p, err := s.cfg.Store.ParticipantByChatID(ctx, l.SessionID, l.ChatID)
		switch {
		case err == nil:
			changed := false
			if p.Status != StatusActive {
				if p.Status == StatusPending {
					// The link admits: the request is answered.
					if _, err := s.approvals.Remove(ctx, p.SessionID, p.ID); err != nil {
						s.log.Warn("removing a join request", "session", p.SessionID, "err", err)
					}
				}
				p.Status, changed = StatusActive, true
			}
			if l.Role == RoleOrganizer && p.Role != RoleOrganizer {
				p.Role, changed = RoleOrganizer, true
			}
			if changed {
				if err := s.cfg.Store.UpdateParticipant(ctx, p); err != nil {
					return nil, "", internal("joining", err)
				}
				s.publishChange(ctx, p, "")
				s.publish(ctx, Event{Type: EvParticipant, SessionID: p.SessionID, Data: s.participantView(p, nil)})
			}
			if err := s.cfg.Store.AddToken(ctx, p.ID, HashToken(tok)); err != nil {
				return nil, "", internal("joining", err)
			}
			return p, tok, nil
		case ErrorCode(err) != CodeNotFound:
			return nil, "", internal("joining", err)
		}
	}
	// The name comes from the chat, where the user cannot retype it: make it fit instead of
	// refusing it (control characters and line breaks become spaces, the rest is cut to length).
	name := strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(l.Name, ""))
	if r := []rune(strings.TrimSpace(name)); len(r) > MaxNameLen {
		name = string(r[:MaxNameLen])
	}
	name = strings.TrimSpace(name)
	if name == "" {
		name = "Organizer"
	}
	if name, err = s.distinctName(ctx, l.SessionID, name, ""); err != nil {
		return nil, "", err
	}
	p := &Participant{ID: newID(), SessionID: l.SessionID, Name: name, Role: l.Role, Status: StatusActive, ChatID: l.ChatID, CreatedAt: s.now().UTC()}
	if err := s.cfg.Store.AddParticipant(ctx, p, HashToken(tok)); err != nil {
		return nil, "", internal("joining", err)
	}
	s.publish(ctx, Event{Type: EvParticipant, SessionID: p.SessionID, Data: s.participantView(p, nil)})
	return p, tok, nil
}

// OrganizerLinkTTL is how long an organizer link from the room works. The room shows a fresh one
// each time it loads, so a link in use never runs out in the middle of a session.
const OrganizerLinkTTL = 30 * 24 * time.Hour

// OrganizerLink returns the actor's own organizer link: opened on another device (a second
// browser, a phone), it makes that device the same organizer. It works while the actor organizes
// the session and until an organizer rotates the links. Only organizers have one.
func (s *Service) OrganizerLink(ctx context.Context, a Actor) (string, error) {
	sess, p, err := s.organizer(ctx, a, "have an organizer link")
	if err != nil {
		return "", err
	}
	return s.organizerURL(sess, p), nil
}

func (s *Service) organizerURL(sess *Session, p *Participant) string {
	return s.LinkURL(Link{SessionID: sess.ID, Role: RoleOrganizer, ParticipantID: p.ID, Epoch: sess.LinkEpoch,
		Expires: s.now().Add(OrganizerLinkTTL).Unix()})
}

// RotateOrganizerLinks replaces every organizer link of the session, the chat's included: the old
// ones are refused from now on, with a message that says to ask an organizer for the new one. It
// returns the actor's new link; the other organizers are told to fetch theirs. Only organizers may.
func (s *Service) RotateOrganizerLinks(ctx context.Context, a Actor) (string, error) {
	sess, p, err := s.organizer(ctx, a, "replace the organizer links")
	if err != nil {
		return "", err
	}
	epoch, err := s.cfg.Store.RotateOrganizerLinks(ctx, sess.ID)
	if err != nil {
		return "", internal("replacing the organizer links", err)
	}
	sess.LinkEpoch = epoch
	s.log.Info("organizer links rotated", "session", sess.ID)
	s.publish(ctx, Event{Type: EvOrganizerLink, SessionID: sess.ID, OrganizersOnly: true, Data: map[string]string{"rotated_by": p.ID}})
	return s.organizerURL(sess, p), nil
}

// returnAsOrganizer redeems an organizer link from the room: the device becomes the participant
// the link belongs to, as long as it still organizes the session.
func (s *Service) returnAsOrganizer(ctx context.Context, l Link, tok string) (*Participant, string, error) {
	p, err := s.cfg.Store.Participant(ctx, l.SessionID, l.ParticipantID)
	switch {
	case ErrorCode(err) == CodeNotFound:
		return nil, "", ErrLinkInvalid
	case err != nil:
		return nil, "", internal("joining", err)
	case p.Status == StatusRemoved:
		return nil, "", Errorf(CodeForbidden, "you were removed from this session, so your organizer link no longer works")
	case p.Role != RoleOrganizer || p.Status != StatusActive:
		return nil, "", ErrLinkNotOrganizer
	}
	if err := s.cfg.Store.AddToken(ctx, p.ID, HashToken(tok)); err != nil {
		return nil, "", internal("joining", err)
	}
	return p, tok, nil
}

// actor loads the acting participant and its session, and checks it is active.
func (s *Service) actor(ctx context.Context, a Actor) (*Session, *Participant, error) {
	p, err := s.cfg.Store.Participant(ctx, a.SessionID, a.ParticipantID)
	if err != nil {
		if ErrorCode(err) == CodeNotFound {
			return nil, nil, Errorf(CodeForbidden, "join the session first")
		}
		return nil, nil, internal("checking who you are", err)
	}
	if p.Status == StatusRemoved {
		return nil, nil, Errorf(CodeForbidden, "you were removed from this session")
	}
	if p.Status == StatusPending {
		return nil, nil, Errorf(CodeForbidden, "an organizer has not admitted you yet")
	}
	sess, err := s.Session(ctx, a.SessionID)
	if err != nil {
		return nil, nil, err
	}
	return sess, p, nil
}

// organizer loads the actor and checks it organizes an open session.
func (s *Service) organizer(ctx context.Context, a Actor, what string) (*Session, *Participant, error) {
	sess, p, err := s.actor(ctx, a)
	if err != nil {
		return nil, nil, err
	}
	if p.Role != RoleOrganizer {
		return nil, nil, Errorf(CodeForbidden, "only an organizer can %s", what)
	}
	if sess.Closed() {
		return nil, nil, Errorf(CodeConflict, "this session has ended")
	}
	return sess, p, nil
}

// publish encodes an event once and hands it to the bus. A failed publish is logged: the state
// is already stored, and clients that miss an event get a fresh snapshot on reconnect.
func (s *Service) publish(ctx context.Context, ev Event) {
	if s.cfg.Bus == nil {
		return
	}
	msg, err := ev.Encode()
	if err != nil {
		s.log.Error("encoding event", "type", ev.Type, "err", err)
		return
	}
	env := Envelope{SessionID: ev.SessionID, To: ev.To, OrganizersOnly: ev.OrganizersOnly, Msg: msg}
	if err := s.cfg.Bus.Publish(ctx, env); err != nil {
		s.log.Warn("publishing event", "type", ev.Type, "session", ev.SessionID, "err", err)
	}
}

// publishChange tells every instance's Hub who p is now. It goes through the bus like an event
// and before the events that follow the change, so that each of them reaches p's connections only
// if p may see it now. reason is what the page of a removed participant shows.
func (s *Service) publishChange(ctx context.Context, p *Participant, reason string) {
	if s.cfg.Bus == nil {
		return
	}
	if err := s.cfg.Bus.Publish(ctx, Envelope{SessionID: p.SessionID, Change: memberChange(p, reason)}); err != nil {
		s.log.Warn("publishing a membership change", "session", p.SessionID, "err", err)
	}
}

func (s *Service) online(sessionID string) map[string]bool {
	if s.cfg.Presence == nil {
		return map[string]bool{}
	}
	return s.cfg.Presence.Online(sessionID)
}

func lookupErr(what string, err error) error {
	if ErrorCode(err) == CodeNotFound {
		return notFound(what)
	}
	return internal("loading the "+what, err)
}

// SettingsInput changes the settings and, optionally, the title of a session.
type SettingsInput struct {
	Title    *string   `json:"title,omitempty"`
	Settings *Settings `json:"settings,omitempty"`
}

// UpdateSession changes title and settings. Only organizers may.
func (s *Service) UpdateSession(ctx context.Context, a Actor, in SettingsInput) (*Session, error) {
	sess, _, err := s.organizer(ctx, a, "change the settings")
	if err != nil {
		return nil, err
	}
	if in.Title != nil {
		t, err := cleanName("title", *in.Title, MaxTitleLen)
		if err != nil {
			return nil, err
		}
		sess.Title = t
	}
	autoOn := false
	if in.Settings != nil {
		st := *in.Settings
		if err := st.check(); err != nil {
			return nil, err
		}
		autoOn = st.AutoReveal && !sess.Settings.AutoReveal
		sess.Settings = st
	}
	sess.UpdatedAt = s.now().UTC()
	if err := s.cfg.Store.UpdateSession(ctx, sess); err != nil {
		return nil, internal("saving the settings", err)
	}
	s.publish(ctx, Event{Type: EvSession, SessionID: sess.ID, Data: sess})
	if autoOn && sess.CurrentStoryID != "" {
		s.maybeAutoReveal(ctx, sess.ID, sess.CurrentStoryID)
	}
	return sess, nil
}

// CloseSession ends a session: nothing changes in it afterwards, but it can still be read and
// exported. Only organizers may.
func (s *Service) CloseSession(ctx context.Context, a Actor) (*Session, error) {
	sess, _, err := s.organizer(ctx, a, "end the session")
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	sess.ClosedAt, sess.UpdatedAt = &now, now
	if err := s.cfg.Store.CloseSession(ctx, sess.ID, now); err != nil {
		return nil, internal("ending the session", err)
	}
	s.wakeWebhooks()
	s.publish(ctx, Event{Type: EvClosed, SessionID: sess.ID, Data: sess})
	s.clearApprovals(ctx, sess.ID)
	if stories, err := s.cfg.Store.Stories(ctx, sess.ID); err == nil {
		s.notify(sess, Notice{Kind: "closed", Session: sess, Stories: stories})
	}
	return sess, nil
}

// notify tells the session's chat in the background: a slow chat API never holds up the room.
// A failure is shown to the organizers.
func (s *Service) notify(sess *Session, n Notice) {
	if s.cfg.Notifier == nil || sess.Origin.Platform == "" {
		return
	}
	n.URL = s.RoomURL(sess.ID)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if n.Kind == "closed" {
			n.People = s.voters(ctx, sess.ID)
		}
		if err := s.cfg.Notifier.Notify(ctx, n); err != nil {
			s.log.Warn("reporting to chat failed", "session", sess.ID, "platform", sess.Origin.Platform, "err", err)
			s.publish(ctx, Event{Type: EvNotice, SessionID: sess.ID, OrganizersOnly: true,
				Data: map[string]string{"level": "warning", "message": "Could not post the summary to " + sess.Origin.Platform + ": " + err.Error()}})
		}
	}()
}

// voters returns the names of those who voted in a session, in the order they joined: who took
// part, for the summary of a session that ended. It names no vote. A store failure leaves the
// names out of the summary, nothing more.
func (s *Service) voters(ctx context.Context, sessionID string) []string {
	votes, err := s.cfg.Store.SessionVotes(ctx, sessionID)
	if err != nil {
		s.log.Warn("loading who voted for a chat summary", "session", sessionID, "err", err)
		return nil
	}
	voted := make(map[string]bool, len(votes))
	for _, v := range votes {
		voted[v.ParticipantID] = true
	}
	ps, err := s.cfg.Store.Participants(ctx, sessionID)
	if err != nil {
		s.log.Warn("loading participants for a chat summary", "session", sessionID, "err", err)
		return nil
	}
	var names []string
	for _, p := range ps {
		if voted[p.ID] {
			names = append(names, p.Name)
		}
	}
	return names
}

// Emojis are the emojis participants may throw at each other.
var Emojis = []string{"👍", "🎉", "🤔", "☕", "🚀", "😂", "❤️", "🐢", "🎯", "🍕"}

// Throw sends an emoji from the actor to another participant; nothing is stored.
func (s *Service) Throw(ctx context.Context, a Actor, to, emoji string) error {
	sess, p, err := s.actor(ctx, a)
	if err != nil {
		return err
	}
	if !slices.Contains(Emojis, emoji) {
		return invalid("emoji", "emoji must be one of %s", strings.Join(Emojis, " "))
	}
	target, err := s.cfg.Store.Participant(ctx, sess.ID, to)
	if err != nil || target.Status != StatusActive {
		return notFound("participant")
	}
	s.publish(ctx, Event{Type: EvEmoji, SessionID: sess.ID, Data: map[string]string{"from": p.ID, "to": target.ID, "emoji": emoji}})
	return nil
}
