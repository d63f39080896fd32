package session

import (
	"context"
	"encoding/json"
)

// EventType names a message sent to room members. The WebSocket protocol in docs/api.md lists them.
type EventType string

// The room events. None of them carries a vote value before its round is revealed.
const (
	EvSnapshot      EventType = "snapshot"    // whole state, sent on connect, per connection
	EvSession       EventType = "session"     // title, settings or current story changed
	EvParticipant   EventType = "participant" // joined or changed (name, role, status)
	EvParticipantRm EventType = "participant_removed"
	EvPresence      EventType = "presence" // a participant connected or disconnected
	EvStory         EventType = "story"    // added or changed (not its votes)
	EvStoryRm       EventType = "story_removed"
	EvOrder         EventType = "stories_order"
	EvVoted         EventType = "voted"     // who voted or retracted, never the card
	EvRevealed      EventType = "revealed"  // the votes of a round and their statistics
	EvRound         EventType = "round"     // a re-vote opened a new round
	EvAccepted      EventType = "accepted"  // a story's estimate was accepted
	EvEmoji         EventType = "emoji"     // someone threw an emoji at someone
	EvAdmission     EventType = "admission" // sent to a waiting joiner: admitted or denied
	EvNotice        EventType = "notice"    // a message for organizers (a failed Slack post)
	EvClosed        EventType = "closed"    // the session ended
	EvTimer         EventType = "timer"     // a round timer started, stopped or ran out
	EvNudge         EventType = "nudge"     // sent to one voter: an organizer waits for their vote
	EvReconnect     EventType = "reconnect" // the server is going away; reconnect
	EvAck           EventType = "ack"       // reply to a client request on the socket
	EvError         EventType = "error"     // reply to a client request that failed
)

// EvOrganizerLink tells organizers the organizer links were replaced: each fetches its new one.
const EvOrganizerLink EventType = "organizer_link"

// Event is one message for the members of a session's room.
type Event struct {
	Type EventType `json:"type"`
	// SessionID routes the event; To, when set, limits it to one participant's connections;
	// OrganizersOnly limits it to organizers.
	SessionID      string `json:"-"`
	To             string `json:"-"`
	OrganizersOnly bool   `json:"-"`
	Data           any    `json:"data,omitempty"`
}

// Encode returns the event as the bytes sent on the wire.
func (e Event) Encode() ([]byte, error) { return json.Marshal(e) }

// Envelope is an encoded event with its routing, as it crosses a Bus. An envelope with a Change
// carries a change of who a participant is instead of (or before) a message: it travels the same
// way as the events, so every instance's Hub applies it at the same point of the room's stream,
// and each event after it is routed by the participant's new role.
type Envelope struct {
	SessionID      string        `json:"s"`
	To             string        `json:"t,omitempty"`
	OrganizersOnly bool          `json:"o,omitempty"`
	Change         *MemberChange `json:"c,omitempty"`
	Msg            []byte        `json:"m,omitempty"`
}

// MemberChange is who a participant is now, as the Hubs route by it: its role and admission, or
// its removal from the session.
type MemberChange struct {
	ParticipantID string `json:"p"`
	Role          Role   `json:"r"`
	Pending       bool   `json:"w,omitempty"`
	Removed       bool   `json:"x,omitempty"`
	// Reason is what a removed participant's page shows; it travels in the close frame.
	Reason string `json:"why,omitempty"`
}

// memberChange describes p as it is now, for the Hubs.
func memberChange(p *Participant, reason string) *MemberChange {
	return &MemberChange{ParticipantID: p.ID, Role: p.Role, Pending: p.Status == StatusPending, Removed: p.Status == StatusRemoved, Reason: reason}
}

// Bus carries room events to every instance's Hub. The in-process bus delivers to one Hub; the
// Redis bus (package redisbus) to every instance subscribed.
type Bus interface {
	// Publish delivers the envelope to the members of its room on every instance.
	Publish(ctx context.Context, env Envelope) error
}

// DegradedBus is a Bus that may, for a while, fail to carry changes between instances (Redis
// away). The service then reconciles the routing of this instance's members with the store, so
// that a change made on another instance still takes effect here within seconds.
type DegradedBus interface {
	Bus
	// Degraded reports whether changes may be missing from other instances right now.
	Degraded() bool
	// LocalHub is this instance's hub.
	LocalHub() *Hub
}

// LocalBus delivers events to the Hub of this process only.
type LocalBus struct{ Hub *Hub }

// Publish delivers env to the local hub.
func (b LocalBus) Publish(_ context.Context, env Envelope) error {
	b.Hub.Deliver(env)
	return nil
}
