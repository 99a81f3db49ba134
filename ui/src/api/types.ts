// Types of the public REST API's answers, as the Go handlers encode them
// (api/, appliance/ha, appliance/store, appliance/events).
//
// Written by hand until the OpenAPI document (issue 11, item 2) exists;
// then this file is generated from /api/v1/openapi.json and the rest of
// the console keeps importing the same names from here.

/** Every error answer: a message for people and a code for programs. */
export interface ErrorBody {
  error: string;
  code: string;
  /** 503 answers: this appliance's role, and where the active is. */
  role?: Role;
  active_id?: string;
  active_api?: string[];
}

export type Role = 'starting' | 'active' | 'standby' | 'fenced' | 'stale' | 'recovering';

export interface LoginRequest {
  user: string;
  password: string;
  totp?: string;
}

export interface LoginAnswer {
  token: string;
  user: string;
  roles: string[];
}

export interface Me {
  user: string;
  roles: string[];
  /** null: every scope. */
  scopes: string[] | null;
  /** The appliance's time zone (IANA name or abbreviation) and offset. */
  time_zone?: string;
  utc_offset_seconds?: number;
}

export interface Health {
  status: string;
  role: Role;
  node_id: string;
}

export type Severity = 'critical' | 'warning' | 'info';

export interface Event {
  id?: number;
  uid: string;
  /** RFC 3339 */
  at: string;
  severity: Severity;
  kind: string;
  node: string;
  scope?: string;
  message: string;
  attrs?: Record<string, string>;
  /** Where an operator's handling stands; who set it and when. */
  state?: EventState;
  state_by?: string;
  state_at?: string;
  /** How many comments the event has. */
  comments?: number;
}

export interface EventList {
  events: Event[];
  /** The answer was cut: `next` is the query string of the next page. */
  more?: boolean;
  next?: string;
}

export type EventState = 'unconfirmed' | 'confirming' | 'confirmed';

/** GET /api/v1/events filters (all optional; lists are comma-separated). */
export interface EventQuery {
  order?: 'asc' | 'desc';
  after?: number;
  before?: number;
  limit?: number;
  severity?: string;
  state?: string;
  scope?: string;
  node?: string;
  kind?: string;
  q?: string;
  /** RFC 3339 */
  since?: string;
  until?: string;
}

export interface EventComment {
  id: number;
  at: string;
  user: string;
  text: string;
}

export interface EventDetail extends Event {
  comment_list: EventComment[];
}

/** POST /api/v1/events/state: ids, or a filter (the list's parameters). */
export interface StateChange {
  state: EventState;
  ids?: number[];
  filter?: Record<string, string>;
}

export interface StateChanged {
  state: EventState;
  changed: number;
}

export interface PathStatus {
  addr: string;
  up: boolean;
  last_ok?: string;
  rtt_ms: number;
  error?: string;
}

export interface PeerStatus {
  id: string;
  reachable: boolean;
  role?: Role;
  epoch: number;
  applied_index: number;
  cluster_addr: string;
  api_addrs: string[];
  paths: PathStatus[];
}

export interface WitnessStatus {
  mode: string;
  addresses: string[];
  ok: boolean;
  last_ok?: string;
  error?: string;
  holder?: string;
  lease_epoch?: number;
}

export interface StoreServer {
  id: string;
  addr: string;
  voter: boolean;
}

export interface StoreStatus {
  open: boolean;
  leader: boolean;
  leader_id: string;
  leader_addr: string;
  raft_state: string;
  applied_index: number;
  commit_index: number;
  servers: StoreServer[] | null;
}

export interface MergeReport {
  at: string;
  events: number;
  audit: number;
  /** Settings that differ from the pair's: not merged, listed for people. */
  settings?: string[];
}

export interface OldStore {
  name: string;
  path: string;
  set_aside_at: string;
  bytes: number;
  merge?: MergeReport;
}

export interface Promotion {
  epoch: number;
  at: string;
  senior?: boolean;
}

export interface IngestStatus {
  spooled: number;
  spool_bytes: number;
  waiting: number;
  forwarded: number;
  target: string;
  last_error?: string;
}

export interface ClusterStatus {
  node_id: string;
  role: Role;
  reason: string;
  since: string;
  epoch: number;
  mode: string;
  paired: boolean;
  active_id?: string;
  active_api?: string[];
  peer?: PeerStatus;
  witness?: WitnessStatus;
  store: StoreStatus;
  lag_entries: number;
  last_failover?: Event;
  active_work: string[] | null;
  pending_events: number;
  auto_recover: boolean;
  promotion?: Promotion;
  hold_until?: string;
  yielded?: string;
  old_stores: OldStore[] | null;
  ingest?: IngestStatus;
}
