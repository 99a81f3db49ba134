package api

import (
	"maps"
	"net/http"
	"reflect"
	"slices"

	"github.com/mamori-ops/mamori/appliance/auth"
	"github.com/mamori-ops/mamori/appliance/calendar"
	"github.com/mamori-ops/mamori/appliance/events"
	"github.com/mamori-ops/mamori/appliance/ha"
	"github.com/mamori-ops/mamori/appliance/inventory"
	"github.com/mamori-ops/mamori/appliance/maintenance"
	"github.com/mamori-ops/mamori/appliance/notify"
	"github.com/mamori-ops/mamori/appliance/pairing"
	"github.com/mamori-ops/mamori/appliance/store"
	"github.com/mamori-ops/mamori/ingest/pipeline"
	"github.com/mamori-ops/mamori/ingest/rules"
	"github.com/mamori-ops/mamori/internal/openapi"
	"github.com/mamori-ops/mamori/pollers/check"
	"github.com/mamori-ops/mamori/pollers/judge"
	"github.com/mamori-ops/mamori/pollers/monitor"
	"github.com/mamori-ops/mamori/pollers/status"
)

// What the OpenAPI document says of each route of the route table, by
// "METHOD /path" exactly as in table(). Kept apart from the table so that
// a new route row and its description are separate edits; a route without
// an entry here fails TestOpenAPICoversRouteTable (api/openapi_test.go),
// and then `make openapi` regenerates the console's types.

// routeDoc describes one route.
type routeDoc struct {
	Summary string
	// Body is a value of the request body's type (nil: no body); anyOf
	// lists the shapes a body may take.
	Body any
	// Answer is a value of the success answer's type (nil: no JSON), or
	// its schema itself (an openapi.Schema).
	Answer any
	// Status is the success status (default 200).
	Status int
	// Text is the answer's media type when it is not JSON.
	Text string
	// AltText is another media type the route answers on request
	// (text/csv with format=csv).
	AltText string
	Query   []queryParam
	// Answers other than the shared error answer, by status.
	Answers map[int]any
}

// anyOf is a body that may take any of the shapes of its values.
type anyOf []any

// queryParam is one query parameter: Type is a JSON Schema type; Enum
// its fixed values, if any.
type queryParam struct {
	Name, Type, Description string
	Enum                    []string
}

// The query parameters every message list takes (scoped, commonFilters).
var messageListQuery = []queryParam{
	{"after", "integer", "oldest first after this message id", nil},
	{"before", "integer", "newest first before this message id (with order=desc)", nil},
	{"limit", "integer", "at most this many (1..100000, default 1000)", nil},
	{"order", "string", "asc (default) or desc", []string{"asc", "desc"}},
	{"source", "string", "the sender's address", nil},
	{"node", "string", "inventory node id", nil},
	{"scope", "string", "scope", nil},
	{"since", "string", "received at or after (RFC 3339)", nil},
	{"until", "string", "received before (RFC 3339)", nil},
	{"q", "string", "substring of the text", nil},
}

// The filters of the event list, its count and a state change by filter.
var eventFilterQuery = []queryParam{
	{"after", "integer", "after this event id", nil},
	{"before", "integer", "before this event id", nil},
	{"severity", "string", "comma-separated: critical, unknown, warning, info", nil},
	{"state", "string", "comma-separated: unconfirmed, confirming, confirmed", nil},
	{"scope", "string", "comma-separated scopes", nil},
	{"node", "string", "node", nil},
	{"kind", "string", "kind", nil},
	{"q", "string", "substring of the message", nil},
	{"since", "string", "at or after (RFC 3339)", nil},
	{"until", "string", "before (RFC 3339)", nil},
}

func withQuery(base []queryParam, more ...queryParam) []queryParam {
	return append(append([]queryParam{}, base...), more...)
}

