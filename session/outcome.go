package session

import (
	"context"
	"time"
)

// Outcome is what happened to an imported story in its tracker once the work was done: when work
// on it started and ended, by the tracker's own history, and the time logged on it.
type Outcome struct {
	StoryID string `json:"-"`
	// StartedAt is when work began (the first move to an "in progress" status or label); nil when
	// the history does not say, and then the cycle time runs from the creation.
	StartedAt *time.Time `json:"started_at,omitempty"`
	DoneAt    time.Time  `json:"done_at"`
	// CycleHours is the time from start to done, in hours.
	CycleHours *float64 `json:"cycle_hours,omitempty"`
	// SpentHours is the time logged on the issue (Jira's time tracking), when any was.
	SpentHours *float64 `json:"spent_hours,omitempty"`
	// Detail says how the outcome was read ("closed 2025-03-04; in progress since 2025-03-02").
	Detail    string    `json:"detail,omitempty"`
	FetchedAt time.Time `json:"fetched_at"`
}

// OutcomeStore keeps the outcomes fetched for a team's stories. Part of Store.
type OutcomeStore interface {
	// SaveOutcome stores or replaces a story's outcome.
	SaveOutcome(ctx context.Context, o *Outcome) error
	// TeamOutcomes returns the outcomes of a team's stories.
	TeamOutcomes(ctx context.Context, teamID string) ([]*Outcome, error)
}
