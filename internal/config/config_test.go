package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDefaultsValidate(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestLoad(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, field string // field "" means the file is valid
	}{
		{"empty file", "", ""},
		{"full witness mode", "ha:\n  mode: witness\n  witness: 10.0.0.3:9443\n  detection_time: 5s\n", ""},
		{"unknown key", "node:\n  idd: x\n", "node.idd"},
		{"bad duration", "ha:\n  detection_time: soon\n", "ha.detection_time"},
		{"port out of range", "cluster:\n  port: 70000\n", "cluster.port"},
		{"port zero", "cluster:\n  port: 0\n", "cluster.port"},
		{"bad node address", "node:\n  address: example\n", "node.address"},
		{"bad listen", "api:\n  listen: nowhere\n", "api.listen"},
		{"bad advertise", "api:\n  advertise: [\"10.0.0.1\"]\n", "api.advertise[0]"},
		{"detection shorter than two heartbeats", "ha:\n  heartbeat_interval: 1s\n  detection_time: 1500ms\n", "ha.detection_time"},
		{"lease above heartbeat", "store:\n  leader_lease: 1s\n", "store.leader_lease"},
		{"unknown mode", "ha:\n  mode: cluster\n", "ha.mode"},
		{"witness mode without witness", "ha:\n  mode: witness\n", "ha.witness"},
		{"bad witness address", "ha:\n  witness_addresses: [\"gateway\"]\n", "ha.witness_addresses[0]"},
		{"bad log level", "log:\n  level: loud\n", "log.level"},
		{"batch too large", "store:\n  batch_max: 100000\n", "store.batch_max"},
		{"budget too small", "ingest:\n  memory_budget: 1000000\n", "ingest.memory_budget"},
		{"connections beyond the budget", "ingest:\n  memory_budget: 536870912\n  syslog:\n    max_connections: 5000\n", "ingest.syslog.max_connections"},
		{"connections within the budget", "ingest:\n  memory_budget: 536870912\n  syslog:\n    max_connections: 1000\n", ""},
		{"no connection per source", "ingest:\n  syslog:\n    max_connections_per_source: 0\n", "ingest.syslog.max_connections_per_source"},
		{"handshake beyond idle", "ingest:\n  syslog:\n    idle_timeout: 5s\n    idle_timeout_when_full: 1s\n    handshake_timeout: 10s\n", "ingest.syslog.handshake_timeout"},
		{"negative rate", "ingest:\n  snmp:\n    rate_limit:\n      per_source: -1\n", "ingest.snmp.rate_limit"},
		{"udp rate limit", "ingest:\n  syslog:\n    udp_rate_limit:\n      per_source: 500\n      burst: 1000\n", ""},
		{"retention age too short", "retention:\n  messages:\n    max_age: 10s\n", "retention.messages.max_age"},
		{"retention size too small", "retention:\n  events:\n    max_bytes: 1000\n", "retention.events.max_bytes"},
		{"retention off", "retention:\n  messages:\n    max_age: 0s\n    max_bytes: 0\n", ""},
		{"retention batch", "retention:\n  batch_rows: 5\n", "retention.batch_rows"},
		{"metrics retention", "retention:\n  metrics:\n    raw: 1m\n", "retention.metrics.raw"},
		{"metrics flush", "metrics:\n  flush: 1h\n", "metrics.flush"},
		{"retention interval", "retention:\n  interval: 0s\n", "retention.interval"},
		{"api timeouts and limits", "api:\n  read_timeout: 30s\n  idle_timeout: 5s\n  max_connections: 100\n  max_connections_per_source: 10\n", ""},
		{"read timeout zero", "api:\n  read_timeout: 0s\n", "api.read_timeout"},
		{"per-source cap above the total", "api:\n  max_connections: 10\n  max_connections_per_source: 20\n", "api.max_connections_per_source"},
		{"source failures zero", "auth:\n  source_failures: 0\n", "auth.source_failures"},
		{"service address", "ha:\n  service_address:\n    address: 10.0.0.10/24\n    interface: eth0\n", ""},
		{"service address without prefix", "ha:\n  service_address:\n    address: 10.0.0.10\n    interface: eth0\n", "ha.service_address.address"},
		{"service address ipv6", "ha:\n  service_address:\n    address: fd00::10/64\n    interface: eth0\n", "ha.service_address.address"},
		{"service address without interface", "ha:\n  service_address:\n    address: 10.0.0.10/24\n", "ha.service_address.interface"},
		{"service interface without address", "ha:\n  service_address:\n    interface: eth0\n", "ha.service_address.address"},
		{"service address multicast", "ha:\n  service_address:\n    address: 224.0.0.1/24\n    interface: eth0\n", "ha.service_address.address"},
		{"refused audit window too short", "auth:\n  refused_audit_window: 10ms\n", "auth.refused_audit_window"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "mamori.yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := Load(path)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("valid file rejected: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("error %v: want ErrInvalid naming %s", err, tc.field)
			}
			_ = cfg
		})
	}
}

func TestLoadAppliesDefaultsUnderFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mamori.yaml")
	if err := os.WriteFile(path, []byte("ha:\n  auto_recover: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.HA.AutoRecover || cfg.HA.DetectionTime != 3*time.Second || cfg.Cluster.Port != 7443 {
		t.Fatalf("got %+v", cfg.HA)
	}
	if got := cfg.APIAddrs(); len(got) != 1 || got[0] != "127.0.0.1:8443" {
		t.Fatalf("APIAddrs = %v", got)
	}
}

// The documented configuration is the defaults: a value changed in one
// place and not the other is caught here.
func TestPackagedConfigIsTheDefaults(t *testing.T) {
	cfg, err := Load(filepath.Join("..", "..", "packaging", "mamori.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	cfg.Node.ID = want.Node.ID // the host name, commented out in the file
	if got, want := fmt.Sprintf("%+v", cfg), fmt.Sprintf("%+v", want); got != want {
		t.Fatalf("packaging/mamori.yaml differs from the defaults:\n got %s\nwant %s", got, want)
	}
}
