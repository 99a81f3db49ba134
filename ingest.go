package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mamori-ops/mamori/appliance/auth"
	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/appliance/secrets"
	"github.com/mamori-ops/mamori/appliance/store"
	"github.com/mamori-ops/mamori/ingest/mib"
	"github.com/mamori-ops/mamori/ingest/pipeline"
	"github.com/mamori-ops/mamori/ingest/pressure"
	"github.com/mamori-ops/mamori/ingest/spool"
	"github.com/mamori-ops/mamori/ingest/syslog"
	"github.com/mamori-ops/mamori/ingest/trap"
	"github.com/mamori-ops/mamori/internal/config"
	"github.com/mamori-ops/mamori/internal/fileutil"
	"github.com/mamori-ops/mamori/internal/gcpace"
	"github.com/mamori-ops/mamori/internal/ratelimit"
)

// ingest is the receive path: receivers → spool → forwarder → the
// active's ingestor. It runs on both appliances.
type ingest struct {
	spool     *spool.Spool
	receiver  *syslog.Receiver
	traps     *trap.Receiver
	ingestor  *pipeline.Ingestor
	forwarder *pipeline.Forwarder
	retention *pipeline.Retention
	pressure  *pressure.Gauge
	budget    int64
	users     []config.SNMPUser
	log       *slog.Logger
}

// auditChain is the audit log as the ingestor uses it.
type auditChain interface {
	AppendWith(ctx context.Context, es []auth.Entry, exec func([]store.Statement) error) error
	PrepareMerge(ctx context.Context, ms []auth.Merged) ([]auth.Entry, []store.Statement, error)
}

func newIngest(cfg config.Config, st *store.Store, clientTLS, serverTLS *tls.Config, ctl *ha.Controller,
	audit auditChain, log *slog.Logger) (*ingest, error) {
	loc := time.Local
	if tz := cfg.Ingest.Syslog.TimeZone; tz != "" {
		loc, _ = time.LoadLocation(tz) // validated at load
	}
	sp, err := spool.Open(filepath.Join(cfg.DataDir, "spool", "ingest"), spool.Options{MaxBytes: cfg.Ingest.SpoolMaxBytes})
	if err != nil {
		return nil, fmt.Errorf("ingest spool: %w", err)
	}
	sy, budget := cfg.Ingest.Syslog, cfg.Ingest.MemoryBudget
	// One fair share per sender address, shared by every receiver.
	fair := ratelimit.New(float64(cfg.Ingest.FairSharePerSource), int(cfg.Ingest.FairSharePerSource))
	gauge := &pressure.Gauge{BacklogHigh: cfg.Ingest.SpoolMaxBytes / 8, Memory: gcpace.Held, MemoryHigh: uint64(budget / 5 * 3)}
	rcv := &syslog.Receiver{UDP: sy.UDP, TCP: sy.TCP, TLS: sy.TLS, TLSConfig: serverTLS, Log: log.With("component", "syslog"),
		MaxConns: sy.MaxConnections, MaxConnsPerSource: sy.MaxConnectionsPerSource, IdleTimeout: sy.IdleTimeout,
		IdleWhenFull: sy.IdleTimeoutWhenFull, HandshakeTimeout: sy.HandshakeTimeout, UDPLimit: rateLimit(sy.UDPRateLimit),
		Fair: fair, Pressed: gauge.On,
		Sink: func(r syslog.Record) error { _, err := sp.Append(r.Encode()); return err }}
	sn := cfg.Ingest.SNMP
	boots, err := nextEngineBoots(filepath.Join(cfg.DataDir, "snmp-engine-boots"))
	if err != nil {
		return nil, err
	}
	traps := &trap.Receiver{Addr: sn.UDP, Communities: sn.Communities, EngineID: sn.EngineID, EngineBoots: boots, Hold: make(chan struct{}), Log: log.With("component", "snmptrap"),
		QueueBytes: int(budget / 32), Limit: rateLimit(sn.RateLimit), Fair: fair, Pressed: gauge.On,
		Sink: func(t trap.Trap) error { _, err := sp.Append(t.Encode()); return err }}
	var names func(string) string
	if sn.UDP != "" {
		names = mib.Load(sn.MIBDirs).Name
	}
	ingr := pipeline.NewIngestor(st, syslog.NewParser(loc, syslog.Charset(sy.Charset)), pipeline.Options{KeepUnmatched: cfg.Ingest.KeepUnmatched, Names: names,
		DedupWindow: cfg.Ingest.DedupWindow, DedupMaxEntries: int(budget / 8 / pipeline.EntryBytes),
		MaxBatchBytes: 2 * batchBytes(budget), Audit: audit.AppendWith, MergeAudit: audit.PrepareMerge, SplitSafe: ctl.SplitSafe})
	fw := &pipeline.Forwarder{Spool: sp, Origin: cfg.Node.ID + "/" + sp.ID(), Ingestor: ingr, TLS: clientTLS, Log: log.With("component", "forwarder"),
		BatchBytes: batchBytes(budget),
		Target: func() pipeline.Target {
			local, peer, id := ctl.ActiveTarget()
			return pipeline.Target{Local: local, Peer: peer, SNI: id}
		}}
	gauge.Backlog = func() int64 { return sp.Backlog(fw.Acked()) }
	gauge.Queue, gauge.QueueHigh = traps.Queued, int64(traps.QueueBytes)/4
	rt := cfg.Retention
	ret := &pipeline.Retention{Store: st, Batch: rt.BatchRows, Interval: rt.Interval, Log: log.With("component", "retention"),
		Messages: pipeline.Limit{MaxAge: rt.Messages.MaxAge, MaxBytes: rt.Messages.MaxBytes}, Events: pipeline.Limit{MaxAge: rt.Events.MaxAge, MaxBytes: rt.Events.MaxBytes}}
	return &ingest{spool: sp, receiver: rcv, traps: traps, ingestor: ingr, forwarder: fw, retention: ret, pressure: gauge, budget: budget, users: sn.Users, log: log}, nil
}

