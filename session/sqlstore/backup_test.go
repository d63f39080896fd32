package sqlstore

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestBackupRestore: a backup of an open database holds its votes; restore refuses while the
// database is open, keeps the replaced file, and the restored database opens with the votes.
func TestBackupRestore(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pokor.db")
	url := "sqlite:" + path
	s := openSQLiteFile(t, path)
	sess, _ := createSession(t, s, nil)
	ann := voters(t, s, sess.ID, 1)[0]
	st := addStories(t, s, sess.ID, "One")[0]
	castVote(t, s, st.ID, 1, ann, "5")

	dest := filepath.Join(dir, "backup.db")
	info, err := Backup(t.Context(), url, dest)
	if err != nil {
		t.Fatalf("Backup while open: %v", err)
	}
	if info.Sessions != 1 || info.Votes != 1 || info.Migration == "" {
		t.Errorf("backup info = %+v", info)
	}
	if fi, _ := os.Stat(dest); fi.Mode().Perm() != 0o600 {
		t.Errorf("backup mode %v, want 0600", fi.Mode().Perm())
	}
	if _, err := Backup(t.Context(), url, dest); err == nil {
		t.Error("Backup overwrote an existing file")
	}
	if _, err := Backup(t.Context(), "sqlite:"+filepath.Join(dir, "missing.db"), filepath.Join(dir, "b2.db")); err == nil {
		t.Error("Backup of a missing database succeeded")
	}
	if _, err := Backup(t.Context(), "postgres://x/y", filepath.Join(dir, "b3.db")); err == nil {
		t.Error("Backup of PostgreSQL did not point to pg_dump")
	}

	castVote(t, s, st.ID, 1, voters(t, s, sess.ID, 1)[0], "8") // after the backup: not in it
	if _, err := Restore(t.Context(), dest, url); !errors.Is(err, ErrInUse) {
		t.Fatalf("Restore over an open database = %v, want ErrInUse", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	replaced, err := Restore(t.Context(), dest, url)
	if err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if _, err := os.Stat(replaced); err != nil {
		t.Errorf("the replaced database was not kept: %v", err)
	}
	s = openSQLiteFile(t, path)
	if votes := getVotes(t, s, st.ID, 1); len(votes) != 1 || votes[ann.ID] != "5" {
		t.Errorf("votes after restore: %v", votes)
	}
	if err := os.WriteFile(filepath.Join(dir, "junk.db"), []byte("not a database at all, just text"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Restore(t.Context(), filepath.Join(dir, "junk.db"), url); err == nil {
		t.Error("Restore accepted a file that is not a database")
	}
}
