package sqlstore

import (
	"testing"

	"github.com/pokor/pokor/session"
)

func testSlackInstallations(t *testing.T, s *Store) {
	ctx := t.Context()
	if _, _, err := s.SlackInstallation(ctx, "T1"); session.ErrorCode(err) != session.CodeNotFound {
		t.Fatalf("SlackInstallation of a workspace never installed: err = %v, want not found", err)
	}
	keys := testKeys(t)
	first := keys.Seal("xoxb-first")
	if err := s.SaveSlackInstallation(ctx, "T1", "Acme", first, t0); err != nil {
		t.Fatalf("SaveSlackInstallation: %v", err)
	}
	if err := s.SaveSlackInstallation(ctx, "T2", "Globex", keys.Seal("xoxb-other"), t0); err != nil {
		t.Fatalf("SaveSlackInstallation: %v", err)
	}
	name, sealed, err := s.SlackInstallation(ctx, "T1")
	if err != nil || name != "Acme" || sealed != first {
		t.Fatalf("SlackInstallation(T1) = %q, %q, %v; want Acme and the sealed token", name, sealed, err)
	}

	// A reinstall replaces the token and the name.
	second := keys.Seal("xoxb-second")
	if err := s.SaveSlackInstallation(ctx, "T1", "Acme Corp", second, t0.Add(1)); err != nil {
		t.Fatalf("SaveSlackInstallation again: %v", err)
	}
	name, sealed, err = s.SlackInstallation(ctx, "T1")
	if err != nil || name != "Acme Corp" || sealed != second {
		t.Fatalf("after reinstall: %q, %q, %v", name, sealed, err)
	}
	if plain, err := keys.Open(sealed); err != nil || plain != "xoxb-second" {
		t.Fatalf("the stored token does not open: %q, %v", plain, err)
	}
}
