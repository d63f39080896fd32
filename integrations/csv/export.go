package csv

import (
	stdcsv "encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/pokor/pokor/session"
)

// ExportStory is one story of a session as the export writes it.
type ExportStory struct {
	Key         string
	Title       string
	Description string
	URL         string
	// Estimate is the accepted value, empty while the story is not estimated.
	Estimate string
	// Status is the story's state in the session ("pending", "voting", "estimated").
	Status string
	// SyncState and SyncError tell how the write-back to the tracker went.
	SyncState string
	SyncError string
	// Rounds are the story's rounds, oldest first.
	Rounds []ExportRound
}

// ExportRound is one round of voting on a story.
type ExportRound struct {
	Number   int
	Revealed bool
	Votes    []ExportVote
}

// ExportVote is one participant's vote in a round; Participant is empty when votes are anonymous.
type ExportVote struct {
	Participant string
	Card        string
	Confidence  string
	Rationale   string
}

// exportHeader is the first line Write produces. Parse reads its key, title, description, url
// and estimate columns, so an export can be imported into another session.
var exportHeader = []string{"key", "title", "description", "url", "estimate", "status", "rounds", "votes", "sync_state", "sync_error"}

// Write writes stories as CSV under the header key, title, description, url, estimate, status,
// rounds, votes, sync_state, sync_error, one row per story. Cells a spreadsheet would run as a
// formula are prefixed with a single quote; Parse removes it again.
func Write(w io.Writer, stories []ExportStory) error {
	cw := stdcsv.NewWriter(w)
	if err := cw.Write(exportHeader); err != nil {
		return fmt.Errorf("csv: writing the export: %w", err)
	}
	row := make([]string, len(exportHeader))
	for _, s := range stories {
		row = append(row[:0],
			s.Key, s.Title, s.Description, s.URL, s.Estimate, s.Status,
			strconv.Itoa(len(s.Rounds)), VoteSummary(s.Rounds), s.SyncState, s.SyncError)
		for i := range row {
			row[i] = guard(row[i])
		}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("csv: writing the export: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("csv: writing the export: %w", err)
	}
	return nil
}

// VoteSummary describes the votes of the last revealed round in one line, such as
// `Ann=5 (high); Bob=8 (low, "unclear API")`. Unrevealed rounds are left out because their
// votes are still secret.
func VoteSummary(rounds []ExportRound) string {
	for i := len(rounds) - 1; i >= 0; i-- {
		if !rounds[i].Revealed {
			continue
		}
		parts := make([]string, 0, len(rounds[i].Votes))
		for _, v := range rounds[i].Votes {
			if v.Card == "" {
				continue
			}
			parts = append(parts, describeVote(v))
		}
		return strings.Join(parts, "; ")
	}
	return ""
}

func describeVote(v ExportVote) string {
	s := v.Card
	if name := oneLine(v.Participant); name != "" {
		s = name + "=" + v.Card
	}
	var notes []string
	if c := oneLine(v.Confidence); c != "" {
		notes = append(notes, c)
	}
	if r := oneLine(v.Rationale); r != "" {
		notes = append(notes, strconv.Quote(r))
	}
	if len(notes) > 0 {
		s += " (" + strings.Join(notes, ", ") + ")"
	}
	return s
}

// oneLine folds white space, so that a multi-line rationale keeps the summary on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// WriteSession writes a session's export as CSV, one row per story: key, title, description,
// link, final estimate, status, number of rounds, the votes of the last revealed round and the
// sync state. The room's download and `pokor export` share it, so an export can be imported into
// another session. Credentials are never part of an export.
func WriteSession(w io.Writer, ex *session.Export) error {
	names := map[string]string{}
	for _, p := range ex.Participants {
		names[p.ID] = p.Name
	}
	rows := make([]ExportStory, 0, len(ex.Stories))
	for _, st := range ex.Stories {
		row := ExportStory{
			Key: st.ExternalKey, Title: st.Title, Description: st.Description, URL: st.URL, Estimate: st.Estimate,
			Status: string(st.Status), SyncState: string(st.SyncState), SyncError: st.SyncError,
			Rounds: make([]ExportRound, 0, len(st.Rounds)),
		}
		for _, r := range st.Rounds {
			er := ExportRound{Number: r.Number, Revealed: r.State == session.RoundRevealed}
			for _, v := range r.Votes {
				who := ""
				if v.ParticipantID != "" {
					if who = names[v.ParticipantID]; who == "" {
						who = "(removed)"
					}
				}
				er.Votes = append(er.Votes, ExportVote{Participant: who, Card: v.Card, Confidence: string(v.Confidence), Rationale: v.Rationale})
			}
			row.Rounds = append(row.Rounds, er)
		}
		rows = append(rows, row)
	}
	return Write(w, rows)
}
