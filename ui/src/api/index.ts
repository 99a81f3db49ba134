// The API calls the console makes, typed. Screens import `api` from here
// and never build URLs themselves, so that the generated client (issue 11,
// item 2) can replace the bodies without touching a screen.

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
  StateChange,
  StateChanged,
} from './types';

export { ApiError } from './client';
export type * from './types';

/** The one client of the page (main.tsx sets its onUnauthenticated). */
export const client = new ApiClient();

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
