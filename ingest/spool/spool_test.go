package spool

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func payload(i int) []byte { return []byte(fmt.Sprintf("message %06d", i)) }

func readAll(t *testing.T, s *Spool, from uint64) []Entry {
	t.Helper()
	es, err := s.Read(from, 1<<20, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func TestAppendReopenRead(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{SegmentBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 1000 {
		seq, err := s.Append(payload(i))
		if err != nil || seq != uint64(i+1) {
			t.Fatalf("append %d: seq %d %v", i, seq, err)
		}
	}
	if es := readAll(t, s, 990); len(es) != 11 || string(es[0].Payload) != string(payload(989)) {
		t.Fatalf("read from 990 before close: %d entries", len(es))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, Options{SegmentBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	es := readAll(t, s, 1)
	if len(es) != 1000 {
		t.Fatalf("after reopen: %d entries", len(es))
	}
	for i, e := range es {
		if e.Seq != uint64(i+1) || string(e.Payload) != string(payload(i)) {
			t.Fatalf("entry %d: %d %q", i, e.Seq, e.Payload)
		}
	}
	if seq, _ := s.Append([]byte("after")); seq != 1001 {
		t.Fatalf("sequence continues at %d, want 1001", seq)
	}
	s.Close()
}

// A crash that leaves half a record: reopening cuts it and keeps the rest.
func TestTornTail(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir, Options{})
	for i := range 10 {
		s.Append(payload(i))
	}
	s.Close()
	segs, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	f, _ := os.OpenFile(segs[len(segs)-1], os.O_WRONLY|os.O_APPEND, 0)
	f.Write([]byte{0, 0, 0, 40, 1, 2, 3}) // a torn header of an 11th record
	f.Close()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if es := readAll(t, s, 1); len(es) != 10 {
		t.Fatalf("after a torn tail: %d entries, want 10", len(es))
	}
	if seq, _ := s.Append([]byte("next")); seq != 11 {
		t.Fatalf("next seq %d, want 11", seq)
	}
	if es := readAll(t, s, 11); len(es) != 1 || string(es[0].Payload) != "next" {
		t.Fatalf("record after recovery: %+v", es)
	}
	s.Close()
}

func TestTrimAndFull(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir, Options{SegmentBytes: 1024, MaxBytes: 8192})
	var refused int
	for i := range 1000 {
		if _, err := s.Append(payload(i)); errors.Is(err, ErrFull) {
			refused++
		}
	}
	st := s.Stats()
	if refused == 0 || st.Refused != uint64(refused) || st.Bytes > 8192 {
		t.Fatalf("full spool: refused %d, stats %+v", refused, st)
	}
	// The active stored everything up to the watermark: trim frees room.
	if err := s.Trim(st.NextSeq - 1); err != nil {
		t.Fatal(err)
	}
	if after := s.Stats(); after.Bytes >= st.Bytes || after.FirstSeq <= 1 {
		t.Fatalf("trim freed nothing: %+v", after)
	}
	if _, err := s.Append([]byte("room again")); err != nil {
		t.Fatalf("append after trim: %v", err)
	}
	first := s.Stats().FirstSeq
	if es := readAll(t, s, 1); len(es) == 0 || es[0].Seq != first {
		t.Fatalf("read after trim starts at %v, want %d", es, first)
	}
	s.Close()
}

func TestSyncIsGroupCommit(t *testing.T) {
	s, _ := Open(t.TempDir(), Options{})
	defer s.Close()
	for i := range 500 {
		s.Append(payload(i))
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(); err != nil { // nothing new: no fsync
		t.Fatal(err)
	}
	if st := s.Stats(); st.Synced != 1 || st.Appended != 500 {
		t.Fatalf("stats %+v: want 500 records in one fsync", st)
	}
}

func BenchmarkAppend(b *testing.B) {
	s, _ := Open(b.TempDir(), Options{})
	defer s.Close()
	p := make([]byte, 200)
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		if _, err := s.Append(p); err != nil {
			b.Fatal(err)
		}
	}
}

// Reads continue where the last one ended (a cursor, not a rescan) and
// still answer any earlier sequence number, across segment boundaries.
func TestReadCursorAcrossSegments(t *testing.T) {
	s, err := Open(t.TempDir(), Options{SegmentBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range 1000 {
		if _, err := s.Append(fmt.Appendf(nil, "record-%04d", i)); err != nil {
			t.Fatal(err)
		}
	}
	next := uint64(1)
	for next <= 1000 {
		es, err := s.Read(next, 7, 1<<30)
		if err != nil || len(es) == 0 {
			t.Fatalf("read from %d: %v (%d entries)", next, err, len(es))
		}
		for _, e := range es {
			if e.Seq != next || string(e.Payload) != fmt.Sprintf("record-%04d", next-1) {
				t.Fatalf("got seq %d %q, want %d", e.Seq, e.Payload, next)
			}
			next++
		}
	}
	for _, from := range []uint64{1, 500, 999, 77} {
		es, err := s.Read(from, 3, 1<<30)
		if err != nil || len(es) == 0 || es[0].Seq != from {
			t.Fatalf("re-read from %d: %v %+v", from, err, es)
		}
	}
}

// A read stops at maxBytes of payload (a batch is bounded in bytes), but
// always returns a record, however large.
func TestReadBoundedInBytes(t *testing.T) {
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, n := range []int{1000, 1000, 1000, 5000, 10} {
		if _, err := s.Append(make([]byte, n)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		from     uint64
		maxBytes int
		want     int
	}{{1, 2500, 3}, {1, 2000, 2}, {1, 1, 1}, {4, 100, 1}, {4, 1 << 20, 2}, {1, 1 << 20, 5}} {
		es, err := s.Read(tc.from, 1000, tc.maxBytes)
		if err != nil || len(es) != tc.want {
			t.Errorf("read from %d up to %d bytes: %d records (%v), want %d", tc.from, tc.maxBytes, len(es), err, tc.want)
		}
	}
}

func TestBacklog(t *testing.T) {
	s, err := Open(t.TempDir(), Options{SegmentBytes: 1000})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for range 30 { // 116-byte records, 8 per segment: segments from 1, 9, 17, 25
		if _, err := s.Append(make([]byte, 100)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		acked uint64
		want  int64
	}{{0, 30 * 116}, {8, 22 * 116}, {9, 22 * 116}, {24, 6 * 116}, {30, 0}} {
		if got := s.Backlog(tc.acked); got != tc.want {
			t.Errorf("backlog after %d: %d, want %d", tc.acked, got, tc.want)
		}
	}
}

// A full disk: appends fail with ErrWrite and are counted, the segment
// is cut back to its last whole record (nothing torn in the middle), a
// waiter for a dropped record is told, and once there is room again the
// spool goes on by itself, readable in order after a reopen.
func TestDiskFullRollsBackAndRecovers(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	filler := filepath.Join(dir, "filler") // what the operator deletes to make room
	if err := os.WriteFile(filler, make([]byte, 600<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(filepath.Join(dir, "spool"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	payload := bytes.Repeat([]byte("x"), 1000)
	var ok []uint64
	var failed int
	for range 3000 { // 3 MB into 1 MB
		seq, err := s.Append(payload)
		if err == nil {
			ok = append(ok, seq)
			if len(ok)%100 == 0 {
				err = s.Sync()
			}
		}
		if err != nil {
			if !errors.Is(err, ErrWrite) {
				t.Fatalf("append: %v, want ErrWrite", err)
			}
			failed++
		}
	}
	if failed == 0 || s.Stats().Lost == 0 {
		t.Fatalf("1 MB of disk took 3 MB: failed %d, lost %d", failed, s.Stats().Lost)
	}
	// One record at a time until the disk refuses one: its waiter is told.
	var refused uint64
	for range 2000 {
		seq, err := s.Append(payload)
		if err == nil {
			err = s.Sync()
		}
		if err != nil {
			refused = seq
			break
		}
	}
	if refused == 0 {
		t.Fatal("the disk never refused a single record")
	}
	if err := s.WaitDurable(refused); !errors.Is(err, ErrWrite) {
		t.Fatalf("waiting for a record the disk refused: %v, want ErrWrite", err)
	}
	whole := s.Stats().Appended - s.Stats().Lost
	es, err := s.Read(1, 1<<20, 1<<30)
	if err != nil || uint64(len(es)) != whole {
		t.Fatalf("after the failures: read %d records (%v), want the %d whole ones", len(es), err, whole)
	}
	if err := s.WaitDurable(es[len(es)-1].Seq); err != nil {
		t.Fatalf("the last whole record is not durable: %v", err)
	}
	// Room again: the spool resumes without a restart.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	var after []uint64
	for range 50 {
		seq, err := s.Append(payload)
		if err != nil {
			break
		}
		after = append(after, seq)
	}
	if err := s.Sync(); err != nil || len(after) == 0 {
		t.Fatalf("no recovery once there was room: %v (%d appended)", err, len(after))
	}
	if err := s.WaitDurable(after[len(after)-1]); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2, err := Open(filepath.Join(dir, "spool"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	es, err = s2.Read(after[0], 1000, 1<<30)
	if err != nil || len(es) != len(after) || es[0].Seq != after[0] {
		t.Fatalf("after reopen: %d records from %d (%v), want %d", len(es), after[0], err, len(after))
	}
}
