// The API calls the console makes, typed. Screens import `api` from here
// and never build URLs themselves, so that the generated client (issue 11,
// item 2) can replace the bodies without touching a screen.

import { failoverEndpoints } from '../live/failover';
import { ApiClient, type CallOptions } from './client';
import type {
  AccessRole,
  AuditList,
  ClusterStatus,
  SwitchoverReport,
  Credential,
  CustomList,
  EventComment,
  EventDetail,
  EventList,
  EventQuery,
  Health,
  InventoryNode,
  LoginAnswer,
  LoginRequest,
  Me,
  MetricSeriesList,
  MetricsAnswer,
  MonitorRule,
  ScopeUse,
  SessionFailover,
  StateChange,
  StateChanged,
  SyslogList,
  TokenInfo,
  TotpEnrolment,
  TrapList,
  UserInfo,
} from './types';
import type { PairCode, PairJoinAnswer, PairPreview, SetupStatus } from './types';
import type { Query } from './client';
import type { Query as RouteQuery } from './types';

export { ApiError, type Query } from './client';
export type * from './types';

/** The one client of the page (main.tsx sets its onUnauthenticated); it follows the active (live/failover.ts). */
export const client = new ApiClient({ endpoints: failoverEndpoints });

type Opts = Pick<CallOptions, 'signal' | 'retry'>;