// batchBytes is the payload of one forward batch (256 KiB at 2 GiB). A
// batch is one Raft entry of about twice its payload; rqlite keeps the
// latest 512 entries in memory (1/8 of the budget) and about 1,600 in its
// log file, whose pages the process maps (counted in its RSS: 3/8).
func batchBytes(budget int64) int { return int(min(max(budget/8192, 64<<10), 1<<20)) }

// rateLimit is a per-sender limiter, or nil (no limit).
func rateLimit(r config.RateLimit) *ratelimit.PerSource { return ratelimit.New(r.PerSource, r.Burst) }

// nextEngineBoots counts this appliance's starts for SNMPv3 (RFC 3414
// snmpEngineBoots), durably, before the trap receiver answers anyone.
func nextEngineBoots(path string) (uint32, error) {
	var n uint32
	if b, err := os.ReadFile(path); err == nil {
		v, _ := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 31)
		n = uint32(v)
	}
	n++
	if err := fileutil.WriteAtomic(path, []byte(strconv.FormatUint(uint64(n), 10)+"\n"), 0o600); err != nil {
		return 0, fmt.Errorf("snmp engine boots: %w", err)
	}
	return n, nil
}

// AppendDurable puts records into the local spool and returns once they
// are on disk (custom events from the API: 202 means spooled for good).
func (in *ingest) AppendDurable(bs [][]byte) (int, error) { return in.spool.AppendDurable(bs) }

