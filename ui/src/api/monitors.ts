// The monitoring calls of the status view and the monitor screens
// (issue 12): monitor kinds, monitors, "test now" and the status. They
// live beside index.ts rather than in it so that the parts of issue 12
// built in parallel (notifications, calendars, graphs) do not edit the
// same lines.
//
// The types follow the contract of issue 12 (the Monitor JSON and the
// REST shapes); they are written here until `make openapi` generates them
// from the appliance's routes, and then re-export the generated ones.

import { client } from './index';
import type { CallOptions } from './client';

type Opts = Pick<CallOptions, 'signal' | 'retry'>;

/** Priorities, worst first. */
export const priorities = ['critical', 'unknown', 'warning', 'info'] as const;
export type Priority = (typeof priorities)[number];

/** One parameter of a kind, as the console draws it. */
export interface KindField {
  name: string;
  type: 'string' | 'text' | 'int' | 'number' | 'bool' | 'duration' | 'select' | 'credential' | 'list' | 'json' | string;
  label: string;
  help?: string;
  required?: boolean;
  /** The value used when the field is omitted (JSON). */
  default?: unknown;
  options?: string[] | null;
}

export interface MonitorKind {
  name: string;
  label: string;
  value: 'numeric' | 'string' | 'truth' | string;
  where: 'appliance' | 'agent' | string;
  per_item?: boolean;
  fields: KindField[] | null;
}

export interface Range {
  min?: number | null;
  max?: number | null;
}

export interface Thresholds {
  info?: Range;
  warning?: Range;
}

export interface Pattern {
  match: string;
  priority: string;
  ignore_case?: boolean;
  exclude?: boolean;
  message?: string;
}

export interface Judgement {
  numeric?: Thresholds | null;
  items?: Record<string, Thresholds> | null;
  patterns?: Pattern[] | null;
  truth?: Record<string, string> | null;
  change_amount?: boolean;
  failure?: string;
}

export interface Monitor {
  id: string;
  name: string;
  kind: string;
  node?: string;
  scope?: string;
  owner_role?: string;
  interval: string;
  timeout?: string;
  calendar?: string;
  enabled: boolean;
  params?: Record<string, unknown> | null;
  judgement?: Judgement | null;
  notify?: string[] | null;
  collect?: boolean;
}

export interface TestItem {
  key?: string;
  number?: number | null;
  text?: string | null;
  bool?: boolean | null;
  unit?: string;
  counter?: boolean;
  error?: string;
  priority?: string;
}

export interface TestResult {
  node: string;
  node_name?: string;
  priority: string;
  message?: string;
  items?: TestItem[] | null;
  raw?: string;
  error?: string;
  duration_ms?: number;
}

export interface StatusRow {
  monitor: string;
  monitor_name?: string;
  kind?: string;
  node: string;
  node_name?: string;
  scope?: string;
  item?: string;
  priority: string;
  message?: string;
  value?: string;
  checked_at?: string;
  expires_at?: string;
  stale?: boolean;
}

export interface StatusScope {
  scope: string;
  nodes: number;
  critical: number;
  unknown: number;
  warning: number;
  info: number;
  stale: number;
}

export interface StatusAnswer {
  rows: StatusRow[] | null;
  scopes: StatusScope[] | null;
}

const enc = encodeURIComponent;

export const monitorApi = {
  kinds: (o: Opts = {}) => client.get<{ kinds: MonitorKind[] | null }>('/api/v1/monitor-kinds', o),
  monitors: (q: { kind?: string; scope?: string; node?: string } = {}, o: Opts = {}) =>
    client.get<{ monitors: Monitor[] | null; more?: boolean }>('/api/v1/monitors', { ...o, query: q }),
  monitor: (id: string, o: Opts = {}) => client.get<Monitor>(`/api/v1/monitors/${enc(id)}`, o),
  /** Creates or replaces the monitor with m's id. */
  put: (m: Monitor) => client.post<Monitor>('/api/v1/monitors', m),
  remove: (id: string) => client.delete<unknown>(`/api/v1/monitors/${enc(id)}`),
  /** Runs the check once (saved or not) and judges it; nothing is stored. A refusal is an answer: no retry. */
  test: (monitor: Monitor, node?: string) =>
    client.post<{ results: TestResult[] | null }>('/api/v1/monitors/test', node ? { monitor, node } : { monitor }, { retry: false }),
  status: (q: { scope?: string; node?: string; monitor?: string; priority?: string } = {}, o: Opts = {}) =>
    client.get<StatusAnswer>('/api/v1/status', { ...o, query: q }),
};

/** The worst of priorities (critical, unknown, warning, info); '' for none. */
export function worst(ps: readonly string[]): string {
  let best = '';
  let at = Infinity;
  for (const p of ps) {
    const i = (priorities as readonly string[]).indexOf(p);
    if (i >= 0 && i < at) {
      at = i;
      best = p;
    }
  }
  return best;
}