func routeDocs() map[string]routeDoc {
	events1 := anyOf{events.Event{}, []events.Event{}}
	return map[string]routeDoc{
		"GET /healthz":                    {Summary: "Up or down, for anyone; the role and node id for a logged-in caller.", Answer: Health{}, Answers: map[int]any{http.StatusServiceUnavailable: Health{}}},
		"GET /metrics":                    {Summary: "Prometheus metrics.", Text: "text/plain"},
		"GET /api/v1/openapi.json":        {Summary: "This document.", Answer: openapi.Schema{"type": "object", "description": "an OpenAPI 3.1 document"}},
		"POST /api/v1/login":              {Summary: "Log in: a session token, also set as the mamori_session cookie.", Body: LoginRequest{}, Answer: LoginAnswer{}},
		"POST /api/v1/pair/join":          {Summary: "A joining appliance redeems a pairing code.", Body: pairing.JoinRequest{}, Answer: pairing.JoinResponse{}},
		"POST /api/v1/logout":             {Summary: "End this session.", Answer: LoggedOut{}},
		"POST /api/v1/logout/everywhere":  {Summary: "End every session and token of the caller.", Answer: LoggedOut{}},
		"GET /api/v1/me":                  {Summary: "The caller: user, roles, scopes, the appliance's time zone.", Answer: Me{}},
		"POST /api/v1/tokens":             {Summary: "A new API token (shown once).", Body: TokenRequest{}, Answer: TokenAnswer{}},
		"POST /api/v1/me/totp":            {Summary: "Start (or replace) the caller's second factor.", Body: TOTPEnrolRequest{}, Answer: TOTPEnrolment{}},
		"POST /api/v1/me/totp/confirm":    {Summary: "Confirm the second factor with a current code.", Body: TOTPConfirmRequest{}, Answer: TOTPEnabled{}},
		"GET /api/v1/cluster":             {Summary: "The pair as this appliance sees it, and its receive path.", Answer: ClusterStatus{}},
		"GET /api/v1/cluster/checksums":   {Summary: "Row counts and checksums per table of this appliance's copy.", Answer: map[string]string{}},
		"POST /api/v1/cluster/switchover": {Summary: "Planned switchover: the active stops its work, hands the store's leadership to the standby and becomes standby (nothing lost); answers once the roles changed.", Body: SwitchoverRequest{}, Answer: ha.SwitchoverReport{}},
		"GET /api/v1/events": {Summary: "Events of the caller's scopes, oldest first (order=desc: newest first, before an id), filtered.", Answer: EventList{},
			Query: withQuery(eventFilterQuery, queryParam{"limit", "integer", "at most this many (1..10000, default 1000)", nil},
				queryParam{"order", "string", "asc (default, after an id) or desc (newest first, before an id)", []string{"asc", "desc"}})},
		"GET /api/v1/events/count":         {Summary: "How many events of the caller's scopes the filter selects.", Answer: EventCount{}, Query: eventFilterQuery},
		"GET /api/v1/events/:id":           {Summary: "One event with its comments, oldest first.", Answer: EventDetail{}},
		"POST /api/v1/events/state":        {Summary: "Change the state of events by ids or by filter (one audit row naming how many).", Body: StateChange{}, Answer: StateChanged{}},
		"POST /api/v1/events/:id/comments": {Summary: "Comment on an event.", Body: CommentRequest{}, Answer: events.Comment{}, Status: http.StatusCreated},
		"POST /api/v1/events":              {Summary: "Store one event or an array of events in one transaction.", Body: events1, Answer: Stored{}},
		"GET /api/v1/credentials":          {Summary: "Credentials of the caller's scopes, never their secrets.", Answer: CredentialList{}},
		"POST /api/v1/credentials":         {Summary: "Create or replace a credential.", Body: CredentialRequest{}, Answer: CredentialSaved{}},
		"GET /api/v1/nodes":                {Summary: "Inventory nodes of the caller's scopes.", Answer: NodeList{}},
		"POST /api/v1/nodes":               {Summary: "Create or replace a node.", Body: inventory.Node{}, Answer: NodeSaved{}},
		"POST /api/v1/nodes/:id/snmp/get":  {Summary: "Poll a node now with its SNMP settings.", Body: SNMPGetRequest{}, Answer: SNMPValues{}},
		"GET /api/v1/users":                {Summary: "Users.", Answer: UserList{}},
		"POST /api/v1/users":               {Summary: "Create a user.", Body: newUser{}, Answer: UserCreated{}, Status: http.StatusCreated},
		"GET /api/v1/roles":                {Summary: "Roles.", Answer: RoleList{}},
		"POST /api/v1/roles":               {Summary: "Create a role.", Body: auth.Role{}, Answer: RoleCreated{}, Status: http.StatusCreated},
		"GET /api/v1/audit":                {Summary: "The audit log (the auditor's); format=csv exports it.", Answer: AuditList{}, AltText: "text/csv", Query: auditQuery},
		"GET /api/v1/audit/verify":         {Summary: "Walk the audit chain on this appliance's copy.", Answer: auth.VerifyReport{}},
		"POST " + ha.HeartbeatPath:         {Summary: "The peer's heartbeat.", Body: ha.Beat{}, Answer: ha.Beat{}},
		"POST " + ha.EventsPath:            {Summary: "Events handed over by the peer.", Body: events1, Answer: Stored{}},
		"POST " + ha.SwitchoverPath:        {Summary: "The standby asks the active to hand the role over to it.", Body: SwitchoverRequest{}, Answer: ha.SwitchoverReport{}},
		"POST " + ha.LeavePath:             {Summary: "The standby says it is stopping on purpose: the active re-forms the store alone as soon as it is gone.", Body: LeaveNotice{}, Answer: LeaveAnswer{}},
		"POST " + pipeline.IngestPath:      {Summary: "A batch of the peer's spool.", Body: pipeline.Batch{}, Answer: pipeline.Ack{}},
		"GET /api/v1/syslog":               {Summary: "Stored syslog messages of the caller's scopes.", Answer: SyslogList{}, Query: syslogQuery},
		"GET /api/v1/traps":                {Summary: "Stored SNMP notifications of the caller's scopes.", Answer: TrapList{}, Query: trapQuery},
		"POST /api/v1/custom-events":       {Summary: "Spool custom events on this appliance.", Body: CustomEventsRequest{}, Answer: Accepted{}, Status: http.StatusAccepted, Answers: map[int]any{http.StatusInsufficientStorage: SpoolRefused{}}},
		"GET /api/v1/custom-events":        {Summary: "Stored custom events of the caller's scopes.", Answer: CustomEventList{}, Query: withQuery(messageListQuery, queryParam{"key", "string", "the event key", nil})},
		"GET /api/v1/rules":                {Summary: "Monitor rules of the caller's scopes and those for every scope.", Answer: RuleList{}},
		"POST /api/v1/rules":               {Summary: "Create or replace a monitor rule (unknown fields are refused).", Body: rules.Rule{}, Answer: RuleSaved{}},
		"DELETE /api/v1/rules/:id":         {Summary: "Delete a monitor rule.", Answer: RuleDeleted{}},
		// notify (issue 12)
		"GET /api/v1/notify/channels":        {Summary: "Notification channels of the caller's scopes and those for every scope.", Answer: NotifyChannelList{}},
		"POST /api/v1/notify/channels":       {Summary: "Create or replace a notification channel (unknown fields are refused); answers it with its defaults.", Body: notify.Channel{}, Answer: notify.Channel{}},
		"DELETE /api/v1/notify/channels/:id": {Summary: "Delete a notification channel that no rule names.", Answer: NotifyDeleted{}},
		"POST /api/v1/notify/channels/test":  {Summary: "Send a test notification through a channel as given (saved or not) and say whether the receiver took it.", Body: notify.Channel{}, Answer: NotifyTestResult{}},
		"GET /api/v1/notify/rules":           {Summary: "Notification rules of the caller's scopes and those for every scope.", Answer: NotifyRuleList{}},
		"POST /api/v1/notify/rules":          {Summary: "Create or replace a notification rule (unknown fields are refused); answers it with its defaults.", Body: notify.Rule{}, Answer: notify.Rule{}},
		"DELETE /api/v1/notify/rules/:id":    {Summary: "Delete a notification rule.", Answer: NotifyDeleted{}},
		"GET /api/v1/notify/log":             {Summary: "Notifications recorded, held, sent or failed, newest first.", Answer: NotifyLog{}, Query: notifyLogQuery},
		"POST /internal/v1/recover":          {Summary: "Rejoin the active as standby (`mamori recover`).", Answer: ha.Status{}},
		"POST /internal/v1/switchover":       {Summary: "Move the active role to the other appliance on purpose (`mamori switchover`); answers once the roles changed.", Body: SwitchoverRequest{}, Answer: ha.SwitchoverReport{}},
		"POST /internal/v1/pair/code":        {Summary: "A one-time pairing code (`mamori pair init`).", Body: PairCodeRequest{}, Answer: PairCode{}},
		"GET /api/v1/setup":                  {Summary: "Whether this appliance needs its first-boot setup (public; nothing secret).", Answer: SetupStatus{}},
		"POST /api/v1/setup/token":           {Summary: "Check a setup token (`mamori setup-token` shows it).", Body: SetupTokenRequest{}, Answer: SetupTokenOK{}},
		"POST /api/v1/setup/admin":           {Summary: "Create the first administrator with the setup token, logged in.", Body: SetupAdminRequest{}, Answer: SetupAdminCreated{}, Status: http.StatusCreated},
		"POST /api/v1/setup/pair/preview":    {Summary: "The peer's CA fingerprint, before anything secret is sent.", Body: SetupJoinRequest{}, Answer: PairPreview{}},
		"POST /api/v1/setup/pair/join":       {Summary: "Join the pair of the appliance at peer; this appliance then re-forms as its second.", Body: SetupJoinRequest{}, Answer: PairJoinAnswer{}, Status: http.StatusAccepted},
		"POST /api/v1/pair/code":             {Summary: "A one-time pairing code for the wizard's first appliance.", Body: PairCodeRequest{}, Answer: PairCode{}},
		"GET /api/v1/stream": {Summary: "Server-sent events: new events, syslog messages and cluster state of the caller's scopes, resumed from Last-Event-ID.", Text: "text/event-stream",
			Query: []queryParam{{"topics", "string", "comma-separated: events, messages, cluster", nil}, {"last_event_id", "string", "resume after this id (as the Last-Event-ID header)", nil}}},
		"POST /api/v1/session/failover": {Summary: "The session as a bearer token and the peer's console origins, to go on there after a failover.", Answer: SessionFailover{}},
		"GET /api/v1/scopes":            {Summary: "The scopes the caller sees, with how many nodes, rules and credentials carry each.", Answer: ScopeList{}},
		"GET /api/v1/tokens":            {Summary: "The caller's own API tokens (never their secrets).", Answer: TokenList{}},
		"DELETE /api/v1/tokens/:id":     {Summary: "Revoke one of the caller's own API tokens.", Answer: TokenRevoked{}},
		"DELETE /api/v1/users/:name":    {Summary: "Remove a user with its sessions and tokens (not yourself, not the last administrator).", Answer: UserDeleted{}},
		// Monitors and their status (issue 12 core).
		"GET /api/v1/monitor-kinds": {Summary: "Every monitor kind with the fields of its parameters form.", Answer: MonitorKinds{}},
		"GET /api/v1/monitors": {Summary: "Monitors of the caller's scopes by id, a page at a time.", Answer: MonitorList{},
			Query: []queryParam{{"kind", "string", "only this kind", nil}, {"scope", "string", "in this scope (its own or its node's)", nil},
				{"node", "string", "running on this node (naming it or its scope)", nil}, {"after", "string", "after this monitor id (the next page)", nil}}},
		"POST /api/v1/monitors":       {Summary: "Create or replace a monitor (unknown fields are refused; errors name the field).", Body: monitor.Monitor{}, Answer: monitor.Monitor{}},
		"POST /api/v1/monitors/test":  {Summary: "Test now: run a monitor's check once, saved or not, and answer the raw result and its judgement (nothing is stored).", Body: MonitorTestRequest{}, Answer: MonitorTestAnswer{}},
		"GET /api/v1/monitors/:id":    {Summary: "One monitor.", Answer: monitor.Monitor{}},
		"DELETE /api/v1/monitors/:id": {Summary: "Delete a monitor (its status rows expire).", Answer: MonitorDeleted{}},
		"GET /api/v1/status": {Summary: "The latest result per node × monitor (× item) of the caller's scopes, stale ones marked, rolled up per scope.", Answer: StatusList{},
			Query: []queryParam{{"scope", "string", "only this scope", nil}, {"node", "string", "only this node", nil}, {"monitor", "string", "only this monitor", nil},
				{"priority", "string", "only this priority", strs(judge.Priorities...)}}},
		// Schedule part (issue 12).
		"GET /api/v1/calendars":          {Summary: "Calendars of business time of the caller's scopes and those for every scope.", Answer: CalendarList{}},
		"POST /api/v1/calendars":         {Summary: "Create or replace a calendar (unknown fields are refused).", Body: calendar.Calendar{}, Answer: CalendarSaved{}},
		"POST /api/v1/calendars/preview": {Summary: "Business hours of a saved or edited calendar day by day, and its next openings and closings.", Body: CalendarPreviewRequest{}, Answer: CalendarPreview{}},
		"GET /api/v1/calendars/:id":      {Summary: "One calendar.", Answer: calendar.Calendar{}},
		"GET /api/v1/calendars/holidays": {Summary: "A country's public holidays as calendar rules to add (Japan).", Answer: HolidayRules{},
			Query: []queryParam{{"country", "string", "country code", []string{"jp"}}, {"from", "integer", "first year (default this year)", nil},
				{"years", "integer", "how many years of the holidays that move (1..10, default 3)", nil}}},
		"DELETE /api/v1/calendars/:id": {Summary: "Delete a calendar no maintenance window follows.", Answer: CalendarDeleted{}},
		"GET /api/v1/maintenance": {Summary: "Maintenance windows of the caller's scopes with their state now.", Answer: WindowList{},
			Query: []queryParam{{"status", "string", "only windows in this state", []string{"active", "upcoming", "past", "disabled"}}}},
		"POST /api/v1/maintenance": {Summary: "Create or replace a maintenance window (unknown fields are refused).", Body: maintenance.Window{}, Answer: WindowSaved{}},
		"GET /api/v1/maintenance/active": {Summary: "Whether a node, scope or monitor is in a maintenance window now (or at).", Answer: MaintenanceActive{},
			Query: []queryParam{{"node", "string", "node id (its scope is taken from the inventory)", nil}, {"scope", "string", "scope", nil},
				{"monitor", "string", "monitor id", nil}, {"at", "string", "at this instant (RFC 3339; default now)", nil}}},
		"POST /api/v1/maintenance/mute":    {Summary: "Mute a node, scope or monitor from now for a duration (an ad hoc one-off window).", Body: maintenance.Mute{}, Answer: MuteSaved{}, Status: http.StatusCreated},
		"GET /api/v1/maintenance/:id":      {Summary: "One maintenance window with its state now.", Answer: WindowState{}},
		"DELETE /api/v1/maintenance/:id":   {Summary: "Delete a maintenance window.", Answer: WindowDeleted{}},
		"POST /api/v1/maintenance/:id/end": {Summary: "End a maintenance window now.", Answer: WindowState{}},
		"POST /internal/v1/admin":          {Summary: "Create an administrator (`mamori admin create`).", Body: newUser{}, Answer: UserCreated{}, Status: http.StatusCreated},
		"GET /internal/v1/backup/store":    {Summary: "A consistent SQLite snapshot of this appliance's store (`mamori backup`).", Text: "application/octet-stream"},

		// issue 12, metrics
		"GET /api/v1/metrics": {Summary: "Series of numeric monitor results (raw, 5-minute or hourly, chosen for the range and points).", Answer: MetricsAnswer{}, Query: metricsQuery},
		"GET /api/v1/metrics/series": {Summary: "The stored series of a monitor (or of all), in the caller's scopes.", Answer: MetricSeriesList{},
			Query: []queryParam{{"monitor", "string", "the monitor (none: all)", nil}}},
		"POST /api/v1/metrics": {Summary: "Add values to series (custom metrics from scripts); the active writes them with its next flush.",
			Body: MetricPointsRequest{}, Answer: Accepted{}, Status: http.StatusAccepted},
	}
}

var (
	syslogQuery = withQuery(messageListQuery, queryParam{"host", "string", "the sender's host name", nil}, queryParam{"app", "string", "the app name", nil},
		queryParam{"max_severity", "integer", "severity at least this grave (0 emerg .. 7 debug)", nil}, queryParam{"facility", "integer", "facility number", nil})
	trapQuery  = withQuery(messageListQuery, queryParam{"trap", "string", "trap OID or name", nil}, queryParam{"version", "string", "SNMP version", nil})
	auditQuery = []queryParam{{"user", "string", "only this user", nil}, {"action", "string", "action contains this", nil},
		{"since", "string", "at or after (RFC 3339)", nil}, {"until", "string", "before (RFC 3339)", nil},
		{"after", "integer", "after this sequence number", nil}, {"limit", "integer", "at most this many", nil},
		{"format", "string", "csv: export as CSV", []string{"csv"}}}
)

// openAPINames give types a component name other than their Go name:
// two packages' types of one name, and names the console already uses.
func openAPINames() map[reflect.Type]string {
	return map[reflect.Type]string{
		reflect.TypeFor[ha.Status]():       "ApplianceStatus",
		reflect.TypeFor[store.Status]():    "StoreStatus",
		reflect.TypeFor[store.Server]():    "StoreServer",
		reflect.TypeFor[pipeline.Status](): "IngestStatus",
		reflect.TypeFor[auth.Role]():       "RoleDefinition",
		reflect.TypeFor[newUser]():         "NewUser",
		reflect.TypeFor[auth.Entry]():      "AuditEntry",
		reflect.TypeFor[events.Comment]():  "EventComment",
		reflect.TypeFor[check.Kind]():      "MonitorKind",
		reflect.TypeFor[check.Item]():      "CheckItem",
		reflect.TypeFor[check.Field]():     "MonitorKindField",
		reflect.TypeFor[status.Row]():      "StatusRow",
		reflect.TypeFor[events.State]():    "EventState",
		// notify (issue 12)
		reflect.TypeFor[notify.Rule]():    "NotifyRule",
		reflect.TypeFor[notify.Channel](): "NotifyChannel",
		// Function and Action would shadow TypeScript's own names.
		reflect.TypeFor[auth.Function](): "PrivilegeFunction",
		reflect.TypeFor[auth.Action]():   "PrivilegeAction",
		// Schedule part: Window is the browser's, Rule the monitor rules'.
		reflect.TypeFor[maintenance.Window]():  "MaintenanceWindow",
		reflect.TypeFor[maintenance.Kind]():    "MaintenanceKind",
		reflect.TypeFor[maintenance.State]():   "MaintenanceState",
		reflect.TypeFor[maintenance.Mute]():    "MaintenanceMute",
		reflect.TypeFor[calendar.Rule]():       "CalendarRule",
		reflect.TypeFor[calendar.RuleKind]():   "CalendarRuleKind",
		reflect.TypeFor[calendar.Span]():       "CalendarSpan",
		reflect.TypeFor[calendar.Week]():       "CalendarWeek",
		reflect.TypeFor[calendar.Transition](): "CalendarTransition",
		reflect.TypeFor[calendar.DayPreview](): "CalendarDay",
	}
}

