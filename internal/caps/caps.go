// Package caps keeps the service's capabilities to what its configuration
// needs. The packaged unit grants CAP_NET_ADMIN (besides CAP_NET_RAW and
// CAP_NET_BIND_SERVICE) as an ambient capability because a service
// address needs it; a service without one drops it at start.
//
// Capabilities belong to threads, and a cgo binary cannot change those of
// every thread (the runtime's AllThreadsSyscall refuses with cgo). So the
// capability is lowered on one locked thread, which then execs the same
// binary: the new process is built from that thread's credentials alone,
// and a non-root process gets at exec exactly its ambient set.
package caps

import (
	"fmt"
	"os"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// marker is set in the environment of the re-executed process, so a drop
// that did not take never loops.
const marker = "MAMORI_CAPS_TRIMMED"

// NetAdmin is CAP_NET_ADMIN.
const NetAdmin = unix.CAP_NET_ADMIN

// State is what the decision needs to know about this process.
type State struct {
	UID int
	// Ambient: CAP_NET_ADMIN is in the ambient set.
	Ambient bool
	// Reexecuted: this process is the result of an earlier drop.
	Reexecuted bool
}

// Action is what to do about CAP_NET_ADMIN at start.
type Action int

// Actions.
const (
	Keep  Action = iota // needed, or not ours to change
	Drop                // lower it and exec again
	Stuck               // dropped once and still held: warn, go on
)

// Decide says what to do with CAP_NET_ADMIN when the configuration needs
// it (need) or not. Root is left alone: it holds every capability through
// its uid, not through the ambient set, and gets them back at any exec.
func Decide(need bool, s State) Action {
	switch {
	case need || s.UID == 0 || !s.Ambient:
		return Keep
	case s.Reexecuted:
		return Stuck
	default:
		return Drop
	}
}

// Current reads the State of this process.
func Current() State {
	set, err := unix.PrctlRetInt(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_IS_SET, NetAdmin, 0, 0)
	return State{UID: os.Getuid(), Ambient: err == nil && set == 1, Reexecuted: os.Getenv(marker) != ""}
}

// Effective reports whether this thread holds capability c in its
// effective set.
func Effective(c int) (bool, error) {
	var hdr = unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return false, fmt.Errorf("capget: %w", err)
	}
	return data[c/32].Effective&(1<<(uint(c)%32)) != 0, nil
}

// DropAndExec lowers CAP_NET_ADMIN from the ambient, inheritable,
// permitted and effective sets of the calling thread and execs this
// binary again with the same arguments; it returns only on failure.
func DropAndExec() error {
	// The thread is never unlocked: it is replaced by the exec, or, on
	// failure, dies with its goroutine's lock rather than serve others
	// with credentials unlike the rest of the process.
	runtime.LockOSThread()
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_LOWER, NetAdmin, 0, 0); err != nil {
		return fmt.Errorf("lower CAP_NET_ADMIN from the ambient set: %w", err)
	}
	var hdr = unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capget: %w", err)
	}
	bit := uint32(1) << (NetAdmin % 32)
	d := &data[NetAdmin/32]
	d.Inheritable &^= bit
	d.Permitted &^= bit
	d.Effective &^= bit
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capset: %w", err)
	}
	env := append(os.Environ(), marker+"=1")
	if err := syscall.Exec("/proc/self/exe", os.Args, env); err != nil {
		return fmt.Errorf("exec /proc/self/exe: %w", err)
	}
	return nil
}
