// Package spool is the local, durable queue every received message goes
// into first, on both appliances. Records are appended to segment files
// with a length, a CRC and a sequence number, fsync'd in batches (group
// commit); a record is trimmed only when the active has stored it
// (the forwarder's watermark). On open, a torn tail left by a crash is cut
// at the last whole record. The spool is bounded: when full it refuses new
// records with ErrFull and counts them, so the loss is visible, never silent.
package spool

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

var (
	// ErrFull: the spool reached its size limit; the record was refused.
	ErrFull = errors.New("spool full: the active is not taking records (check forwarding) or spool.max_bytes is too small")
	// ErrClosed: the spool is closed.
	ErrClosed = errors.New("spool closed")
	// ErrWrite: the disk refused the spool's writes (full or failing);
	// the records since the last good write were dropped and counted, and
	// the spool keeps trying: it resumes by itself once the disk has room.
	ErrWrite = errors.New("spool write failed (disk full or failing): free space on the data directory's disk")
)

const headerLen = 16 // len u32, crc u32, seq u64

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Options bound the spool.
type Options struct {
	MaxBytes     int64         // total size limit
	SegmentBytes int64         // roll to a new segment past this size
	SyncInterval time.Duration // group-commit interval
}

// Entry is one spooled record.
type Entry struct {
	Seq     uint64
	Payload []byte
}

// Stats are the spool's counters.
type Stats struct {
	Appended, Refused, Synced uint64
	// Lost counts records accepted in memory that the disk then refused
	// (they were never visible to readers); WriteErrors counts failed writes.
	Lost, WriteErrors uint64
	// Evicted counts released records dropped to make room (see Release).
	Evicted           uint64
	Bytes             int64
	FirstSeq, NextSeq uint64
}

// Spool is one appliance's spool directory.
type Spool struct {
	dir  string
	opts Options
	id   string

	mu       sync.Mutex
	cur      *os.File
	curW     *bufio.Writer
	curBytes int64
	segs     []segment // oldest first
	next     uint64
	total    int64
	dirty    bool
	closed   bool

	appended, refused, synced atomic.Uint64
	lost, writeErrors         atomic.Uint64
	evicted                   atomic.Uint64
	// released: records up to here are stored by an active but kept (see
	// Release); they make room for new records when the spool is full.
	released uint64

	// good is the current segment's size and the next sequence number
	// as of the last successful write to the file: where a failed write
	// is rolled back to.
	goodSize int64
	goodNext uint64
	// durable is the highest sequence number fsync'd; durableCond wakes
	// those waiting for it (AppendDurable).
	durable     uint64
	durableCond *sync.Cond
	lostRanges  [][2]uint64 // [from, to) of the latest rollbacks

	// cursor remembers where the last Read ended, so the forwarder's next
	// Read seeks there instead of scanning its segment from the start.
	cursor struct {
		seq  uint64
		path string
		off  int64
	}
}

type segment struct {
	first uint64
	path  string
	size  int64
}

// Open opens (or creates) the spool in dir and recovers a torn tail.
func Open(dir string, opts Options) (*Spool, error) {
	if opts.SegmentBytes <= 0 {
		opts.SegmentBytes = 64 << 20
	}
	if opts.SyncInterval <= 0 {
		opts.SyncInterval = 10 * time.Millisecond
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool directory: %w", err)
	}
	s := &Spool{dir: dir, opts: opts, next: 1}
	s.durableCond = sync.NewCond(&s.mu)
	if err := s.loadID(); err != nil {
		return nil, err
	}
	if err := s.load(); err != nil {
		return nil, err
	}
	s.durable = s.next - 1
	return s, nil
}

// ID names this spool for good: a spool created anew (its directory lost)
// gets a new id, so the active never mistakes its sequence numbers for
// ones it already stored.
func (s *Spool) ID() string { return s.id }

func (s *Spool) loadID() error {
	path := filepath.Join(s.dir, "id")
	if b, err := os.ReadFile(path); err == nil && len(b) >= 16 {
		s.id = strings.TrimSpace(string(b))
		return nil
	}
	raw := make([]byte, 8)
	if _, err := rand.Read(raw); err != nil {
		return err
	}
	s.id = hex.EncodeToString(raw)
	if err := os.WriteFile(path, []byte(s.id+"\n"), 0o600); err != nil {
		return fmt.Errorf("spool id: %w", err)
	}
	return syncDir(s.dir)
}

