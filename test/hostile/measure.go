package hostile

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mamori-ops/mamori/test/cluster"
)

// Mem is a process's memory as /proc/<pid>/status shows it, in bytes.
type Mem struct {
	RSS, HWM   int64 // resident now, and at its peak (VmRSS, VmHWM)
	Anon, File int64 // of RSS: anonymous memory, and mapped files (page cache, reclaimable)
}

// Memory reads a process's memory.
func Memory(pid int) (Mem, error) {
	var m Mem
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return m, err
	}
	defer f.Close()
	fields := map[string]*int64{"VmRSS": &m.RSS, "VmHWM": &m.HWM, "RssAnon": &m.Anon, "RssFile": &m.File}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		if p, ok := fields[k]; ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			*p = kb << 10
		}
	}
	return m, sc.Err()
}

// Monitor samples a node's RSS every 100 ms. Past a safety cap it kills
// the node (so a test of old code cannot take the machine down with it)
// and says so.
type Monitor struct {
	n    *cluster.Node
	cap  int64
	stop chan struct{}
	done chan struct{}

	mu       sync.Mutex
	peak     int64
	peakAnon int64
	killed   bool
}

// Watch starts sampling n (running) with a safety cap in bytes.
func Watch(n *cluster.Node, capBytes int64) *Monitor {
	m := &Monitor{n: n, cap: capBytes, stop: make(chan struct{}), done: make(chan struct{})}
	go m.loop()
	return m
}

func (m *Monitor) loop() {
	defer close(m.done)
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		mem, err := Memory(m.n.PID())
		if err == nil {
			m.mu.Lock()
			m.peak, m.peakAnon = max(m.peak, mem.RSS), max(m.peakAnon, mem.Anon)
			over := mem.RSS > m.cap && !m.killed
			m.killed = m.killed || over
			m.mu.Unlock()
			if over {
				m.n.Kill()
			}
		}
		select {
		case <-m.stop:
			return
		case <-t.C:
		}
	}
}

// Peak is the highest RSS sampled (and the kernel's VmHWM, while the
// process lives) in bytes; killed says whether the cap was passed.
func (m *Monitor) Peak() (peak int64, killed bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if mem, err := Memory(m.n.PID()); err == nil {
		m.peak = max(m.peak, mem.HWM)
	}
	return m.peak, m.killed
}

// PeakAnon is the highest anonymous RSS sampled (without mapped files).
func (m *Monitor) PeakAnon() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.peakAnon
}

// Stop ends the sampling.
func (m *Monitor) Stop() { close(m.stop); <-m.done }

// DirBytes is the disk space the files under dir take (allocated blocks).
func DirBytes(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if fi, err := d.Info(); err == nil {
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				n += st.Blocks * 512
			}
		}
		return nil
	})
	return n
}

// Metric reads one sample of a node's /metrics (0 when absent).
func Metric(n *cluster.Node, name string) float64 {
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` ([0-9.e+]+)$`)
	s := re.FindStringSubmatch(n.Metrics())
	if s == nil {
		return 0
	}
	v, _ := strconv.ParseFloat(s[1], 64)
	return v
}

// Dropped reads mamori_ingest_dropped_total{reason=...}.
func Dropped(n *cluster.Node, reason string) float64 {
	return Metric(n, `mamori_ingest_dropped_total{reason="`+reason+`"}`)
}

// MiB formats bytes as MiB.
func MiB(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }
