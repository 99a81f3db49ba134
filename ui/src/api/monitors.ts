// The monitoring calls of the status view and the monitor screens
// (issue 12): monitor kinds, monitors, "test now" and the status. They
// live beside index.ts rather than in it so that the parts of issue 12
// built in parallel (notifications, calendars, graphs) do not edit the
// same lines.
//
// The types are generated from the appliance's routes (`make openapi`);
// the names here are the ones the monitoring screens use.

import { client } from './index';
import type { CallOptions } from './client';
import type { Monitor, MonitorInput, MonitorList, MonitorTestAnswer, MonitorDeleted, MonitorKinds, StatusList } from './types.gen';

export type {
  Judgement,
  Monitor,
  MonitorInput,
  MonitorKind,
  MonitorKindField as KindField,
  MonitorTestItem as TestItem,
  MonitorTestResult as TestResult,
  Pattern,
  PatternInput,
  Priority,
  Range,
  RangeInput,
  ScopeRollup as StatusScope,
  StatusList as StatusAnswer,
  StatusRow,
  Thresholds,
  ThresholdsInput,
} from './types.gen';

type Opts = Pick<CallOptions, 'signal' | 'retry'>;

/** Priorities, worst first. */
export const priorities = ['critical', 'unknown', 'warning', 'info'] as const;

const enc = encodeURIComponent;

export const monitorApi = {
  kinds: (o: Opts = {}) => client.get<MonitorKinds>('/api/v1/monitor-kinds', o),
  monitors: (q: { kind?: string; scope?: string; node?: string; after?: string } = {}, o: Opts = {}) =>
    client.get<MonitorList>('/api/v1/monitors', { ...o, query: q }),
  monitor: (id: string, o: Opts = {}) => client.get<Monitor>(`/api/v1/monitors/${enc(id)}`, o),
  /** Creates or replaces the monitor with m's id. */
  put: (m: MonitorInput) => client.post<Monitor>('/api/v1/monitors', m),
  remove: (id: string) => client.delete<MonitorDeleted>(`/api/v1/monitors/${enc(id)}`),
  /** Runs the check once (saved or not) and judges it; nothing is stored. A refusal is an answer: no retry. */
  test: (monitor: MonitorInput, node?: string) =>
    client.post<MonitorTestAnswer>('/api/v1/monitors/test', node ? { monitor, node } : { monitor }, { retry: false }),
  status: (q: { scope?: string; node?: string; monitor?: string; priority?: string } = {}, o: Opts = {}) =>
    client.get<StatusList>('/api/v1/status', { ...o, query: q }),
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