// usmLoop opens the USM users' keys (named credentials, replicated to both
// appliances) now and every 2 s, so a key changed through the API
// reaches both trap receivers without a restart.
//
// The trap receiver holds its packets (in the kernel's buffer) until
// every configured user's keys could be read, or usmSettle has passed, so
// a v3 trap arriving in the first seconds after a start is not dropped
// for want of its user's keys: a standby that just started reads its
// replica before it has caught up with the credentials (found by the
// rolling-upgrade test: a trap sent while the other appliance restarted
// was dropped here). While a user is missing the store is read again
// every 200 ms; a user whose credential disappears keeps its last keys
// for usmSettle (a store being re-formed answers "no such credential"
// for a moment), then is left out.
func (in *ingest) usmLoop(ctx context.Context, st *store.Store, box *secrets.Box) error {
	release := sync.OnceFunc(func() { close(in.traps.Hold) })
	defer release()
	if len(in.users) == 0 {
		return nil
	}
	const usmSettle = 10 * time.Second
	started := time.Now()
	warned := map[string]string{}
	good := map[string]trap.User{} // last keys read, by user name + engine
	missingSince := map[string]time.Time{}
	var last []trap.User
	for {
		storeDown, missing := false, false
		var users []trap.User
		for _, u := range in.users {
			tu := trap.User{Name: u.Name, Level: u.Level, AuthProtocol: u.AuthProtocol, PrivProtocol: u.PrivProtocol, EngineID: u.EngineID}
			key := u.Name + "\x00" + u.EngineID + "\x00" + u.AuthCredential + "\x00" + u.PrivCredential
			var err error
			if u.AuthCredential != "" {
				tu.AuthKey, err = secrets.Reveal(ctx, st, box, u.AuthCredential)
			}
			if err == nil && u.PrivCredential != "" {
				tu.PrivKey, err = secrets.Reveal(ctx, st, box, u.PrivCredential)
			}
			if err != nil && !errors.Is(err, secrets.ErrInvalid) {
				storeDown = true // not open yet: try again soon
				break
			}
			if err != nil {
				missing = true
				if _, ok := missingSince[key]; !ok {
					missingSince[key] = time.Now()
				}
				if prev, ok := good[key]; ok && time.Since(missingSince[key]) < usmSettle {
					users = append(users, prev) // gone for a moment: keep the last keys
					continue
				}
				delete(good, key)
				if warned[u.Name] != err.Error() && time.Since(started) >= usmSettle {
					in.log.Warn("SNMP USM user left out until its credentials exist", "user", u.Name, "err", err)
					warned[u.Name] = err.Error()
				}
				continue
			}
			delete(warned, u.Name)
			delete(missingSince, key)
			good[key] = tu
			users = append(users, tu)
		}
		wait := 2 * time.Second
		switch {
		case storeDown:
			wait = 100 * time.Millisecond
		default:
			if !slices.Equal(users, last) {
				if err := in.traps.SetUsers(users); err != nil {
					in.log.Error("SNMP USM users", "err", err)
				}
				last = users
			}
			if !missing || time.Since(started) >= usmSettle {
				release()
			}
			if missing && time.Since(started) < time.Minute {
				wait = 200 * time.Millisecond // the replica may still be catching up
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

func (in *ingest) registerMetrics(reg prometheus.Registerer) {
	counter := func(name, help string, f func() uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "mamori", Name: name, Help: help}, func() float64 { return float64(f()) })
	}
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "mamori", Name: name, Help: help}, f)
	}
	c, tc, ic := &in.receiver.Counters, &in.traps.Counters, &in.ingestor.Counters
	reg.MustRegister(
		counter("syslog_received_total", "Syslog messages received on this appliance.", c.Received.Load),
		counter("syslog_truncated_total", "Syslog messages longer than 64 KiB, truncated.", c.Truncated.Load),
		counter("syslog_spool_errors_total", "Received messages the spool refused (full or failing).", c.SinkErrors.Load),
		counter("syslog_connections_total", "TCP and TLS syslog connections accepted.", c.Conns.Load),
		counter("syslog_idle_closed_total", "TCP and TLS syslog connections closed after the idle timeout.", c.IdleClosed.Load),
		counter("snmptrap_packets_total", "UDP packets received on the trap port.", tc.Received.Load),
		counter("snmptrap_received_total", "Authentic notifications spooled.", tc.Accepted.Load),
		counter("snmptrap_informs_answered_total", "Informs answered.", tc.Informs.Load),
		counter("snmptrap_inform_retransmits_total", "Informs received again from the same sender port (answered again, stored once).", tc.Retransmits.Load),
		counter("snmptrap_engine_reports_total", "v3 engine-discovery requests answered.", tc.Reports.Load),
		counter("snmptrap_spool_errors_total", "Notifications the spool refused (full or failing).", tc.SinkErrors.Load),
		counter("spool_refused_total", "Records refused because the spool was full.", func() uint64 { return in.spool.Stats().Refused }),
		gauge("spool_bytes", "Bytes held in the local spool.", func() float64 { return float64(in.spool.Stats().Bytes) }),
		counter("spooled_total", "Records appended to the local spool.", func() uint64 { return in.spool.Stats().Appended }),
		counter("spool_write_errors_total", "Writes the disk refused (full or failing); the spool retries by itself.", func() uint64 { return in.spool.Stats().WriteErrors }),
		counter("forwarded_total", "Spool records acknowledged by the active.", in.forwarder.Forwarded),
		counter("forward_failures_total", "Batches that could not be delivered (retried).", in.forwarder.Failures),
		gauge("forward_lag_records", "Spool records not yet acknowledged by the active.", func() float64 {
			return float64(in.spool.Stats().NextSeq - 1 - min(in.forwarder.Acked(), in.spool.Stats().NextSeq-1))
		}),
		counter("ingest_duplicates_total", "Second copies of a message (received by both appliances), not stored again.", ic.Duplicates.Load),
		counter("ingest_events_total", "Events raised by monitor rules.", ic.Events.Load),
		counter("ingest_parse_errors_total", "Syslog messages that did not parse (kept raw).", ic.ParseErrors.Load),
		counter("ingest_bad_records_total", "Spool records that could not be decoded.", ic.BadRecords.Load),
		counter("ingest_partial_batches_total", "Batches larger than the budget allows, stored in part (the sender resends the rest).", ic.PartialBatches.Load),
		counter("ingest_dedup_evicted_total", "Messages the dedup memory bound forgot before their second copy came (a late copy is stored twice).", ic.DedupEvicted.Load),
		gauge("syslog_connections_open", "TCP and TLS syslog connections holding a slot.", func() float64 { return float64(in.receiver.OpenConns()) }),
		gauge("ingest_pressure", "1 while the receive path is under pressure (senders held to their fair share).", func() float64 {
			if in.pressure.On() {
				return 1
			}
			return 0
		}),
		counter("ingest_pressure_engaged_total", "Times the receive path came under pressure.", in.pressure.Engaged),
		counter("syslog_paced_total", "Reads of a TCP/TLS syslog connection slowed to its sender's fair share under pressure.", c.Paced.Load),
		gauge("ingest_memory_budget_bytes", "The receive path's memory budget (ingest.memory_budget).", func() float64 { return float64(in.budget) }),
	)
	deleted := prometheus.NewDesc("mamori_retention_deleted_total", "Rows deleted by retention on this appliance while active, by table.", []string{"table"}, nil)
	reg.MustRegister(collectorFunc{descs: []*prometheus.Desc{deleted}, collect: func(ch chan<- prometheus.Metric) {
		for i, t := range pipeline.RetainedTables() {
			ch <- prometheus.MustNewConstMetric(deleted, prometheus.CounterValue, float64(in.retention.Deleted(i)), t)
		}
	}})
	dropped := prometheus.NewDesc("mamori_ingest_dropped_total", "Messages not stored, by reason.", []string{"reason"}, nil)
	stored := prometheus.NewDesc("mamori_ingest_stored_total", "Messages stored on this appliance while active, by kind.", []string{"kind"}, nil)
	reg.MustRegister(collectorFunc{descs: []*prometheus.Desc{dropped, stored}, collect: func(ch chan<- prometheus.Metric) {
		for reason, n := range in.dropped() {
			ch <- prometheus.MustNewConstMetric(dropped, prometheus.CounterValue, float64(n), reason)
		}
		for i, k := range pipeline.Kinds {
			ch <- prometheus.MustNewConstMetric(stored, prometheus.CounterValue, float64(ic.Stored[i].Load()), k)
		}
	}})
}

