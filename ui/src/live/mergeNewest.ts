// How the event console's rows follow a live list (no imports but types,
// so tests/unit/merge.test.mjs compiles it alone).

import type { Event } from '../api/types';

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
