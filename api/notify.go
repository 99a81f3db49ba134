package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/mamori-ops/mamori/appliance/auth"
	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/appliance/notify"
)

// Notification channels and rules, the test send and the notification
// log. Channels and rules carry a scope and an owner role like every
// object; a channel names credentials, a rule names channels, and the
// scope rule checks both (objects.go).

// NotifyChannelList is GET /api/v1/notify/channels.
type NotifyChannelList struct {
	Channels []notify.Channel `json:"channels"`
}

// NotifyRuleList is GET /api/v1/notify/rules.
type NotifyRuleList struct {
	Rules []notify.Rule `json:"rules"`
}

// NotifyDeleted answers a delete.
type NotifyDeleted struct {
	Deleted string `json:"deleted"`
}

// NotifyTestResult answers a test send.
type NotifyTestResult struct {
	Sent  bool   `json:"sent"`
	Key   string `json:"key"`
	Error string `json:"error,omitempty"`
}

// NotifyLog is GET /api/v1/notify/log.
type NotifyLog struct {
	Notifications []notify.Notification `json:"notifications"`
	More          bool                  `json:"more"`
}

func channelObject(c notify.Channel) auth.Object {
	return auth.Object{Kind: "notification channel", ID: c.ID, Scope: c.Scope, Owner: c.OwnerRole}
}

func notifyRuleObject(r notify.Rule) auth.Object {
	return auth.Object{Kind: "notification rule", ID: r.ID, Scope: r.Scope, Owner: r.OwnerRole}
}

// channelRefs are the credentials a channel names.
func (s *Server) channelRefs(ctx context.Context, c notify.Channel) ([]auth.Ref, error) {
	var names [][2]string
	if c.Mail != nil && c.Mail.PasswordCredential != "" {
		names = append(names, [2]string{"mail.password_credential", c.Mail.PasswordCredential})
	}
	if c.Webhook != nil && c.Webhook.TokenCredential != "" {
		names = append(names, [2]string{"webhook.token_credential", c.Webhook.TokenCredential})
	}
	var refs []auth.Ref
	for _, f := range names {
		r, err := s.credentialRef(ctx, f[0], f[1])
		if err != nil {
			return nil, err
		}
		refs = append(refs, r)
	}
	return refs, nil
}

// ruleRefs are the channels a rule names.
func (s *Server) ruleRefs(ctx context.Context, r notify.Rule) ([]auth.Ref, error) {
	var refs []auth.Ref
	for i, id := range r.Channels {
		field := fmt.Sprintf("channels[%d]", i)
		c, err := notify.GetChannel(ctx, s.events, id)
		switch {
		case errors.Is(err, notify.ErrNotFound):
			refs = append(refs, auth.Ref{Object: auth.Object{Kind: "notification channel", ID: id}, Field: field})
		case err != nil:
			return nil, err
		default:
			refs = append(refs, auth.Ref{Object: channelObject(c), Found: true, Field: field})
		}
	}
	return refs, nil
}

// visibleScopes are the scopes whose objects p lists (nil: all); objects
// for every scope ("") are listed to all, editable by few.
func visibleScopes(p auth.Principal) []string {
	scopes := p.Scopes()
	if scopes != nil {
		scopes = append(scopes, "")
	}
	return scopes
}

func (s *Server) listNotifyChannels(c *gin.Context) {
	p, _ := principal(c)
	cs, err := notify.Channels(c.Request.Context(), s.events, visibleScopes(p))
	if err != nil {
		s.authFail(c, err)
		return
	}
	c.JSON(http.StatusOK, NotifyChannelList{Channels: cs})
}

// notifyKind describes channels or rules to the shared put and delete.
type notifyKind[T any] struct {
	what     string
	validate func(*T) error
	refs     func(context.Context, T) ([]auth.Ref, error)
	object   func(T) auth.Object
	get      func(context.Context, notify.Store, string) (T, error)
	put      func(context.Context, notify.Store, T, time.Time) (T, error)
	del      func(context.Context, notify.Store, string) error
	// inUse, if set, refuses a delete of an object others name.
	inUse func(context.Context, T) error
}

