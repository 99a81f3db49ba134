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

// ---- message search, rules, inventory, administration, audit ----

/** A list answer the appliance cut: `next` is the query string of the next page. */
export interface Paged {
  more?: boolean;
  next?: string;
}

export interface SyslogMessage {
  id: number;
  received_at: string;
  source: string;
  transport: string;
  format: string;
  facility: number;
  severity: number;
  /** The sender's, or the receive time when the line had none. */
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

export interface Varbind {
  oid: string;
  name?: string;
  type: string;
  value: string;
}

export interface StoredTrap {
  id: number;
  received_at: string;
  source: string;
  scope: string;
  node: string;
  version: string;
  pdu: string;
  user?: string;
  trap_oid: string;
  trap_name: string;
  uptime: number;
  varbinds: Varbind[] | null;
  text: string;
  event_uid?: string;
}

export interface StoredCustom {
  id: number;
  received_at: string;
  source: string;
  scope: string;
  node: string;
  sender: string;
  key: string;
  message: string;
  attrs?: Record<string, string>;
  event_uid?: string;
}

export interface SyslogList extends Paged {
  messages: SyslogMessage[];
}
export interface TrapList extends Paged {
  traps: StoredTrap[];
}
export interface CustomList extends Paged {
  events: StoredCustom[];
}

export interface MonitorRule {
  id: string;
  name: string;
  scope: string;
  position: number;
  enabled: boolean;
  kind: 'syslog' | 'trap' | 'custom';
  facilities?: number[];
  max_severity?: number;
  host?: string;
  app?: string;
  pattern?: string;
  keywords?: string[];
  exclude?: string;
  trap_oid?: string;
  action: 'notify' | 'drop';
  priority?: string;
  template?: string;
  owner_role?: string;
}

export interface NodeSNMP {
  version: string;
  port?: number;
  user?: string;
  security_level?: string;
  auth_protocol?: string;
  auth_credential?: string;
  priv_protocol?: string;
  priv_credential?: string;
  community_credential?: string;
}

export interface InventoryNode {
  id: string;
  name: string;
  address: string;
  scope: string;
  owner_role?: string;
  snmp?: NodeSNMP;
}

export interface Credential {
  name: string;
  kind: string;
  username?: string;
  scope?: string;
  secret_set: boolean;
  updated_at: string;
}

export interface UserInfo {
  name: string;
  roles: string[] | null;
  disabled: boolean;
}

/** A role of users (not an appliance's HA role). */
export interface AccessRole {
  name: string;
  privileges: Record<string, string[]>;
  scopes: string[] | null;
}

export interface AuditEntry {
  seq: number;
  at: string;
  user: string;
  source: string;
  user_agent: string;
  action: string;
  object: string;
  result: string;
  detail?: string;
  prev_hash: string;
  hash: string;
}

export interface AuditList extends Paged {
  entries: AuditEntry[];
}

export interface TotpEnrolment {
  secret: string;
  otpauth_uri: string;
}

/** A scope the caller sees and how many objects carry it (GET /api/v1/scopes). */
export interface ScopeUse {
  name: string;
  nodes: number;
  rules: number;
  credentials: number;
}

/** One of the caller's API tokens (GET /api/v1/tokens): never the secret. */
export interface TokenInfo {
  id: string;
  name: string;
  created_at: string;
  expires_at: string;
  source: string;
  roles?: string[];
}
