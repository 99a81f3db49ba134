package store

import (
	"errors"
	"fmt"
	"time"

	command "github.com/rqlite/rqlite/v8/command/proto"
)

// TransferLeadership hands the store's leadership to the voter toID (a
// planned switchover). On the leader it transfers directly; on a follower
// it asks the leader through the cluster port, which older builds of the
// pair answer too (rqlite's stepdown command), so a switchover works across
// a rolling upgrade. It returns once toID leads or the transfer failed.
func (s *Store) TransferLeadership(toID string, timeout time.Duration) error {
	rs, err := s.current()
	if err != nil {
		return err
	}
	if rs.IsLeader() {
		if err := rs.Stepdown(true, toID); err != nil {
			return fmt.Errorf("transfer the store's leadership to %s: %w", toID, err)
		}
	} else {
		addr, lid := rs.LeaderWithID()
		if addr == "" {
			return errors.New("the store has no leader to hand over from")
		}
		if lid == toID {
			return nil
		}
		if err := s.client.Stepdown(&command.StepdownRequest{Id: toID, Wait: true}, addr, nil, timeout); err != nil {
			return fmt.Errorf("ask %s to hand the store's leadership to %s: %w", lid, toID, err)
		}
	}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if _, id := rs.LeaderWithID(); id == toID {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("%s did not take the store's leadership within %s", toID, timeout)
}
