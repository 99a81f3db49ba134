package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/mamori-ops/mamori/api"
	"github.com/mamori-ops/mamori/internal/config"
	"github.com/mamori-ops/mamori/internal/doctor"
)

// errDoctorFailed: at least one check failed (exit 1).
var errDoctorFailed = errors.New("doctor found problems")

// doctorCmd checks this installation (internal/doctor) and prints one
// line per finding with what to do; it fails when any finding is FAIL.
func doctorCmd(ctx context.Context, args []string) error {
	var asJSON *bool
	cfg, fs, err := loadConfig("doctor", args, func(fs *flag.FlagSet) {
		asJSON = fs.Bool("json", false, "print JSON ({healthy, results: [{level, check, finding, action}]})")
	})
	if err != nil {
		return err
	}
	rep := diagnose(ctx, cfg, serviceAddress(fs.Lookup("config").Value.String()))
	if *asJSON {
		b, _ := json.MarshalIndent(struct {
			Healthy bool          `json:"healthy"`
			Results doctor.Report `json:"results"`
		}{!rep.Failed(), rep}, "", "  ")
		fmt.Println(string(b))
	} else if err := rep.Write(os.Stdout); err != nil {
		return err
	}
	if rep.Failed() {
		return fmt.Errorf("%w: %d FAIL; each FAIL line says what to do", errDoctorFailed, rep.Count(doctor.Fail))
	}
	return nil
}

func diagnose(ctx context.Context, cfg config.Config, sa doctor.ServiceAddress) doctor.Report {
	pid, err := doctor.Running("/proc", cfg.DataDir)
	var rep doctor.Report
	switch {
	case errors.Is(err, os.ErrPermission):
		rep = append(rep, doctor.Result{Level: doctor.Warn, Check: "mamori", Finding: "cannot read the data directory " + cfg.DataDir + " (permission denied)", Action: asServiceUser()})
	case err != nil:
		rep = append(rep, doctor.Result{Level: doctor.Warn, Check: "mamori", Finding: fmt.Sprintf("cannot tell whether mamori runs: %v", err), Action: "check data_dir"})
	case pid == 0:
		rep = append(rep, doctor.Result{Level: doctor.Warn, Check: "mamori", Finding: "mamori is not running (data directory " + cfg.DataDir + " is not locked)", Action: "systemctl start mamori"})
	default:
		rep = append(rep, doctor.Result{Level: doctor.OK, Check: "mamori", Finding: fmt.Sprintf("mamori runs (pid %d, data directory %s)", pid, cfg.DataDir)})
	}
	rep = append(rep, doctor.Offline(cfg, "/proc", pid, sa.Address != "", time.Now())...)
	if pid == 0 {
		return rep
	}
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	var st api.ClusterStatus
	if err := callLocal(cctx, cfg, http.MethodGet, "/api/v1/cluster", nil, &st, 10*time.Second); err != nil {
		return append(rep, doctor.Result{Level: doctor.Fail, Check: "api", Finding: fmt.Sprintf("mamori runs (pid %d) but its API does not answer: %v", pid, err),
			Action: "see its log (journalctl -u mamori); check api.listen and node.address"})
	}
	in := doctor.ClusterInput{Status: st.Status, Ingest: st.Ingest, Service: sa}
	if sa.Address != "" {
		if held, err := doctor.InterfaceHolds(sa.Interface, sa.Address); err == nil {
			in.Held = &held
		}
	}
	return append(rep, doctor.Cluster(in)...)
}

// serviceAddress reads ha.service_address from the configuration file
// as YAML, so the doctor judges the service address whichever release
// of the configuration tree it runs with.
func serviceAddress(path string) doctor.ServiceAddress {
	var f struct {
		HA struct {
			ServiceAddress doctor.ServiceAddress `yaml:"service_address"`
		} `yaml:"ha"`
	}
	if path == "" {
		return doctor.ServiceAddress{}
	}
	b, err := os.ReadFile(path)
	if err != nil || yaml.Unmarshal(b, &f) != nil {
		return doctor.ServiceAddress{}
	}
	return f.HA.ServiceAddress
}
