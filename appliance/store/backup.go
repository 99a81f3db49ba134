package store

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/rqlite/rqlite/v8/command/proto"
)

// ErrNotAlone: a restore needs a store of which this node is the only voter.
var ErrNotAlone = errors.New("the store has other members: a backup is restored only into a new single-appliance store")

// WriteSnapshot writes a consistent copy of this node's local database
// to w: a self-contained SQLite file (rollback-journal mode, so it opens
// alone), taken through SQLite's backup API while writes go on. It works
// on the active and on the standby (each copies what it has applied).
func (s *Store) WriteSnapshot(w io.Writer) error {
	rs, err := s.current()
	if err != nil {
		return err
	}
	return rs.Backup(&proto.BackupRequest{Format: proto.BackupRequest_BACKUP_REQUEST_FORMAT_DELETE}, w)
}

// Restore replaces the database of a new single-voter store with the
// SQLite file at path (rqlite's "boot": the file is swapped in and a
// snapshot taken, so the store is as if the data had come through Raft).
// It waits up to timeout for this node to lead its store.
func (s *Store) Restore(path string, timeout time.Duration) error {
	rs, err := s.current()
	if err != nil {
		return err
	}
	if _, err := rs.WaitForLeader(timeout); err != nil {
		return fmt.Errorf("restore: the new store did not elect itself (%w)", err)
	}
	st := s.Status()
	if len(st.Servers) != 1 || st.Servers[0].ID != s.opts.ID {
		return ErrNotAlone
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer f.Close()
	if _, err := rs.ReadFrom(f); err != nil {
		return fmt.Errorf("restore %s into the store: %w", path, err)
	}
	return nil
}
