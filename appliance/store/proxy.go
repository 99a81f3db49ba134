package store

import (
	"errors"
	"io"
	"sync/atomic"

	"github.com/rqlite/rqlite/v8/command/proto"
	rstore "github.com/rqlite/rqlite/v8/store"
)

// errNoStore is returned to cluster-service callers while no generation is open.
var errNoStore = errors.New("store is restarting")

// proxy is what the cluster service talks to. The service keeps the
// Database and Manager it was built with for its whole life, but a
// promotion or recovery replaces the rqlite store; the proxy forwards to
// whichever store is current.
type proxy struct {
	cur atomic.Pointer[rstore.Store]
}

func (p *proxy) get() (*rstore.Store, error) {
	s := p.cur.Load()
	if s == nil {
		return nil, errNoStore
	}
	return s, nil
}

func (p *proxy) Execute(er *proto.ExecuteRequest) ([]*proto.ExecuteQueryResponse, uint64, error) {
	s, err := p.get()
	if err != nil {
		return nil, 0, err
	}
	return s.Execute(er)
}

func (p *proxy) Query(qr *proto.QueryRequest) ([]*proto.QueryRows, uint64, error) {
	s, err := p.get()
	if err != nil {
		return nil, 0, err
	}
	return s.Query(qr)
}

func (p *proxy) Request(rr *proto.ExecuteQueryRequest) ([]*proto.ExecuteQueryResponse, uint64, error) {
	s, err := p.get()
	if err != nil {
		return nil, 0, err
	}
	return s.Request(rr)
}

func (p *proxy) Backup(br *proto.BackupRequest, dst io.Writer) error {
	s, err := p.get()
	if err != nil {
		return err
	}
	return s.Backup(br, dst)
}

func (p *proxy) Load(lr *proto.LoadRequest) error {
	s, err := p.get()
	if err != nil {
		return err
	}
	return s.Load(lr)
}

func (p *proxy) LeaderAddr() (string, error) {
	s, err := p.get()
	if err != nil {
		return "", err
	}
	return s.LeaderAddr()
}

func (p *proxy) CommitIndex() (uint64, error) {
	s, err := p.get()
	if err != nil {
		return 0, err
	}
	return s.CommitIndex()
}

func (p *proxy) Remove(rn *proto.RemoveNodeRequest) error {
	s, err := p.get()
	if err != nil {
		return err
	}
	return s.Remove(rn)
}

func (p *proxy) Notify(n *proto.NotifyRequest) error {
	s, err := p.get()
	if err != nil {
		return err
	}
	return s.Notify(n)
}

func (p *proxy) Join(n *proto.JoinRequest) error {
	s, err := p.get()
	if err != nil {
		return err
	}
	return s.Join(n)
}

func (p *proxy) Stepdown(wait bool, id string) error {
	s, err := p.get()
	if err != nil {
		return err
	}
	return s.Stepdown(wait, id)
}
