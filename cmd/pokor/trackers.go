package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/pokor/pokor/session"
)

const importUsage = "usage: pokor import SESSION_ID FILE.csv (FILE may be - for standard input)\n" +
	"   or: pokor import SESSION_ID --from TRACKER QUERY..."

// importCmd is `pokor import SESSION_ID FILE.csv` or `pokor import SESSION_ID --from TRACKER
// QUERY`: it adds the stories of a CSV file, or those a tracker query selects (with the
// server's default credentials, or the session's connection), to a session as the session's
// first organizer, updating stories imported from the same keys before. Rooms open meanwhile
// see the stories on their next reconnect: this process has no connection to the server's rooms.
func importCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	switch {
	case len(args) == 2 && !strings.HasPrefix(args[1], "-"):
	case len(args) >= 4 && (args[1] == "--from" || args[1] == "-from"):
	default:
		return errors.New(importUsage)
	}
	id := args[0]
	var in io.Reader
	if len(args) == 2 {
		in = os.Stdin
		if path := args[1]; path != "-" {
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			defer f.Close()
			in = f
		}
	}
	m, err := openOffline(ctx)
	if err != nil {
		return err
	}
	defer m.Close()
	org, err := firstOrganizer(ctx, m.Store, id)
	if err != nil {
		return err
	}
	a := session.Actor{SessionID: id, ParticipantID: org.ID}
	var res session.ImportResult
	source := "the file"
	if in != nil {
		res, err = m.Service.ImportFile(ctx, a, "csv", in)
	} else {
		source = args[2]
		res, err = m.Service.Import(ctx, a, args[2], strings.Join(args[3:], " "))
	}
	if err != nil {
		return errors.New(session.ErrorMessage(err))
	}
	if res.Added+res.Updated == 0 {
		fmt.Fprintf(stdout, "no stories matched in %s\n", source)
		return nil
	}
	fmt.Fprintf(stdout, "imported %d new and updated %d stories into session %s\n", res.Added, res.Updated, id)
	return nil
}

// firstOrganizer returns the earliest active organizer of a session, in whose name the command
// line acts.
func firstOrganizer(ctx context.Context, st session.Store, sessionID string) (*session.Participant, error) {
	if _, err := st.Session(ctx, sessionID); err != nil {
		if session.ErrorCode(err) == session.CodeNotFound {
			return nil, fmt.Errorf("session %q does not exist", sessionID)
		}
		return nil, err
	}
	ps, err := st.Participants(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		if p.Role == session.RoleOrganizer && p.Status == session.StatusActive {
			return p, nil
		}
	}
	return nil, fmt.Errorf("session %q has no active organizer to import as", sessionID)
}