// openAPIEnums are the fixed sets of named string types.
func openAPIEnums() map[reflect.Type][]string {
	return map[reflect.Type][]string{
		reflect.TypeFor[ha.Role]():           strs(ha.Starting, ha.Active, ha.Standby, ha.Fenced, ha.Stale, ha.Recovering),
		reflect.TypeFor[events.Severity]():   strs(events.Severities...),
		reflect.TypeFor[events.State]():      strs(events.States...),
		reflect.TypeFor[auth.Function]():     strs(auth.Functions...),
		reflect.TypeFor[auth.Action]():       strs(auth.Actions...),
		reflect.TypeFor[ErrorCode]():         errorCodes(),
		reflect.TypeFor[judge.Priority]():    strs(judge.Priorities...),
		reflect.TypeFor[check.ValueType]():   strs(check.Numeric, check.String, check.Truth),
		reflect.TypeFor[check.Where]():       strs(check.Appliance, check.Agent),
		reflect.TypeFor[calendar.RuleKind](): strs(calendar.RuleKinds...),
		reflect.TypeFor[maintenance.Kind]():  strs(maintenance.Kinds...),
	}
}

// openAPIFieldEnums are the fixed sets of plain string members.
func openAPIFieldEnums() map[reflect.Type]map[string][]string {
	return map[reflect.Type]map[string][]string{
		reflect.TypeFor[rules.Rule](): {"kind": {rules.Syslog, rules.Trap, rules.Custom}, "action": {rules.Notify, rules.Drop}, "priority": rules.Priorities},
		// notify (issue 12)
		reflect.TypeFor[notify.Channel]():       {"type": {notify.Mail, notify.Webhook, notify.Command, notify.Syslog}},
		reflect.TypeFor[notify.WebhookConfig](): {"format": {notify.FormatAlertmanager, notify.FormatJSON, notify.FormatPagerDuty}},
		reflect.TypeFor[notify.MailConfig]():    {"security": {"starttls", "tls", "none"}},
		reflect.TypeFor[notify.SyslogConfig]():  {"transport": {"udp", "tcp", "tls"}},
		reflect.TypeFor[notify.Rule]():          {"renotify": {notify.RenotifyAlways, notify.RenotifyPeriod, notify.RenotifyChange}},
		reflect.TypeFor[notify.Notification]():  {"status": {notify.Recorded, notify.Held, notify.Sent, notify.Failed}, "kind": {notify.KindProblem, notify.KindRecovery, notify.KindEvent, notify.KindRelease, notify.KindTest}},
	}
}

func strs[T ~string](vs ...T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// errorCodes are every code an error answer carries (answers.go).
func errorCodes() []string {
	set := map[string]bool{CodeNotActive: true, CodeUnavailable: true, CodeOutcomeUnknown: true, CodeKeyReused: true, CodeKeyInFlight: true,
		CodeSetupToken: true, CodeSetupDone: true, CodePairingCode: true, CodeFingerprint: true, CodePeerNotFound: true}
	for _, c := range codes {
		set[c] = true
	}
	return slices.Sorted(maps.Keys(set))
}