func (s *Spool) load() error {
	names, err := filepath.Glob(filepath.Join(s.dir, "*.seg"))
	if err != nil {
		return err
	}
	sort.Strings(names)
	for i, n := range names {
		var first uint64
		if _, err := fmt.Sscanf(filepath.Base(n), "%020d.seg", &first); err != nil {
			continue
		}
		last, size, err := scan(n, i == len(names)-1)
		if err != nil {
			return err
		}
		s.segs = append(s.segs, segment{first: first, path: n, size: size})
		s.total += size
		if last >= s.next {
			s.next = last + 1
		}
		if first > s.next {
			s.next = first
		}
	}
	return nil
}

// scan returns the last sequence number in a segment; for the newest
// segment it truncates a torn tail at the last whole record.
func scan(path string, truncate bool) (uint64, int64, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0o600)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	r := bufio.NewReader(f)
	var off int64
	var last uint64
	for {
		e, n, err := readRecord(r)
		if err != nil {
			if truncate && !errors.Is(err, io.EOF) {
				if terr := f.Truncate(off); terr != nil {
					return 0, 0, terr
				}
			}
			return last, off, nil
		}
		off += int64(n)
		last = e.Seq
	}
}

func readRecord(r *bufio.Reader) (Entry, int, error) {
	var h [headerLen]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return Entry{}, 0, errors.New("torn header")
		}
		return Entry{}, 0, err
	}
	n := binary.BigEndian.Uint32(h[0:4])
	if n > 16<<20 {
		return Entry{}, 0, errors.New("corrupt length")
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		return Entry{}, 0, errors.New("torn record")
	}
	if crc32.Checksum(p, castagnoli) != binary.BigEndian.Uint32(h[4:8]) {
		return Entry{}, 0, errors.New("crc mismatch")
	}
	return Entry{Seq: binary.BigEndian.Uint64(h[8:16]), Payload: p}, headerLen + int(n), nil
}

// Append adds a record and returns its sequence number. It is durable
// after the next group commit (Sync, run every SyncInterval by Run).
func (s *Spool) Append(payload []byte) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, ErrClosed
	}
	size := int64(headerLen + len(payload))
	if s.opts.MaxBytes > 0 && s.total+size > s.opts.MaxBytes && !s.evictLocked(size) {
		s.refused.Add(1)
		return 0, ErrFull
	}
	if s.cur == nil || s.curBytes+size > s.opts.SegmentBytes {
		if err := s.roll(); err != nil {
			return 0, err
		}
	}
	var h [headerLen]byte
	binary.BigEndian.PutUint32(h[0:4], uint32(len(payload)))
	binary.BigEndian.PutUint32(h[4:8], crc32.Checksum(payload, castagnoli))
	seq := s.next
	binary.BigEndian.PutUint64(h[8:16], seq)
	if _, err := s.curW.Write(h[:]); err != nil {
		return 0, s.rollback(err)
	}
	if _, err := s.curW.Write(payload); err != nil {
		return 0, s.rollback(err)
	}
	s.next++
	s.curBytes += size
	s.total += size
	s.segs[len(s.segs)-1].size += size
	s.dirty = true
	s.appended.Add(1)
	return seq, nil
}

// roll closes the current segment (synced) and starts a new one.
func (s *Spool) roll() error {
	if s.cur != nil {
		if err := s.syncLocked(); err != nil {
			return err
		}
		s.cur.Close()
	}
	path := filepath.Join(s.dir, fmt.Sprintf("%020d.seg", s.next))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("spool segment: %w", err)
	}
	fi, _ := f.Stat()
	s.cur, s.curW, s.curBytes = f, bufio.NewWriterSize(f, 1<<20), fi.Size()
	s.goodSize, s.goodNext = s.curBytes, s.next
	if len(s.segs) == 0 || s.segs[len(s.segs)-1].path != path {
		s.segs = append(s.segs, segment{first: s.next, path: path, size: fi.Size()})
	}
	return syncDir(s.dir)
}

// Sync makes every appended record durable (one fsync for the batch).
func (s *Spool) Sync() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.syncLocked()
}

