package session

import (
	"strings"
	"time"
	"unicode/utf8"
)

// Role is what a participant may do in a session.
type Role string

// The roles. Organizers may vote; auto-reveal waits only for voters.
const (
	RoleOrganizer Role = "organizer"
	RoleVoter     Role = "voter"
	RoleSpectator Role = "spectator"
)

func (r Role) valid() bool { return r == RoleOrganizer || r == RoleVoter || r == RoleSpectator }

// ParticipantStatus tells whether a participant is in the room or waiting to be admitted.
type ParticipantStatus string

// The participant statuses.
const (
	StatusActive  ParticipantStatus = "active"
	StatusPending ParticipantStatus = "pending"
	StatusRemoved ParticipantStatus = "removed"
)

// Settings are the switches an organizer can change at any time.
type Settings struct {
	// AutoReveal reveals a round as soon as every connected voter has voted.
	AutoReveal bool `json:"auto_reveal"`
	// AllowSpectators lets people join without voting.
	AllowSpectators bool `json:"allow_spectators"`
	// RequireApproval makes new joiners wait until an organizer admits them.
	RequireApproval bool `json:"require_approval"`
	// Async lets voters vote on any open story at their own pace; organizers reveal later.
	Async bool `json:"async"`
	// Anonymous hides who voted what in the rounds revealed while it is on (the values and
	// statistics stay visible). Each round keeps the anonymity it was revealed with.
	Anonymous bool `json:"anonymous"`
	// Reveal says who may reveal the votes: RevealOrganizers, or RevealEveryone so that a room
	// whose organizer is away is not stuck. Empty (sessions from before the setting) means
	// organizers.
	Reveal string `json:"reveal"`
}

// Who may reveal the votes (Settings.Reveal).
const (
	RevealOrganizers = "organizers"
	RevealEveryone   = "everyone"
)

// DefaultSettings are the settings of a new session.
var DefaultSettings = Settings{AllowSpectators: true, Reveal: RevealOrganizers}

// check validates the settings, filling in what sessions stored before a setting existed.
func (st *Settings) check() error {
	switch st.Reveal {
	case "":
		st.Reveal = RevealOrganizers
	case RevealOrganizers, RevealEveryone:
	default:
		return invalid("reveal", "reveal must be %q or %q", RevealOrganizers, RevealEveryone)
	}
	return nil
}

