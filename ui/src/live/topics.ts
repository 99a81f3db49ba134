// The topics screens subscribe to. Intervals are short enough for a
// console that an operator watches, and long enough for a 2-core appliance
// serving several browsers. Polls are not retried: the next poll is the
// retry, and the screen keeps showing the last answer, marked stale.

import { api, type ClusterStatus, type Event, type Health, type Severity } from '../api';
import { Topic } from './topic';

export const clusterTopic = new Topic<ClusterStatus>('cluster', (signal) => api.cluster({ signal, retry: false }), 5000);

/** Public; the header uses it when the user may not read the cluster. */
export const healthTopic = new Topic<Health>('health', (signal) => api.health({ signal, retry: false }), 5000);

export interface EventSummary {
  total: number;
  /** More events are stored than were counted. */
  truncated: boolean;
  bySeverity: Record<Severity, number>;
  /** Scopes by count, most first ('' is the appliance's own events). */
  byScope: [string, number][];
  /** Events per hour of the last 24 hours, per severity; start of each hour in seconds. */
  hours: number[];
  perHour: Record<Severity, number[]>;
  /** The newest events counted, newest first. */
  latest: Event[];
}

export const severities: readonly Severity[] = ['critical', 'warning', 'info'];

const pageSize = 10000;
const maxPages = 3;

/**
 * Counts events by paging through GET /api/v1/events (oldest first; at
 * most maxPages pages). Issue 11 item 3 brings a query that counts on the
 * appliance; this view then reads that instead.
 */
export async function summarizeEvents(signal: AbortSignal, now = Date.now()): Promise<EventSummary> {
  const hour = 3600 * 1000;
  const firstHour = Math.floor(now / hour) * hour - 23 * hour;
  const s: EventSummary = {
    total: 0,
    truncated: false,
    // unknown: a monitor whose check failed (issue 12); counted, not yet drawn.
    bySeverity: { critical: 0, unknown: 0, warning: 0, info: 0 },
    byScope: [],
    hours: Array.from({ length: 24 }, (_, i) => (firstHour + i * hour) / 1000),
    perHour: {
      critical: new Array<number>(24).fill(0),
      unknown: new Array<number>(24).fill(0),
      warning: new Array<number>(24).fill(0),
      info: new Array<number>(24).fill(0),
    },
    latest: [],
  };
  const scopes = new Map<string, number>();
  let after = 0;
  for (let page = 0; page < maxPages; page++) {
    const events = (await api.events({ after, limit: pageSize }, { signal, retry: false })).events ?? [];
    for (const ev of events) {
      s.total++;
      const sev = ev.severity in s.bySeverity ? ev.severity : 'info';
      s.bySeverity[sev]++;
      scopes.set(ev.scope ?? '', (scopes.get(ev.scope ?? '') ?? 0) + 1);
      const slot = Math.floor((Date.parse(ev.at) - firstHour) / hour);
      if (slot >= 0 && slot < 24) s.perHour[sev][slot] = (s.perHour[sev][slot] ?? 0) + 1;
    }
    s.latest = newest(s.latest.concat(events), 10);
    const last = events[events.length - 1];
    if (events.length < pageSize || last?.id === undefined) break;
    after = last.id;
    s.truncated = page === maxPages - 1;
  }
  s.byScope = [...scopes.entries()].sort((a, b) => b[1] - a[1]);
  return s;
}

/** The summary with one more event (from the live stream). */
export function addEvent(s: EventSummary, ev: Event, now = Date.now()): EventSummary {
  if (s.latest.some((x) => x.uid === ev.uid)) return s;
  const sev = severities.includes(ev.severity) ? ev.severity : 'info';
  const out: EventSummary = {
    ...s,
    total: s.total + 1,
    bySeverity: { ...s.bySeverity, [sev]: s.bySeverity[sev] + 1 },
    perHour: { ...s.perHour, [sev]: [...s.perHour[sev]] },
    latest: newest([ev, ...s.latest], 10),
  };
  const first = s.hours[0];
  const slot = first === undefined ? -1 : Math.floor((Date.parse(ev.at) / 1000 - first) / 3600);
  if (slot >= 0 && slot < 24 && Date.parse(ev.at) <= now + 60_000) out.perHour[sev][slot] = (out.perHour[sev][slot] ?? 0) + 1;
  const scope = ev.scope ?? '';
  const byScope = new Map(s.byScope);
  byScope.set(scope, (byScope.get(scope) ?? 0) + 1);
  out.byScope = [...byScope.entries()].sort((a, b) => b[1] - a[1]);
  return out;
}

/** The n newest events by time, newest first. */
function newest(evs: Event[], n: number): Event[] {
  return evs.sort((a, b) => Date.parse(b.at) - Date.parse(a.at)).slice(0, n);
}

export const eventsTopic = new Topic<EventSummary>('events', (signal) => summarizeEvents(signal), 15000);