func (s *Server) channels() notifyKind[notify.Channel] {
	return notifyKind[notify.Channel]{what: "channel", validate: notify.ValidateChannel, refs: s.channelRefs, object: channelObject,
		get: notify.GetChannel, put: notify.PutChannel, del: notify.DeleteChannel, inUse: s.channelInUse}
}

func (s *Server) notifyRules() notifyKind[notify.Rule] {
	return notifyKind[notify.Rule]{what: "rule", validate: notify.ValidateRule, refs: s.ruleRefs, object: notifyRuleObject,
		get: notify.GetRule, put: notify.PutRule, del: notify.DeleteRule}
}

// putNotifyObject creates or replaces a channel or rule under the scope rule.
func putNotifyObject[T any](s *Server, c *gin.Context, k notifyKind[T]) {
	var v T
	if !decodeStrict(c, &v, k.what) {
		return
	}
	ctx := c.Request.Context()
	if err := k.validate(&v); err != nil {
		fail(c, http.StatusBadRequest, err.Error())
		return
	}
	refs, err := k.refs(ctx, v)
	if err != nil {
		s.authFail(c, err)
		return
	}
	after := k.object(v)
	w := auth.Write{F: auth.Notifications, New: &after, Refs: refs}
	var before any
	old, err := k.get(ctx, s.events, after.ID)
	switch {
	case err == nil:
		o := k.object(old)
		w.Old, before = &o, old
	case !errors.Is(err, notify.ErrNotFound):
		s.authFail(c, err)
		return
	}
	p, _ := principal(c)
	if !mayWrite(c, p, w, before, v) {
		return
	}
	saved, err := k.put(ctx, s.events, v, time.Now())
	if err != nil {
		s.notifyFail(c, err)
		return
	}
	c.JSON(http.StatusOK, saved)
}

// deleteNotifyObject deletes a channel or rule under the scope rule.
func deleteNotifyObject[T any](s *Server, c *gin.Context, k notifyKind[T]) {
	ctx := c.Request.Context()
	old, err := k.get(ctx, s.events, c.Param("id"))
	if err != nil {
		s.notifyFail(c, err)
		return
	}
	o := k.object(old)
	p, _ := principal(c)
	if err := p.MayWrite(auth.Write{F: auth.Notifications, Old: &o}); err != nil {
		refused(c, err)
		return
	}
	if k.inUse != nil {
		if err := k.inUse(ctx, old); err != nil {
			fail(c, http.StatusConflict, err.Error())
			return
		}
	}
	before, _ := json.Marshal(old)
	c.Set(ctxDetail, "before "+string(before))
	if err := k.del(ctx, s.events, o.ID); err != nil {
		s.authFail(c, err)
		return
	}
	c.JSON(http.StatusOK, NotifyDeleted{Deleted: o.ID})
}

func (s *Server) putNotifyChannel(c *gin.Context)    { putNotifyObject(s, c, s.channels()) }
func (s *Server) deleteNotifyChannel(c *gin.Context) { deleteNotifyObject(s, c, s.channels()) }
func (s *Server) putNotifyRule(c *gin.Context)       { putNotifyObject(s, c, s.notifyRules()) }
func (s *Server) deleteNotifyRule(c *gin.Context)    { deleteNotifyObject(s, c, s.notifyRules()) }

// channelInUse refuses to delete a channel a rule sends to.
func (s *Server) channelInUse(ctx context.Context, ch notify.Channel) error {
	rules, err := notify.Rules(ctx, s.events, nil)
	if err != nil {
		return err
	}
	for _, r := range rules {
		if slices.Contains(r.Channels, ch.ID) {
			return fmt.Errorf("rule %q sends to channel %q: remove it from the rule first", r.ID, ch.ID)
		}
	}
	return nil
}