// Session is one planning-poker session.
type Session struct {
	ID       string   `json:"id"`
	Title    string   `json:"title"`
	Deck     Deck     `json:"deck"`
	Settings Settings `json:"settings"`
	// CurrentStoryID is the story the room is estimating now; empty before the first pick.
	CurrentStoryID string `json:"current_story_id,omitempty"`
	// Origin records where the session was started ("web", "slack", "discord", "mattermost") and the chat
	// channel to report back to; it is never sent to a browser.
	Origin    Origin     `json:"-"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
	ClosedAt  *time.Time `json:"closed_at,omitempty"`
	// LinkEpoch is the generation of the session's organizer links: an organizer link made under
	// an older one is refused (an organizer rotated the links).
	LinkEpoch int `json:"-"`
	// TeamID is the team the session belongs to (see Team); empty for none.
	TeamID string `json:"team_id,omitempty"`
}

// Origin says which chat a session came from, so that summaries go back there.
type Origin struct {
	Platform string `json:"platform,omitempty"` // "slack", "discord", "mattermost" or empty for the web
	// Team is the Slack workspace or Discord guild; Channel the channel to post summaries to.
	Team    string `json:"team,omitempty"`
	Channel string `json:"channel,omitempty"`
	// ReplyURL is a short-lived URL for replies (Slack response_url, Discord interaction
	// webhook); it is a credential and never leaves the server.
	ReplyURL     string    `json:"reply_url,omitempty"`
	ReplyExpires time.Time `json:"reply_expires,omitempty"`
	// Language is the BCP 47 tag of the catalog the chat's command was answered in ("de"), so
	// that summaries and reminders posted later speak it too; empty means the server's default.
	Language string `json:"language,omitempty"`
}

// Closed reports whether the session has ended.
func (s *Session) Closed() bool { return s.ClosedAt != nil }

// Participant is a person in a session. Identity is proven by a cookie token whose hash is stored.
type Participant struct {
	ID        string            `json:"id"`
	SessionID string            `json:"-"`
	Name      string            `json:"name"`
	Role      Role              `json:"role"`
	Status    ParticipantStatus `json:"status"`
	// ChatID identifies the chat user who joined through a signed link ("slack:T1:U2").
	ChatID    string    `json:"-"`
	CreatedAt time.Time `json:"created_at"`
}

// Votes reports whether the participant's votes count (spectators' do not).
func (p *Participant) Votes() bool { return p.Role != RoleSpectator && p.Status == StatusActive }

// StoryStatus is the life cycle of a story.
type StoryStatus string

// The story statuses.
const (
	StoryOpen      StoryStatus = "open"
	StoryEstimated StoryStatus = "estimated"
)

// RoundState is the state machine of a round: voting → revealed.
type RoundState string

// The round states.
const (
	RoundVoting   RoundState = "voting"
	RoundRevealed RoundState = "revealed"
)

// SyncState is where the write-back of an imported story's estimate stands.
type SyncState string

// The sync states; empty means nothing to sync.
const (
	SyncNone    SyncState = ""
	SyncPending SyncState = "pending"
	SyncSynced  SyncState = "synced"
	SyncFailed  SyncState = "failed"
)

// Story is one item to estimate.
type Story struct {
	ID          string      `json:"id"`
	SessionID   string      `json:"-"`
	Position    int         `json:"position"`
	Title       string      `json:"title"`
	Description string      `json:"description,omitempty"`
	URL         string      `json:"url,omitempty"`
	Status      StoryStatus `json:"status"`
	Estimate    string      `json:"estimate,omitempty"`
	// Round is the number of the current round (1 for the first); RoundState its state.
	Round      int        `json:"round"`
	RoundState RoundState `json:"round_state"`
	// Source and ExternalKey identify an imported story ("github", "acme/api#42").
	Source      string    `json:"source,omitempty"`
	ExternalKey string    `json:"external_key,omitempty"`
	SyncState   SyncState `json:"sync_state,omitempty"`
	SyncError   string    `json:"sync_error,omitempty"`
	// SyncedValue is the last estimate the tracker confirmed.
	SyncedValue string `json:"synced_value,omitempty"`
	// ImportedEstimate is the estimate the tracker or file held when the story was imported:
	// shown beside the story, never written back (only an accepted Estimate is).
	ImportedEstimate string `json:"imported_estimate,omitempty"`
	// Target is what decides where the estimate is written back (see WriteTarget); it stays on
	// the server.
	Target    WriteTarget `json:"-"`
	CreatedAt time.Time   `json:"created_at"`
}

// Confidence is how sure a voter is of a vote.
type Confidence string

// The confidence levels; empty means not given.
const (
	ConfidenceLow    Confidence = "low"
	ConfidenceMedium Confidence = "medium"
	ConfidenceHigh   Confidence = "high"
)

// Vote is one participant's card in one round of one story.
type Vote struct {
	StoryID       string     `json:"story_id"`
	Round         int        `json:"round"`
	ParticipantID string     `json:"participant_id,omitempty"`
	Card          string     `json:"card"`
	Confidence    Confidence `json:"confidence,omitempty"`
	Rationale     string     `json:"rationale,omitempty"`
	CastAt        time.Time  `json:"cast_at"`
}

// Round is one voting round of a story, with its votes once revealed.
type Round struct {
	StoryID    string     `json:"story_id"`
	Number     int        `json:"number"`
	State      RoundState `json:"state"`
	StartedAt  time.Time  `json:"started_at"`
	RevealedAt *time.Time `json:"revealed_at,omitempty"`
	// Anonymous is fixed when the round is revealed, from the session's setting at that moment:
	// its votes are shown without who cast them, whatever the setting becomes later.
	Anonymous bool `json:"anonymous"`
}

// Limits on text a user types.
const (
	MaxNameLen        = 40
	MaxTitleLen       = 200
	MaxDescriptionLen = 10000
	MaxURLLen         = 2000
	MaxRationaleLen   = 280
	MaxStories        = 1000
	// MaxKeyLen and MaxSourceLen bound an imported story's key ("acme/api#42") and source
	// ("github"), in bytes.
	MaxKeyLen    = 200
	MaxSourceLen = 32
)

// cleanText trims s and checks it is non-empty (when required), valid UTF-8, free of control
// characters and at most max runes long.
func cleanText(field, s string, max int, required bool) (string, error) {
	s = strings.TrimSpace(s)
	if required && s == "" {
		return "", invalid(field, "%s must not be empty", field)
	}
	if !utf8.ValidString(s) {
		return "", invalid(field, "%s is not valid UTF-8 text", field)
	}
	if n := utf8.RuneCountInString(s); n > max {
		return "", invalid(field, "%s is %d characters long; the limit is %d", field, n, max)
	}
	for _, r := range s {
		if r < 0x20 && r != '\n' && r != '\t' || r == 0x7f {
			return "", invalid(field, "%s contains control characters", field)
		}
	}
	return s, nil
}

// cleanName validates a single-line name (participant name, title).
func cleanName(field, s string, max int) (string, error) {
	s, err := cleanText(field, s, max, true)
	if err != nil {
		return "", err
	}
	if strings.ContainsAny(s, "\n\t") {
		return "", invalid(field, "%s must be a single line", field)
	}
	return s, nil
}

// cleanURL accepts an empty string or an http(s) URL.
func cleanURL(s string) (string, error) {
	s, err := cleanText("url", s, MaxURLLen, false)
	if err != nil || s == "" {
		return s, err
	}
	low := strings.ToLower(s)
	if !strings.HasPrefix(low, "https://") && !strings.HasPrefix(low, "http://") || strings.ContainsAny(s, " \n\t\"<>") {
		return "", invalid("url", "url must be an http:// or https:// link")
	}
	return s, nil
}