// dropped counts what the receive path refused or cut, by reason. The
// syslog_conn_* and syslog_tls_handshake reasons count connections,
// the truncated ones messages kept shortened; the rest count messages.
func (in *ingest) dropped() map[string]uint64 {
	c, tc, ic, sp := &in.receiver.Counters, &in.traps.Counters, &in.ingestor.Counters, in.spool.Stats()
	return map[string]uint64{"rule": ic.RuleDrops.Load(), "unmatched": ic.Unmatched.Load(), "malformed_trap": tc.Malformed.Load(),
		"bad_community": tc.BadCommunity.Load(), "v3_auth": tc.AuthFailed.Load(), "v3_time_window": tc.TimeWindow.Load(),
		"spool_full": sp.Refused, "spool_write_failed": sp.Lost, "syslog_truncated": c.Truncated.Load(),
		"syslog_conn_limit": c.ConnsRefused.Load(), "syslog_conn_per_source": c.SourceRefused.Load(), "syslog_conn_evicted": c.Evicted.Load(),
		"syslog_tls_handshake": c.HandshakeFailed.Load(), "udp_buffer_syslog": in.receiver.UDPDropped(), "udp_buffer_trap": in.traps.UDPDropped(),
		"udp_rate_syslog": c.RateLimited.Load(), "udp_rate_trap": tc.RateLimited.Load(), "trap_queue_full": tc.QueueFull.Load(),
		"trap_truncated": tc.Truncated.Load(), "v3_report_limited": tc.ReportsLimited.Load(),
		"udp_fair_share_syslog": c.FairShare.Load(), "trap_fair_share": tc.FairShare.Load()}
}

// collectorFunc is a prometheus.Collector made of functions.
type collectorFunc struct {
	descs   []*prometheus.Desc
	collect func(chan<- prometheus.Metric)
}

func (c collectorFunc) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c collectorFunc) Collect(ch chan<- prometheus.Metric) { c.collect(ch) }