export const api = {
  login: (req: LoginRequest) =>
    client.post<LoginAnswer>('/api/v1/login', req, { retry: false, anonymous: true }),
  logout: () => client.post<{ logged_out: boolean }>('/api/v1/logout', {}, { retry: false, anonymous: true }),
  me: (o: Opts = {}) => client.get<Me>('/api/v1/me', o),
  /** Public: the role of the appliance that answers, for anyone. */
  health: (o: Opts = {}) => client.get<Health>('/healthz', { ...o, anonymous: true }),
  cluster: (o: Opts = {}) => client.get<ClusterStatus>('/api/v1/cluster', o),
  /** Planned switchover (answers once the roles changed); never retried: the operator asks again. */
  switchover: () => client.post<SwitchoverReport>('/api/v1/cluster/switchover', {}, { retry: false }),
  /** Oldest first, after the id `after` (the event model changes in issue 11, item 3). */
  events: (q: { after?: number; limit?: number; kind?: string }, o: Opts = {}) =>
    client.get<EventList>('/api/v1/events', { ...o, query: q }),
  /** Public: whether this appliance still needs its first-boot setup. */
  setup: (o: Opts = {}) => client.get<SetupStatus>('/api/v1/setup', { ...o, anonymous: true }),
  /** First-boot calls carry the setup token; a refusal is an answer, never retried. */
  setupToken: (token: string) => client.post<{ ok: boolean }>('/api/v1/setup/token', { token }, { retry: false, anonymous: true }),
  setupAdmin: (req: { token: string; user: string; password: string }) =>
    client.post<{ user: string }>('/api/v1/setup/admin', req, { retry: false, anonymous: true }),
  pairPreview: (req: { token: string; peer: string; code: string }) =>
    client.post<PairPreview>('/api/v1/setup/pair/preview', req, { retry: false, anonymous: true }),
  pairJoin: (req: { token: string; peer: string; code: string; fingerprint: string }) =>
    client.post<PairJoinAnswer>('/api/v1/setup/pair/join', req, { retry: false, anonymous: true }),
  /** A one-time pairing code for the second appliance (administrator). */
  pairCode: (ttlSeconds = 3600) => client.post<PairCode>('/api/v1/pair/code', { ttl_seconds: ttlSeconds }, { retry: false }),
  /** The session as a bearer token and the peer's origins, to go on there after a failover. */
  sessionFailover: (o: Opts = {}) => client.post<SessionFailover>('/api/v1/session/failover', {}, o),
  /** The event console's list: newest first before `before`, with filters. */
  eventPage: (q: EventQuery, o: Opts = {}) =>
    client.get<EventList>('/api/v1/events', { ...o, query: { ...q } }),
  /** How many events the filter selects (the caller's scopes only). */
  countEvents: (q: EventQuery, o: Opts = {}) =>
    client.get<{ count: number }>('/api/v1/events/count', { ...o, query: { ...q } }),
  event: (id: number, o: Opts = {}) => client.get<EventDetail>(`/api/v1/events/${id}`, o),
  setEventState: (change: StateChange) => client.post<StateChanged>('/api/v1/events/state', change),
  commentEvent: (id: number, text: string) =>
    client.post<EventComment>(`/api/v1/events/${id}/comments`, { text }),
  // Message search: newest first with order=desc, older pages with before=<id>.
  syslog: (q: Query, o: Opts = {}) => client.get<SyslogList>('/api/v1/syslog', { ...o, query: q }),
  traps: (q: Query, o: Opts = {}) => client.get<TrapList>('/api/v1/traps', { ...o, query: q }),
  customEvents: (q: Query, o: Opts = {}) => client.get<CustomList>('/api/v1/custom-events', { ...o, query: q }),
  rules: (o: Opts = {}) => client.get<{ rules: MonitorRule[] }>('/api/v1/rules', o),
  putRule: (r: MonitorRule) => client.post<{ rule: string }>('/api/v1/rules', r),
  deleteRule: (id: string) => client.delete<{ deleted: string }>(`/api/v1/rules/${encodeURIComponent(id)}`),
  nodes: (o: Opts = {}) => client.get<{ nodes: InventoryNode[] }>('/api/v1/nodes', o),
  putNode: (n: InventoryNode) => client.post<{ node: string }>('/api/v1/nodes', n),
  scopes: (o: Opts = {}) => client.get<{ scopes: ScopeUse[] }>('/api/v1/scopes', o),
  credentials: (o: Opts = {}) => client.get<{ credentials: Credential[] }>('/api/v1/credentials', o),
  putCredential: (c: { name: string; kind: string; username?: string; scope?: string; secret: string }) =>
    client.post<{ credential: string }>('/api/v1/credentials', c),
  users: (o: Opts = {}) => client.get<{ users: UserInfo[] }>('/api/v1/users', o),
  createUser: (u: { user: string; password: string; roles: string[] }) => client.post<{ user: string }>('/api/v1/users', u),
  deleteUser: (name: string) => client.delete<{ deleted: string }>(`/api/v1/users/${encodeURIComponent(name)}`),
  roles: (o: Opts = {}) => client.get<{ roles: AccessRole[] }>('/api/v1/roles', o),
  createRole: (r: AccessRole) => client.post<{ role: string }>('/api/v1/roles', r),
  newToken: (req: { name: string; ttl_seconds: number; roles?: string[] }) => client.post<{ token: string }>('/api/v1/tokens', req, { retry: false }),
  tokens: (o: Opts = {}) => client.get<{ tokens: TokenInfo[] }>('/api/v1/tokens', o),
  revokeToken: (id: string) => client.delete<{ revoked: string }>(`/api/v1/tokens/${encodeURIComponent(id)}`),
  enrolTOTP: (req: { password: string; totp?: string }) => client.post<TotpEnrolment>('/api/v1/me/totp', req, { retry: false }),
  confirmTOTP: (code: string) => client.post<{ totp: string }>('/api/v1/me/totp/confirm', { code }, { retry: false }),
  /** Oldest first after the sequence number `after`. */
  audit: (q: Query, o: Opts = {}) => client.get<AuditList>('/api/v1/audit', { ...o, query: q }),
  verifyAudit: (o: Opts = {}) => client.get<{ rows: number; ok: boolean; problems: string[] | null }>('/api/v1/audit/verify', o),
  // issue 12, metrics: series of numeric results (node and item: comma-separated lists).
  metrics: (q: RouteQuery<'GET /api/v1/metrics'>, o: Opts = {}) => client.get<MetricsAnswer>('/api/v1/metrics', { ...o, query: q }),
  metricSeries: (monitor: string | undefined, o: Opts = {}) =>
    client.get<MetricSeriesList>('/api/v1/metrics/series', { ...o, query: { monitor } }),
};
