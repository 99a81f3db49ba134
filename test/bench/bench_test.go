// Package bench measures the appliance end to end with real mamori
// processes on loopback addresses. `make bench` runs it and keeps the
// lines of the form `BENCH <name> <value> <unit>`. Benchmarks fail only on
// a functional error, never because the machine was slow.
package bench

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mamori-ops/mamori/appliance/events"
	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/test/cluster"
)

func report(name string, v float64, unit string) {
	fmt.Printf("BENCH %s %.3f %s\n", name, v, unit)
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func maxOf(xs []float64) float64 {
	m := xs[0]
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}

// BenchmarkFailoverKill: 10 trials of kill -9 of the active at default
// settings, timed from the kill to the first write the other node accepts;
// between trials the killed node is restarted and recovered, so roles alternate.
func BenchmarkFailoverKill(b *testing.B) {
	const trials = 10
	net := cluster.Subnet()
	nodes := [2]*cluster.Node{
		cluster.NewNode(b, "a", net+".1", cluster.Options{}),
		cluster.NewNode(b, "b", net+".2", cluster.Options{}),
	}
	cluster.Pair(b, nodes[0], nodes[1])
	var failovers, recovers []float64
	active := 0
	for trial := range trials {
		act, sby := nodes[active], nodes[1-active]
		for i := range 20 {
			if ok, err := act.Write(fmt.Sprintf("t%d-%d", trial, i)); !ok {
				b.Fatalf("trial %d: write on the active failed: %v", trial, err)
			}
		}
		killed := time.Now()
		act.Kill()
		deadline := killed.Add(60 * time.Second)
		for {
			if ok, _ := sby.Write(fmt.Sprintf("t%d-after-%d", trial, time.Now().UnixNano())); ok {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("trial %d: no failover within 60 s", trial)
			}
			time.Sleep(10 * time.Millisecond)
		}
		failovers = append(failovers, time.Since(killed).Seconds())
		act.Start()
		act.WaitRole(ha.Stale, 60*time.Second)
		start := time.Now()
		if out, err := act.CLI("recover"); err != nil {
			b.Fatalf("trial %d: recover: %v\n%s", trial, err, out)
		}
		recovers = append(recovers, time.Since(start).Seconds())
		act.WaitRole(ha.Standby, 30*time.Second)
		active = 1 - active
	}
	report("failover_kill_s_median", median(failovers), "s")
	report("failover_kill_s_max", maxOf(failovers), "s")
	report("failover_kill_trials", trials, "count")
	report("recover_s", median(recovers), "s")
	report("recover_s_max", maxOf(recovers), "s")
}

// BenchmarkStoreReplicatedRows: batches of 500 events from 4 writers for
// 8 s on the active, timed until the standby holds identical data.
func BenchmarkStoreReplicatedRows(b *testing.B) {
	const batch, writers, run = 500, 4, 8 * time.Second
	net := cluster.Subnet()
	a := cluster.NewNode(b, "a", net+".1", cluster.Options{})
	s := cluster.NewNode(b, "b", net+".2", cluster.Options{})
	cluster.Pair(b, a, s)
	a.CreateAdmin("bench", "correct horse battery staple")
	tok := a.Login("bench", "correct horse battery staple")
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	var stored atomic.Int64
	var seq atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	stop := start.Add(run)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				evs := make([]events.Event, batch)
				for i := range evs {
					evs[i] = events.Event{UID: fmt.Sprintf("w%d-%d", w, seq.Add(1)), Kind: "bench.rows", Message: "replicated row payload of a typical event message"}
				}
				body, _ := json.Marshal(evs)
				req, _ := http.NewRequest(http.MethodPost, "https://"+a.API+"/api/v1/events", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+tok)
				resp, err := client.Do(req)
				if err != nil {
					continue
				}
				var out struct {
					Stored int64 `json:"stored"`
				}
				_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&out)
				resp.Body.Close()
				stored.Add(out.Stored)
			}
		}()
	}
	wg.Wait()
	if stored.Load() == 0 {
		b.Fatal("no row stored")
	}
	for {
		sa, err1 := a.Checksums()
		sb, err2 := s.Checksums()
		if err1 == nil && err2 == nil && fmt.Sprint(sa) == fmt.Sprint(sb) {
			break
		}
		if time.Since(start) > 5*time.Minute {
			b.Fatalf("standby not identical 5 min after start: %v vs %v", sa, sb)
		}
		time.Sleep(50 * time.Millisecond)
	}
	elapsed := time.Since(start).Seconds()
	report("store_replicated_rows_per_s", float64(stored.Load())/elapsed, "rows/s")
	report("store_replicated_batch_size", batch, "rows")
}
