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
}

export interface EventList {
  events: Event[];
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

/** A stored syslog message (GET /api/v1/syslog, and the live stream's "message"). */
export interface SyslogMessage {
  id: number;
  received_at: string;
  source: string;
  transport: string;
  format: string;
  facility: number;
  severity: number;
  timestamp: string;
  hostname: string;
  app_name: string;
  proc_id: string;
  msg_id: string;
  structured_data?: string;
  text: string;
  partial?: string[];
  raw: string;
  raw_base64?: string;
  origin: string;
  scope: string;
  node: string;
  event_uid?: string;
}

/** POST /api/v1/session/failover: what the console needs to go on at the peer. */
export interface SessionFailover {
  /** The session as a bearer token (kept in memory only). */
  token: string;
  /** The peer appliance's console origins (https://host:port). */
  peer_origins: string[];
}