func (s *Spool) syncLocked() error {
	if s.cur == nil || !s.dirty {
		return nil
	}
	if err := s.flushLocked(); err != nil {
		return err
	}
	if err := s.cur.Sync(); err != nil {
		s.writeErrors.Add(1)
		return fmt.Errorf("%w: fsync: %v", ErrWrite, err)
	}
	s.dirty = false
	s.synced.Add(1)
	s.durable = s.next - 1
	s.durableCond.Broadcast()
	return nil
}

// flushLocked writes the buffered records to the file, or rolls back.
func (s *Spool) flushLocked() error {
	if s.curW == nil {
		return nil
	}
	if err := s.curW.Flush(); err != nil {
		return s.rollback(err)
	}
	s.goodSize, s.goodNext = s.curBytes, s.next
	return nil
}

// rollback undoes a failed write: the file is cut back to its last good
// size (no torn record may stay in the middle of a segment, readers and
// the restart scan stop there), the buffer is emptied, and the records
// since the last good write are counted as lost. Nobody has read them:
// Read flushes first. Their sequence numbers are not handed out again
// (a gap is harmless to readers), so a waiter for one is told it was lost.
func (s *Spool) rollback(cause error) error {
	s.writeErrors.Add(1)
	lost := s.next - s.goodNext
	if err := s.cur.Truncate(s.goodSize); err != nil {
		cause = fmt.Errorf("%v; and cutting back the segment failed: %v", cause, err)
	}
	s.curW.Reset(s.cur)
	s.total -= s.curBytes - s.goodSize
	s.segs[len(s.segs)-1].size -= s.curBytes - s.goodSize
	s.curBytes = s.goodSize
	if lost > 0 {
		s.lostRanges = append(s.lostRanges, [2]uint64{s.goodNext, s.next})
		if len(s.lostRanges) > 64 {
			s.lostRanges = s.lostRanges[1:]
		}
	}
	s.goodNext = s.next
	s.dirty = false
	s.lost.Add(lost)
	s.durableCond.Broadcast()
	return fmt.Errorf("%w: %d records dropped: %v", ErrWrite, lost, cause)
}

// AppendDurable appends records and returns once they are fsync'd:
// accepted is how many of them, from the first, are durable (all of them
// unless err says why not). For callers that tell a sender "accepted".
func (s *Spool) AppendDurable(payloads [][]byte) (accepted int, err error) {
	seqs := make([]uint64, 0, len(payloads))
	for _, p := range payloads {
		seq, aerr := s.Append(p)
		if aerr != nil {
			err = aerr
			break
		}
		seqs = append(seqs, seq)
	}
	if len(seqs) > 0 {
		if werr := s.WaitDurable(seqs[len(seqs)-1]); werr != nil && !errors.Is(werr, ErrWrite) {
			return 0, werr
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, seq := range seqs {
		if s.wasLost(seq) || s.durable < seq {
			return i, ErrWrite
		}
	}
	return len(seqs), err
}

func (s *Spool) wasLost(seq uint64) bool {
	for _, r := range s.lostRanges {
		if seq >= r[0] && seq < r[1] {
			return true
		}
	}
	return false
}

// WaitDurable waits until record seq is fsync'd (nil) or was dropped by a
// failed write (ErrWrite). A program told "accepted" can rely on it.
func (s *Spool) WaitDurable(seq uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		switch {
		case s.wasLost(seq):
			return ErrWrite
		case s.durable >= seq:
			return nil
		case s.closed || seq >= s.next:
			return ErrClosed
		}
		s.durableCond.Wait()
	}
}

// Run group-commits every SyncInterval until ctx ends, then syncs and closes.
func (s *Spool) Run(ctx context.Context) error {
	t := time.NewTicker(s.opts.SyncInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return s.Close()
		case <-t.C:
			// A failed write is rolled back and counted; the spool keeps
			// trying and resumes once the disk has room.
			_ = s.Sync()
		}
	}
}