func (s *Server) notifyFail(c *gin.Context, err error) {
	switch {
	case errors.Is(err, notify.ErrInvalid):
		fail(c, http.StatusBadRequest, err.Error())
	case errors.Is(err, notify.ErrNotFound):
		fail(c, http.StatusNotFound, err.Error())
	default:
		s.authFail(c, err)
	}
}

// testNotifyChannel sends a test notification through a channel as given
// (saved or not), at once, from the active, and answers what the
// receiver said.
func (s *Server) testNotifyChannel(c *gin.Context) {
	var ch notify.Channel
	if !decodeStrict(c, &ch, "channel") {
		return
	}
	if s.opts.Notifier == nil {
		fail(c, http.StatusServiceUnavailable, "notifications are not running on this appliance: try the other one")
		return
	}
	// Notifications leave from the active (a command runs there): the
	// test tries that path, not the standby's.
	if s.cluster.Role() != ha.Active {
		s.notActive(c)
		return
	}
	ctx := c.Request.Context()
	if err := notify.ValidateChannel(&ch); err != nil {
		fail(c, http.StatusBadRequest, err.Error())
		return
	}
	refs, err := s.channelRefs(ctx, ch)
	if err != nil {
		s.authFail(c, err)
		return
	}
	p, _ := principal(c)
	if err := p.MayUse(channelObject(ch), refs); err != nil {
		refused(c, err)
		return
	}
	nt, err := s.opts.Notifier.SendTest(ctx, ch, p.User)
	res := NotifyTestResult{Sent: err == nil, Key: nt.Key}
	if err != nil {
		res.Error = err.Error()
	}
	c.Set(ctxDetail, fmt.Sprintf("test of channel %q: sent %v %s", ch.ID, res.Sent, res.Error))
	c.JSON(http.StatusOK, res)
}

func (s *Server) listNotifyRules(c *gin.Context) {
	p, _ := principal(c)
	rs, err := notify.Rules(c.Request.Context(), s.events, visibleScopes(p))
	if err != nil {
		s.authFail(c, err)
		return
	}
	c.JSON(http.StatusOK, NotifyRuleList{Rules: rs})
}

// notifyLogQuery is what GET /api/v1/notify/log takes.
var notifyLogQuery = []queryParam{
	{"status", "string", "recorded, held, sent or failed", []string{notify.Recorded, notify.Held, notify.Sent, notify.Failed}},
	{"rule", "string", "rule id", nil},
	{"channel", "string", "channel id", nil},
	{"monitor", "string", "monitor id (event:<kind> for appliance events)", nil},
	{"node", "string", "node id", nil},
	{"before", "integer", "newest first before this notification id", nil},
	{"limit", "integer", "at most this many (1..1000, default 200)", nil},
}

func (s *Server) notifyLog(c *gin.Context) {
	p, _ := principal(c)
	f := notify.LogFilter{Status: c.Query("status"), Rule: c.Query("rule"), Channel: c.Query("channel"),
		Monitor: c.Query("monitor"), Node: c.Query("node"), Scopes: visibleScopes(p)}
	if f.Status != "" && !slices.Contains([]string{notify.Recorded, notify.Held, notify.Sent, notify.Failed}, f.Status) {
		fail(c, http.StatusBadRequest, "status: recorded, held, sent or failed")
		return
	}
	for name, into := range map[string]*int64{"before": &f.Before} {
		if v := c.Query(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				fail(c, http.StatusBadRequest, name+": a notification id")
				return
			}
			*into = n
		}
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			fail(c, http.StatusBadRequest, "limit: 1 to 1000")
			return
		}
		f.Limit = n
	}
	ns, more, err := notify.Log(c.Request.Context(), s.events, f)
	if err != nil {
		s.authFail(c, err)
		return
	}
	c.JSON(http.StatusOK, NotifyLog{Notifications: ns, More: more})
}
