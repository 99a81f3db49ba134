// The event console's live list: the newest page of events matching a
// filter, kept fresh. Today a Topic polls GET /api/v1/events every 2 s;
// the server-sent events transport (issue 11, item 4) replaces the body
// of newestEvents() (or pushes into the same topic), and the console does
// not change: it only calls newestEvents() and olderEvents().

import { api, type Event, type EventList, type EventQuery } from '../api';
import { Topic } from './topic';

/** Rows a page of the console asks for. */
export const pageSize = 100;

/** The filter of the console, as the list's query parameters. */
export type EventFilter = Omit<EventQuery, 'order' | 'after' | 'before' | 'limit'>;

const topics = new Map<string, Topic<EventList>>();

/**
 * The newest events matching f, newest first, kept fresh while a screen
 * subscribes (useTopic). One topic per filter, so a screen that changes
 * its filter and back finds the last answer at once.
 */
export function newestEvents(f: EventFilter): Topic<EventList> {
  const key = JSON.stringify(f);
  let tp = topics.get(key);
  if (!tp) {
    tp = new Topic<EventList>(`events ${key}`, (signal) =>
      api.eventPage({ ...f, order: 'desc', limit: pageSize }, { signal, retry: false }), 2000);
    if (topics.size > 20) topics.clear();
    topics.set(key, tp);
  }
  return tp;
}

/** The page of events matching f older than the event with id before. */
export function olderEvents(f: EventFilter, before: number): Promise<EventList> {
  return api.eventPage({ ...f, order: 'desc', limit: pageSize, before });
}

/**
 * Merges a fresh newest page into the rows shown: rows in the page's id
 * range are replaced by the page (one that left it no longer matches the
 * filter), older rows are kept, and the result is newest first.
 */
export function mergeNewest(rows: readonly Event[], page: readonly Event[], complete: boolean): Event[] {
  if (page.length === 0) return complete ? [] : rows.slice();
  const low = complete ? -Infinity : Math.min(...page.map((e) => e.id ?? 0));
  const older = rows.filter((e) => (e.id ?? 0) < low);
  return [...page, ...older].sort((a, b) => (b.id ?? 0) - (a.id ?? 0));
}
