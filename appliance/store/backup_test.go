package store

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A snapshot's checksums (read from the file) equal the live store's, and
// a new single-voter store restored from it has the same checksums; a
// truncated snapshot is refused as damaged.
func TestSnapshotRestoreChecksums(t *testing.T) {
	ctx := context.Background()
	src := newTestStore(t, "n1")
	if err := src.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	leader(t, src)
	if err := src.Migrate(ctx, []Migration{{Version: 1, Name: "t", SQL: []string{
		`CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT, f REAL, b BLOB, at DATETIME, ok BOOLEAN, j JSON)`}}}); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]any{{"héllo", 1.5, []byte{0, 1, 2}, "2026-12-01T10:00:00Z", true, `{"a":1}`}, {nil, nil, nil, nil, nil, nil}} {
		if _, err := src.Exec(ctx, Statement{SQL: `INSERT INTO t (s, f, b, at, ok, j) VALUES (?, ?, ?, ?, ?, ?)`, Args: args}); err != nil {
			t.Fatal(err)
		}
	}
	live, err := src.Checksums(ctx)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "db.sqlite")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := src.WriteSnapshot(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	fromFile, err := FileChecksums(path)
	if err != nil || !maps.Equal(fromFile, live) {
		t.Fatalf("snapshot checksums %v (%v), live %v", fromFile, err, live)
	}

	dst := newTestStore(t, "n2")
	if err := dst.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	if err := dst.Restore(path, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	restored, err := dst.Checksums(ctx)
	if err != nil || !maps.Equal(restored, live) {
		t.Fatalf("restored checksums %v (%v), live %v", restored, err, live)
	}
	if _, err := dst.Exec(ctx, Statement{SQL: `INSERT INTO t (s) VALUES ('after')`}); err != nil {
		t.Fatalf("write after the restore: %v", err)
	}

	b, _ := os.ReadFile(path)
	short := filepath.Join(t.TempDir(), "short.sqlite")
	_ = os.WriteFile(short, b[:len(b)/2], 0o600)
	if _, err := FileChecksums(short); err == nil {
		t.Fatal("a truncated snapshot was accepted")
	} else if !errors.Is(err, ErrDamaged) {
		t.Logf("truncated snapshot refused: %v", err)
	}
}