// Read returns up to max records with seq >= from, oldest first, and
// stops once they hold maxBytes of payload (at least one record is
// returned, whatever its size): a batch is bounded in bytes, not only
// in records (2,000 records of 440 KB were one 880 MB batch).
func (s *Spool) Read(from uint64, max, maxBytes int) ([]Entry, error) {
	s.mu.Lock()
	if s.cur != nil {
		_ = s.flushLocked() // on failure the unwritten records are gone: read what the file holds
	}
	segs := append([]segment(nil), s.segs...)
	cur := s.cursor
	s.mu.Unlock()
	var out []Entry
	size := 0
	full := func() bool { return len(out) >= max || size >= maxBytes }
	for i, sg := range segs {
		if i+1 < len(segs) && segs[i+1].first <= from {
			continue
		}
		f, err := os.Open(sg.path)
		if err != nil {
			return nil, err
		}
		var off int64
		if cur.path == sg.path && cur.seq == from && cur.off <= sg.size {
			if off, err = f.Seek(cur.off, io.SeekStart); err != nil {
				f.Close()
				return nil, err
			}
		}
		r := bufio.NewReaderSize(io.LimitReader(f, sg.size-off), 256<<10)
		for !full() {
			e, n, err := readFrom(r, from)
			if err != nil {
				break
			}
			off += int64(n)
			if e.Payload != nil {
				out = append(out, e)
				size += len(e.Payload)
			}
		}
		f.Close()
		if len(out) > 0 {
			s.mu.Lock()
			s.cursor.seq, s.cursor.path, s.cursor.off = out[len(out)-1].Seq+1, sg.path, off
			s.mu.Unlock()
		}
		if full() {
			break
		}
	}
	return out, nil
}

// readFrom reads one record; one before from is skipped without
// reading its payload into memory (Payload nil).
func readFrom(r *bufio.Reader, from uint64) (Entry, int, error) {
	h, err := r.Peek(headerLen)
	if err != nil {
		return Entry{}, 0, err
	}
	if seq := binary.BigEndian.Uint64(h[8:16]); seq < from {
		n := int(binary.BigEndian.Uint32(h[0:4]))
		if n > 16<<20 {
			return Entry{}, 0, errors.New("corrupt length")
		}
		if _, err := r.Discard(headerLen + n); err != nil {
			return Entry{}, 0, err
		}
		return Entry{Seq: seq}, headerLen + n, nil
	}
	return readRecord(r)
}

// Release says records up to upTo are stored by an active, but on a store
// that a split brain could still set aside (a lone active in pair-only
// mode): they stay, to be sent again to whichever appliance is active
// later, until Trim. When the spool is full they are the first to go
// (counted as evicted) rather than a new record being refused.
func (s *Spool) Release(upTo uint64) {
	s.mu.Lock()
	s.released = max(s.released, upTo)
	s.mu.Unlock()
}

// evictLocked drops whole released segments, oldest first, until size
// more bytes fit; it says whether they do.
func (s *Spool) evictLocked(size int64) bool {
	for len(s.segs) > 1 && s.segs[1].first <= s.released+1 && s.total+size > s.opts.MaxBytes {
		if err := os.Remove(s.segs[0].path); err != nil {
			return false
		}
		s.evicted.Add(s.segs[1].first - s.segs[0].first)
		s.total -= s.segs[0].size
		s.segs = s.segs[1:]
	}
	return s.total+size <= s.opts.MaxBytes
}

// Trim removes whole segments whose records all have seq <= upTo.
func (s *Spool) Trim(upTo uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.segs) > 1 && s.segs[1].first <= upTo+1 {
		if err := os.Remove(s.segs[0].path); err != nil {
			return err
		}
		s.total -= s.segs[0].size
		s.segs = s.segs[1:]
	}
	return nil
}

// Backlog is the size of the segments holding records after acked (what
// the active has not stored yet, to a segment's precision).
func (s *Spool) Backlog(acked uint64) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for i, sg := range s.segs {
		last := s.next - 1
		if i+1 < len(s.segs) {
			last = s.segs[i+1].first - 1
		}
		if last > acked {
			n += sg.size
		}
	}
	return n
}

// Stats reports the counters.
func (s *Spool) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{Appended: s.appended.Load(), Refused: s.refused.Load(), Synced: s.synced.Load(), Bytes: s.total, NextSeq: s.next,
		Lost: s.lost.Load(), WriteErrors: s.writeErrors.Load(), Evicted: s.evicted.Load()}
	if len(s.segs) > 0 {
		st.FirstSeq = s.segs[0].first
	}
	return st
}

// Close syncs and closes the spool.
func (s *Spool) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.durableCond.Broadcast()
	if s.cur == nil {
		return nil
	}
	err := s.syncLocked()
	if cerr := s.cur.Close(); err == nil {
		err = cerr
	}
	return err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
