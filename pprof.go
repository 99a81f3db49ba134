package main

import (
	"net/http"
	"net/http/pprof"
	"os"
)

// startProfiler serves Go's profiles on MAMORI_PPROF (a loopback
// host:port) when that is set: a tuning aid, off by default.
func startProfiler() {
	addr := os.Getenv("MAMORI_PPROF")
	if addr == "" {
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	go func() { _ = http.ListenAndServe(addr, mux) }()
}
