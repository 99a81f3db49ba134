// The status view's arithmetic, kept apart from its rendering so that a
// unit test can check it (tests/unit/monitoring.test.mjs): which rows a
// filter keeps, the node × monitor grid with the worst priority per cell,
// and the scope tree with counts rolled up from the scopes beneath.

import { priorities, worst, type StatusRow, type StatusScope } from '../api/monitors';

/** The scope filter's value for "no scope" ('' is a scope name nobody can type in a URL). */
export const noScope = '~';

export interface Filter {
  /** undefined: every scope; noScope: rows without one; else the scope and those beneath it (a/b under a). */
  scope?: string | undefined;
  /** Priorities kept (empty: all). */
  priorities: readonly string[];
  /** Only stale results. */
  stale: boolean;
  /** Text in the node's or the monitor's name or id. */
  text: string;
}

export function inScope(rowScope: string | undefined, scope: string | undefined): boolean {
  if (scope === undefined) return true;
  const s = rowScope ?? '';
  if (scope === noScope) return s === '';
  return s === scope || s.startsWith(`${scope}/`);
}

export function filterRows(rows: readonly StatusRow[], f: Filter): StatusRow[] {
  const text = f.text.trim().toLowerCase();
  return rows.filter(
    (r) =>
      inScope(r.scope, f.scope) &&
      (f.priorities.length === 0 || f.priorities.includes(r.priority)) &&
      (!f.stale || r.stale === true) &&
      (!text || [r.node, r.node_name, r.monitor, r.monitor_name].some((s) => (s ?? '').toLowerCase().includes(text))),
  );
}

export interface Cell {
  priority: string;
  stale: boolean;
  rows: StatusRow[];
  /** The monitors (ids) in the cell: usually one; several of one name on a node share it. */
  monitors: string[];
}

export interface GridNode {
  id: string;
  name: string;
  scope: string;
  priority: string;
}

export interface GridColumn {
  /** The column's key: the monitors' name. */
  id: string;
  name: string;
  /** The monitors (ids) of this name. */
  monitors: string[];
}

export interface Grid {
  monitors: GridColumn[];
  nodes: GridNode[];
  /** By cellKey(node, column id). */
  cells: Map<string, Cell>;
}

export const cellKey = (node: string, column: string) => `${node}\u0000${column}`;

/** Rank of a priority for sorting, worst (critical) first; unknown names last. */
export function rank(p: string): number {
  const i = (priorities as readonly string[]).indexOf(p);
  return i < 0 ? priorities.length : i;
}

/**
 * The grid of rows: a column per monitor name (a "Ping" on every node is
 * one column, not one per node, so a large inventory stays a few columns
 * wide), one cell per node × column holding its items' rows, coloured by
 * the worst of them. Nodes worst first, then by name, and columns the same
 * way, so problems come to the top left (on a phone, what fits before
 * scrolling sideways).
 */
export function buildGrid(rows: readonly StatusRow[]): Grid {
  const cells = new Map<string, Cell>();
  const columns = new Map<string, GridColumn & { priority: string }>();
  const nodes = new Map<string, GridNode>();
  for (const r of rows) {
    const name = r.monitor_name || r.monitor;
    const col = columns.get(name) ?? { id: name, name, monitors: [], priority: '' };
    if (!col.monitors.includes(r.monitor)) col.monitors.push(r.monitor);
    col.priority = worst([col.priority, r.priority]) || col.priority || r.priority;
    columns.set(name, col);
    const n = nodes.get(r.node) ?? { id: r.node, name: r.node_name || r.node, scope: r.scope ?? '', priority: '' };
    n.priority = worst([n.priority, r.priority]) || n.priority || r.priority;
    nodes.set(r.node, n);
    const k = cellKey(r.node, name);
    const c = cells.get(k) ?? { priority: '', stale: false, rows: [], monitors: [] };
    c.rows.push(r);
    if (!c.monitors.includes(r.monitor)) c.monitors.push(r.monitor);
    c.priority = worst([c.priority, r.priority]) || c.priority || r.priority;
    c.stale = c.stale || r.stale === true;
    cells.set(k, c);
  }
  const byName = (a: { name: string; id: string }, b: { name: string; id: string }) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id);
  return {
    monitors: [...columns.values()].sort((a, b) => rank(a.priority) - rank(b.priority) || byName(a, b)).map(({ id, name, monitors }) => ({ id, name, monitors })),
    nodes: [...nodes.values()].sort((a, b) => rank(a.priority) - rank(b.priority) || byName(a, b)),
    cells,
  };
}

export type Counts = Pick<StatusScope, 'nodes' | 'critical' | 'unknown' | 'warning' | 'info' | 'stale'>;

const zero = (): Counts => ({ nodes: 0, critical: 0, unknown: 0, warning: 0, info: 0, stale: 0 });

function add(a: Counts, b: Counts): void {
  a.nodes += b.nodes;
  a.critical += b.critical;
  a.unknown += b.unknown;
  a.warning += b.warning;
  a.info += b.info;
  a.stale += b.stale;
}

export interface ScopeEntry {
  /** The scope's full name (the filter's value); noScope for rows without one. */
  scope: string;
  /** The last part of the name, shown indented under its parent. */
  label: string;
  depth: number;
  counts: Counts;
}

/**
 * The scope tree, flattened in display order: scopes named a/b sit under
 * a (which appears even if nothing carries exactly a), and each entry's
 * counts include those beneath it. The first entry is every scope.
 */
export function scopeTree(scopes: readonly StatusScope[]): ScopeEntry[] {
  const all: ScopeEntry = { scope: '', label: '', depth: 0, counts: zero() };
  const byName = new Map<string, ScopeEntry>();
  const entry = (name: string): ScopeEntry => {
    let e = byName.get(name);
    if (!e) {
      const parts = name.split('/');
      e = { scope: name, label: parts[parts.length - 1] ?? name, depth: parts.length, counts: zero() };
      byName.set(name, e);
    }
    return e;
  };
  for (const s of scopes) {
    const c: Counts = { nodes: s.nodes, critical: s.critical, unknown: s.unknown, warning: s.warning, info: s.info, stale: s.stale };
    add(all.counts, c);
    if (!s.scope) {
      add(entry(noScope).counts, c);
      entry(noScope).depth = 1;
      continue;
    }
    const parts = s.scope.split('/');
    for (let i = 1; i <= parts.length; i++) add(entry(parts.slice(0, i).join('/')).counts, c);
  }
  const sorted = [...byName.values()].sort((a, b) => (a.scope === noScope ? 1 : b.scope === noScope ? -1 : byParts(a.scope, b.scope)));
  return [all, ...sorted];
}

/** Orders a/b right after a and before a-b or ab: part by part. */
function byParts(a: string, b: string): number {
  const pa = a.split('/');
  const pb = b.split('/');
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i] ?? '';
    const y = pb[i] ?? '';
    if (x !== y) return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}

/** Counts of rows by priority (and stale), for the summary above the grid. */
export function countRows(rows: readonly StatusRow[]): Counts {
  const c = zero();
  c.nodes = new Set(rows.map((r) => r.node)).size;
  // As the appliance's roll-up: a stale row counts as stale only (its priority is no longer known).
  for (const r of rows) {
    if (r.stale) c.stale++;
    else if (r.priority === 'critical' || r.priority === 'unknown' || r.priority === 'warning' || r.priority === 'info') c[r.priority]++;
  }
  return c;
}
