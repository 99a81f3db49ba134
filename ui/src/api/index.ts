// The API calls the console makes, typed. Screens import `api` from here
// and never build URLs themselves, so that the generated client (issue 11,
// item 2) can replace the bodies without touching a screen.

import { failoverEndpoints } from '../live/failover';
import { ApiClient, type CallOptions } from './client';
import type {
  ClusterStatus,
  EventComment,
  EventDetail,
  EventList,
  EventQuery,
  Health,
  LoginAnswer,
  LoginRequest,
  Me,
  SessionFailover,
  StateChange,
  StateChanged,
} from './types';
import type { PairCode, PairJoinAnswer, PairPreview, SetupStatus } from './types';

export { ApiError } from './client';
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
};
