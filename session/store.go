package session

import (
	"context"
	"time"
)

// Store persists sessions. Implementations live in package sqlstore (SQLite and PostgreSQL);
// every method is safe for concurrent use. Lookups return ErrNotFound (CodeNotFound) when the row
// does not exist. A method that returns nil has made its change durable.
type Store interface {
	TeamStore
	OutcomeStore

	// CreateSession stores a new session with its first organizer and the organizer's token hash.
	// It, CloseSession and Accept also write the webhook deliveries of their events
	// (session.created, session.ended, estimate.accepted) in the same transaction.
	CreateSession(ctx context.Context, s *Session, organizer *Participant, tokenHash string) error
	// Session returns a session by id.
	Session(ctx context.Context, id string) (*Session, error)
	// UpdateSession saves title, deck and settings; nothing else, so that it cannot undo a
	// concurrent change of the current story.
	UpdateSession(ctx context.Context, s *Session) error
	// SetCurrentStory makes storyID the current story. With from not nil it does so only if the
	// current story is still *from (compare and set), and reports whether it did.
	SetCurrentStory(ctx context.Context, sessionID, storyID string, from *string, at time.Time) (bool, error)
	// RotateOrganizerLinks moves a session to its next organizer link generation, which refuses
	// every organizer link made before, and returns the new generation.
	RotateOrganizerLinks(ctx context.Context, sessionID string) (int, error)
	// OrganizerLinkEpoch reads the session's organizer link generation from the database, never
	// from a cache: a rotation on another instance must refuse old links at once. It returns
	// ErrNotFound if the session does not exist.
	OrganizerLinkEpoch(ctx context.Context, sessionID string) (int, error)
	// CloseSession marks a session ended at at.
	CloseSession(ctx context.Context, sessionID string, at time.Time) error
	// DeleteIdleSessions deletes sessions not updated since before, with everything in them.
	DeleteIdleSessions(ctx context.Context, before time.Time) (int, error)

	// AddParticipant stores a participant and, when tokenHash is not empty, its first token.
	AddParticipant(ctx context.Context, p *Participant, tokenHash string) error
	// AddToken lets one more device (cookie) act as the participant.
	AddToken(ctx context.Context, participantID, tokenHash string) error
	// ParticipantByToken returns the participant of a session whose token hashes to tokenHash.
	ParticipantByToken(ctx context.Context, sessionID, tokenHash string) (*Participant, error)
	// ParticipantByChatID returns the participant a chat user became in a session.
	ParticipantByChatID(ctx context.Context, sessionID, chatID string) (*Participant, error)
	// Participant returns a participant of a session, removed ones included.
	Participant(ctx context.Context, sessionID, id string) (*Participant, error)
	// Participants lists a session's participants in joining order, removed ones excluded.
	Participants(ctx context.Context, sessionID string) ([]*Participant, error)
	// UpdateParticipant saves name, role and status.
	UpdateParticipant(ctx context.Context, p *Participant) error
	// RemoveParticipant marks a participant removed, forgets its tokens and drops its votes in
	// rounds still voting; votes in revealed rounds stay in the history.
	RemoveParticipant(ctx context.Context, sessionID, id string) error

	// SaveStories appends new stories (round 1 opened) and, for stories with a Source and
	// ExternalKey already in the session, updates title, description and URL instead. It fills in
	// ID, Position, Round and RoundState of each story as stored. It fails with CodeInvalid when the
	// session would hold more than MaxStories.
	SaveStories(ctx context.Context, sessionID string, stories []*Story) error
	// Story returns one story of a session.
	Story(ctx context.Context, sessionID, id string) (*Story, error)
	// Stories lists a session's stories in order.
	Stories(ctx context.Context, sessionID string) ([]*Story, error)
	// UpdateStory saves title, description and URL.
	UpdateStory(ctx context.Context, st *Story) error
	// DeleteStory deletes a story with its rounds, votes and pending write-back.
	DeleteStory(ctx context.Context, sessionID, id string) error
	// ReorderStories sets the order of stories; ids must name every story of the session once.
	ReorderStories(ctx context.Context, sessionID string, ids []string) error

	// CastVote stores or replaces a vote. It returns ErrRoundClosed when the round is not
	// voting any more (revealed, or replaced by a re-vote).
	CastVote(ctx context.Context, v *Vote) error
	// CastCurrentVote stores or replaces a vote on the current round of story v.StoryID of
	// session sessionID and sets v.Round to that round, without a read before it: the write itself
	// checks, in the same transaction, that the story is in the session, that its round is voting
	// and that the participant is an active voter or organizer. It returns ErrRoundClosed when any
	// of that does not hold; the caller reads the story to say which.
	CastCurrentVote(ctx context.Context, sessionID string, v *Vote) error
	// RetractVote deletes a participant's vote in a round that is still voting.
	RetractVote(ctx context.Context, storyID string, round int, participantID string) error
	// Votes returns the votes of one round.
	Votes(ctx context.Context, storyID string, round int) ([]Vote, error)
	// CurrentVotes returns the votes of the current round of every story of a session.
	CurrentVotes(ctx context.Context, sessionID string) ([]Vote, error)
	// StoryVotes returns the votes of every round of a story.
	StoryVotes(ctx context.Context, storyID string) ([]Vote, error)
	// SessionVotes returns the votes of every round of every story of a session.
	SessionVotes(ctx context.Context, sessionID string) ([]Vote, error)
	// Rounds returns the rounds of a story, oldest first.
	Rounds(ctx context.Context, storyID string) ([]Round, error)
	// CurrentRounds returns the current round of every story of a session.
	CurrentRounds(ctx context.Context, sessionID string) ([]Round, error)
	// Reveal moves round of a story from voting to revealed and fixes the round's anonymity.
	// Exactly one of any number of concurrent callers gets true; the others get false and change
	// nothing.
	Reveal(ctx context.Context, storyID string, round int, at time.Time, anonymous bool) (bool, error)
	// StartRound opens round after+1 of a story if its current round is after, reopening an
	// estimated story. It reports false when another caller got there first.
	StartRound(ctx context.Context, storyID string, after int, at time.Time) (bool, error)
	// Accept records the estimate of a story whose current round is round and, in the same
	// transaction, the write-back entry when wb is not nil. It reports false when the round moved on.
	Accept(ctx context.Context, storyID string, round int, value string, wb *Outbox) (bool, error)

	// ClaimOutbox claims up to n due write-back entries for owner until the lease ends.
	ClaimOutbox(ctx context.Context, owner string, n int, now time.Time, lease time.Duration) ([]*Outbox, error)
	// FinishOutbox records the outcome of an attempt: delivered, failed for good, or retry at
	// next; a delivered entry's Target, when set, becomes the story's.
	FinishOutbox(ctx context.Context, o *Outbox) error
	// ReleaseOutbox gives back the unfinished claims of owner: on shutdown, and on start, when a
	// restarted instance (the same owner) takes back at once what it held when it stopped.
	ReleaseOutbox(ctx context.Context, owner string) error
	// RequeueOutbox makes a failed entry of a story due again now; false when there is none.
	RequeueOutbox(ctx context.Context, sessionID, storyID string, now time.Time) (bool, error)

	// SaveConnection stores a session's connection to a tracker, replacing the previous one.
	SaveConnection(ctx context.Context, c *Connection) error
	// Connection returns a session's connection to a tracker.
	Connection(ctx context.Context, sessionID, tracker string) (*Connection, error)
	// Connections lists a session's tracker connections.
	Connections(ctx context.Context, sessionID string) ([]*Connection, error)
	// DeleteConnection forgets a session's connection to a tracker.
	DeleteConnection(ctx context.Context, sessionID, tracker string) error

	// TimerStore keeps the round timers.
	TimerStore

	// Ping reports whether the store is reachable.
	Ping(ctx context.Context) error
	// Close releases the store.
	Close() error
}

