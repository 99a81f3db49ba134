package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/raft"
	"github.com/rqlite/rqlite/v8/command/proto"
	rstore "github.com/rqlite/rqlite/v8/store"
)

// Statement is one SQL statement with positional arguments (string, int,
// int64, float64, bool, []byte or nil).
type Statement struct {
	SQL  string
	Args []any
}

// Result is what one executed statement did.
type Result struct {
	LastInsertID int64
	RowsAffected int64
}

// Rows is a query result.
type Rows struct {
	Columns []string
	Values  [][]any
}

// Level is a read consistency level.
type Level int

const (
	// Local reads this node's copy; on a standby it may be slightly stale.
	Local Level = iota
	// Strong goes through the Raft log on the active; it fails on a standby.
	Strong
)

// Exec runs statements as one atomic unit through the batching writer.
// Statements are replicated and re-executed on every node, so they must be
// deterministic: never datetime('now'), random() and the like; compute
// such values in Go and pass them as arguments.
//
// Statements attached to ctx (Attach) that no earlier Exec wrote are
// written in the same unit; the results returned are those of stmts only.
func (s *Store) Exec(ctx context.Context, stmts ...Statement) ([]Result, error) {
	a := attached(ctx)
	if a == nil || !a.claim() {
		return s.writer.submit(ctx, stmts)
	}
	res, err := s.writer.submit(ctx, append(slices.Clip(stmts), a.stmts...))
	if err != nil {
		a.release(errors.Is(err, ErrOutcomeUnknown))
		return nil, err
	}
	a.written()
	return res[:len(stmts)], nil
}

// execDirect runs statements as one transaction in one Raft entry.
func (s *Store) execDirect(stmts []Statement) ([]Result, error) {
	if !s.writable() {
		return nil, ErrNotLeader
	}
	rs, err := s.current()
	if err != nil {
		return nil, err
	}
	ps := make([]*proto.Statement, len(stmts))
	for i, st := range stmts {
		p, err := toProto(st)
		if err != nil {
			return nil, err
		}
		ps[i] = p
	}
	resp, _, err := rs.Execute(&proto.ExecuteRequest{Request: &proto.Request{Transaction: true, Statements: ps}})
	if err != nil {
		return nil, mapErr(err)
	}
	out := make([]Result, 0, len(resp))
	for _, r := range resp {
		switch v := r.Result.(type) {
		case *proto.ExecuteQueryResponse_E:
			if v.E.Error != "" {
				return nil, fmt.Errorf("%w: %s", ErrStatement, v.E.Error)
			}
			out = append(out, Result{LastInsertID: v.E.LastInsertId, RowsAffected: v.E.RowsAffected})
		case *proto.ExecuteQueryResponse_Error:
			return nil, fmt.Errorf("%w: %s", ErrStatement, v.Error)
		}
	}
	return out, nil
}

// Query runs one read statement.
func (s *Store) Query(ctx context.Context, lvl Level, sql string, args ...any) (Rows, error) {
	rs, err := s.current()
	if err != nil {
		return Rows{}, err
	}
	st, err := toProto(Statement{SQL: sql, Args: args})
	if err != nil {
		return Rows{}, err
	}
	level := proto.QueryRequest_QUERY_REQUEST_LEVEL_NONE
	if lvl == Strong {
		level = proto.QueryRequest_QUERY_REQUEST_LEVEL_STRONG
	}
	res, _, err := rs.Query(&proto.QueryRequest{Request: &proto.Request{Statements: []*proto.Statement{st}}, Level: level})
	if err != nil {
		return Rows{}, mapErr(err)
	}
	return oneResult(res)
}

// mapErr turns rqlite's and Raft's errors into ours. What matters to a
// caller is whether a failed write may still have been applied: an entry
// refused before it entered the log (not leader, not ready, closed) was
// not; one whose leader stepped down or shut down while committing may
// have been (the peer can hold it and commit it when it takes over).
func mapErr(err error) error {
	switch {
	case errors.Is(err, rstore.ErrNotLeader), errors.Is(err, raft.ErrNotLeader),
		errors.Is(err, raft.ErrLeadershipTransferInProgress), errors.Is(err, raft.ErrEnqueueTimeout):
		return ErrNotLeader
	case errors.Is(err, rstore.ErrNotOpen), errors.Is(err, rstore.ErrNotReady):
		return ErrClosed
	case errors.Is(err, raft.ErrLeadershipLost), errors.Is(err, raft.ErrRaftShutdown), errors.Is(err, raft.ErrAbortedByRestore):
		return fmt.Errorf("%w (%v)", ErrOutcomeUnknown, err)
	}
	return err
}

func toProto(st Statement) (*proto.Statement, error) {
	ps := make([]*proto.Parameter, len(st.Args))
	for i, a := range st.Args {
		p := &proto.Parameter{}
		switch v := a.(type) {
		case nil:
		case string:
			p.Value = &proto.Parameter_S{S: v}
		case int:
			p.Value = &proto.Parameter_I{I: int64(v)}
		case int64:
			p.Value = &proto.Parameter_I{I: v}
		case uint64:
			p.Value = &proto.Parameter_I{I: int64(v)}
		case float64:
			p.Value = &proto.Parameter_D{D: v}
		case bool:
			p.Value = &proto.Parameter_B{B: v}
		case []byte:
			p.Value = &proto.Parameter_Y{Y: v}
		default:
			return nil, fmt.Errorf("statement %q: argument %d has unsupported type %T", st.SQL, i, a)
		}
		ps[i] = p
	}
	return &proto.Statement{Sql: st.SQL, Parameters: ps}, nil
}

func fromParams(ps []*proto.Parameter) []any {
	out := make([]any, len(ps))
	for i, p := range ps {
		switch v := p.GetValue().(type) {
		case *proto.Parameter_S:
			out[i] = v.S
		case *proto.Parameter_I:
			out[i] = v.I
		case *proto.Parameter_D:
			out[i] = v.D
		case *proto.Parameter_B:
			out[i] = v.B
		case *proto.Parameter_Y:
			out[i] = v.Y
		}
	}
	return out
}

// Server is one member of the store's Raft configuration.
type Server struct {
	ID    string `json:"id"`
	Addr  string `json:"addr"`
	Voter bool   `json:"voter"`
}

// Status is a snapshot of the store's replication state.
type Status struct {
	Open         bool     `json:"open"`
	Leader       bool     `json:"leader"`
	LeaderID     string   `json:"leader_id"`
	LeaderAddr   string   `json:"leader_addr"`
	RaftState    string   `json:"raft_state"`
	AppliedIndex uint64   `json:"applied_index"`
	CommitIndex  uint64   `json:"commit_index"`
	Servers      []Server `json:"servers"`
}

// Status reports the current generation's state.
func (s *Store) Status() Status {
	rs, err := s.current()
	if err != nil {
		return Status{RaftState: "closed"}
	}
	st := Status{Open: true, Leader: rs.IsLeader(), AppliedIndex: rs.DBAppliedIndex()}
	st.LeaderAddr, st.LeaderID = rs.LeaderWithID()
	st.CommitIndex, _ = rs.CommitIndex()
	st.RaftState = [...]string{"leader", "follower", "candidate", "shutdown", "unknown"}[rs.State()]
	if nodes, err := rs.Nodes(); err == nil {
		for _, n := range nodes {
			st.Servers = append(st.Servers, Server{ID: n.ID, Addr: n.Addr, Voter: strings.EqualFold(n.Suffrage, "voter")}) // raft spells it "Voter"
		}
	}
	return st
}