// ErrRoundClosed is returned when a vote arrives for a round that no longer takes votes.
var ErrRoundClosed = &Error{Code: CodeConflict, Field: "round", Message: "this round is closed: the votes were revealed; wait for a re-vote"}

// OutboxState is where a write-back entry stands.
type OutboxState string

// The outbox states.
const (
	OutboxPending   OutboxState = "pending"
	OutboxDelivered OutboxState = "delivered"
	OutboxFailed    OutboxState = "failed"
)

// Outbox is one estimate to write back to a tracker, written with the estimate it carries.
type Outbox struct {
	ID          string      `json:"id"`
	SessionID   string      `json:"session_id"`
	StoryID     string      `json:"story_id"`
	Source      string      `json:"source"`
	ExternalKey string      `json:"external_key"`
	Value       string      `json:"value"`
	State       OutboxState `json:"state"`
	Attempts    int         `json:"attempts"`
	NextAttempt time.Time   `json:"next_attempt"`
	LastError   string      `json:"last_error,omitempty"`
	Result      string      `json:"result,omitempty"`
	CreatedAt   time.Time   `json:"created_at"`
	// Target is what decided a delivered write (WriteResult.Target); FinishOutbox stores it with
	// the story when not empty.
	Target WriteTarget `json:"-"`
	// Kind is "" for a write-back, OutboxOutcome for an outcome check (which leaves the story's
	// sync state alone).
	Kind string `json:"kind,omitempty"`
}
