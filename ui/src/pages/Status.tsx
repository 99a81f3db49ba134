// The status view (/status): the latest result of every monitor on every
// node of the user's scopes. Scopes on the left with their counts rolled
// up, a node × monitor grid coloured by priority (stale results hatched),
// filters kept in the URL so a view can be bookmarked, and a node's rows
// with message, value and times when it is opened. GET /api/v1/status is
// polled every few seconds (the live stream has no status topic); a new
// event, which a change of priority records, reads it at once.

import { useEffect, useRef } from 'preact/hooks';
import { monitorApi, priorities, type StatusAnswer, type StatusRow } from '../api/monitors';
import { ErrorPanel } from '../components/ErrorPanel';
import { Freshness } from '../components/Freshness';
import { Time } from '../components/Time';
import { Loading } from '../components/bits';
import { PriorityBadge, prioLabel, prioSymbol as symbol } from '../components/monitors/Priority';
import { t } from '../i18n';
import { onLiveEvent } from '../live/stream';
import { Topic, useTopic } from '../live/topic';
import { buildGrid, cellKey, countRows, filterRows, noScope, scopeTree, type Cell, type Counts, type Filter, type Grid } from '../monitoring/grid';
import { isPlainClick, navigate, query } from '../router';
import { formatDateTime } from '../time';
import '../styles/monitors.css';

/** Polls are not retried: the next poll is the retry, and the view keeps the last answer, marked stale. */
export const statusTopic = new Topic<StatusAnswer>('status', (signal) => monitorApi.status({}, { signal, retry: false }), 5000);

function filterOf(q: URLSearchParams): Filter & { node: string } {
  return {
    scope: q.has('scope') ? (q.get('scope') ?? '') : undefined,
    priorities: (q.get('priority') ?? '').split(',').filter((p) => (priorities as readonly string[]).includes(p)),
    stale: q.get('stale') === '1',
    text: q.get('q') ?? '',
    node: q.get('node') ?? '',
  };
}

/**
 * Changes the view's query, replacing the history entry (filters are not
 * pages) and without navigate()'s scroll to the top: opening a node low in
 * a long grid, or typing in the filter, keeps the place.
 */
function setQuery(changes: Record<string, string | undefined>): void {
  const q = new URLSearchParams(query.value);
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined || v === '') q.delete(k);
    else q.set(k, v);
  }
  const s = q.toString();
  history.replaceState(null, '', `/status${s ? `?${s}` : ''}`);
  query.value = new URLSearchParams(location.search);
}

export function StatusPage() {
  const topic = useTopic(statusTopic);
  useEffect(() => {
    // A change of priority records an event: read the status at once, at most every 2 s.
    let last = 0;
    return onLiveEvent(() => {
      if (Date.now() - last < 2000) return;
      last = Date.now();
      statusTopic.refresh();
    });
  }, []);
  const f = filterOf(query.value);
  const data = topic.data.value;
  const err = topic.error.value;
  const rows = data?.rows ?? [];
  const inScope = filterRows(rows, { ...f, priorities: [], stale: false, text: '' });
  const shown = filterRows(rows, f);

  return (
    <div class="page">
      <div class="status-title">
        <h1>{t('status.title')}</h1>
        <Updated topic={topic} />
      </div>
      <Freshness topic={topic} />
      {err !== undefined && !data ? (
        <ErrorPanel error={err} what={t('status.loadFailed')} onRetry={() => topic.refresh()} />
      ) : !data ? (
        <Loading />
      ) : (
        <div class="status-layout">
          <ScopeTree answer={data} selected={f.scope} />
          <div class="status-main">
            <StatusFilters counts={countRows(inScope)} f={f} />
            {data.more && <p class="muted small">{t('status.more')}</p>}
            {rows.length === 0 ? (
              <p class="muted" id="status-empty">
                {t('status.none')}{' '}
                <a href="/monitors" onClick={linkTo('/monitors')}>
                  {t('status.addMonitor')}
                </a>
              </p>
            ) : shown.length === 0 ? (
              <p class="muted" id="status-empty">
                {t('status.noMatch')}
              </p>
            ) : (
              <StatusGrid grid={buildGrid(shown)} open={f.node} />
            )}
            {f.node && <NodeDetail node={f.node} rows={rows.filter((r) => r.node === f.node)} />}
          </div>
        </div>
      )}
    </div>
  );
}

function linkTo(to: string) {
  return (e: MouseEvent) => {
    if (!isPlainClick(e)) return;
    e.preventDefault();
    navigate(to);
  };
}

function Updated({ topic }: { topic: Topic<StatusAnswer> }) {
  const at = topic.updated.value;
  return (
    <p class="muted small status-updated" aria-live="off">
      {at ? t('status.updated', { time: formatDateTime(at).slice(11) }) : ''}{' '}
      <button type="button" class="button small" onClick={() => topic.refresh()} disabled={topic.loading.value}>
        {t('status.refresh')}
      </button>
    </p>
  );
}

/** The counts of one scope as small coloured numbers (only those above zero). */
function CountPills({ c }: { c: Counts }) {
  const parts = (['critical', 'unknown', 'warning', 'info', 'stale'] as const).filter((p) => c[p] > 0);
  return (
    <span class="pills">
      {parts.map((p) => (
        <span key={p} class={`pill prio-${p}`} title={p === 'stale' ? t('status.stale') : prioLabel(p)}>
          <span class="visually-hidden">{p === 'stale' ? t('status.stale') : prioLabel(p)}</span>
          {c[p]}
        </span>
      ))}
    </span>
  );
}

function ScopeTree({ answer, selected }: { answer: StatusAnswer; selected: string | undefined }) {
  const entries = scopeTree(answer.scopes ?? []);
  return (
    <nav class="scope-tree card" aria-labelledby="status-scopes-title">
      <h2 id="status-scopes-title">{t('status.scopes')}</h2>
      <ul>
        {entries.map((e) => {
          const value = e.depth === 0 ? undefined : e.scope;
          const current = value === selected;
          const name = e.depth === 0 ? t('status.allScopes') : e.scope === noScope ? t('status.noScope') : e.label;
          return (
            <li key={e.scope || '*'}>
              <button
                type="button"
                class={`scope-entry depth-${Math.min(e.depth, 5)}`}
                aria-current={current ? 'true' : undefined}
                data-scope={e.scope}
                onClick={() => setQuery({ scope: value, node: undefined })}
              >
                <span class="scope-name">{name}</span>
                <span class="muted small">{e.counts.nodes === 1 ? t('status.oneNode') : t('status.nodesN', { n: e.counts.nodes })}</span>
                <CountPills c={e.counts} />
              </button>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}

/** Priority toggles with the scope's counts (the colour legend too), the stale toggle and a text filter. */
function StatusFilters({ counts, f }: { counts: Counts; f: Filter }) {
  const toggle = (p: string) => {
    const next = f.priorities.includes(p) ? f.priorities.filter((x) => x !== p) : [...f.priorities, p];
    setQuery({ priority: next.join(',') });
  };
  return (
    <div class="status-filters" role="group" aria-label={t('status.filters')}>
      {priorities.map((p) => (
        <button key={p} type="button" id={`status-f-${p}`} class={`prio-toggle prio-${p}`} aria-pressed={f.priorities.includes(p)} onClick={() => toggle(p)}>
          <span class="prio-symbol" aria-hidden="true">
            {symbol[p]}
          </span>
          {prioLabel(p)} <span class="count-n-small">{counts[p]}</span>
        </button>
      ))}
      <button type="button" id="status-f-stale" class="prio-toggle prio-stale" aria-pressed={f.stale} onClick={() => setQuery({ stale: f.stale ? undefined : '1' })}>
        {t('status.stale')} <span class="count-n-small">{counts.stale}</span>
      </button>
      <label class="status-search">
        <span class="visually-hidden">{t('status.search')}</span>
        <input
          id="status-q"
          type="search"
          value={f.text}
          placeholder={t('status.search')}
          autoCapitalize="none"
          spellcheck={false}
          onInput={(e) => setQuery({ q: e.currentTarget.value })}
        />
      </label>
      {(f.priorities.length > 0 || f.stale || f.text) && (
        <button type="button" class="button small" onClick={() => setQuery({ priority: undefined, stale: undefined, q: undefined })}>
          {t('status.clear')}
        </button>
      )}
    </div>
  );
}

function cellText(node: string, monitor: string, c: Cell): string {
  const first = c.rows.find((r) => r.priority === c.priority) ?? c.rows[0];
  const parts = [`${node} · ${monitor}: ${prioLabel(c.priority)}`];
  if (c.stale) parts.push(t('status.staleSince', { time: staleSince(c.rows) }));
  if (first?.message) parts.push(first.message);
  return parts.join(' — ');
}

function staleSince(rows: StatusRow[]): string {
  const times = rows.filter((r) => r.stale && r.expires_at).map((r) => r.expires_at as string);
  const at = times.sort()[0];
  return at ? formatDateTime(new Date(at)) : t('common.unknown');
}

/**
 * Nodes down, monitors across; each cell a button that opens the node.
 * Arrow keys move between cells (Tab leaves the grid), as in a
 * spreadsheet.
 */
/**
 * The most nodes and columns drawn: sorted worst first, what is left out
 * is the healthiest; a scope or a filter shows the rest. (Thousands of
 * rows of buttons would make every poll slow on a phone.)
 */
const maxNodes = 300;
const maxColumns = 60;

function StatusGrid({ grid: all, open }: { grid: Grid; open: string }) {
  const ref = useRef<HTMLTableElement>(null);
  const grid = { ...all, nodes: all.nodes.slice(0, maxNodes), monitors: all.monitors.slice(0, maxColumns) };
  const cut = grid.nodes.length < all.nodes.length || grid.monitors.length < all.monitors.length;
  const onKey = (e: KeyboardEvent) => {
    const moves: Record<string, [number, number]> = { ArrowRight: [0, 1], ArrowLeft: [0, -1], ArrowDown: [1, 0], ArrowUp: [-1, 0] };
    const d = moves[e.key];
    const cell = (e.target as HTMLElement).closest('[data-r]');
    if (!d || !cell) return;
    e.preventDefault();
    // Over empty cells (a monitor not on this node) to the next result.
    let r = Number(cell.getAttribute('data-r'));
    let c = Number(cell.getAttribute('data-c'));
    for (let i = 0; i <= grid.nodes.length + grid.monitors.length; i++) {
      r += d[0];
      c += d[1];
      if (r < 0 || c < 0 || r >= grid.nodes.length || c > grid.monitors.length) return;
      const next = ref.current?.querySelector<HTMLElement>(`[data-r="${r}"][data-c="${c}"]`);
      if (next) {
        next.focus();
        return;
      }
    }
  };
  return (
    <>
      {cut && (
        <p class="muted small" id="status-cut">
          {t('status.cut', { nodes: grid.nodes.length, allNodes: all.nodes.length, monitors: grid.monitors.length, allMonitors: all.monitors.length })}
        </p>
      )}
      <div class="status-grid-wrap">
        <table class="status-grid" ref={ref} onKeyDown={onKey} aria-label={t('status.grid')}>
          <thead>
            <tr>
              <th scope="col">{t('status.node')}</th>
              {grid.monitors.map((m) => (
                <th scope="col" key={m.id} title={m.monitors.join(', ')}>
                  <button type="button" class="linkish monitor-head" onClick={() => setQuery({ q: m.name })} aria-label={t('status.onlyMonitor', { monitor: m.name })}>
                  {m.name}
                </button>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {grid.nodes.map((n, r) => (
              <tr key={n.id} class={n.id === open ? 'open' : undefined}>
                <th scope="row">
                  <button type="button" class={`node-button prio-edge prio-${n.priority}`} title={`${n.name} (${n.id})`} data-r={r} data-c={0} data-node={n.id} aria-expanded={n.id === open} onClick={() => setQuery({ node: n.id === open ? undefined : n.id })}>
                    {n.name}
                  </button>
                </th>
                {grid.monitors.map((m, c) => {
                  const cell = grid.cells.get(cellKey(n.id, m.id));
                  if (!cell) return <td key={m.id} class="cell none" />;
                  const label = cellText(n.name, m.name, cell);
                  return (
                    <td key={m.id} class={`cell prio-${cell.priority}${cell.stale ? ' stale' : ''}`} data-monitor={cell.monitors.join(' ')} data-priority={cell.priority}>
                      <button type="button" data-r={r} data-c={c + 1} aria-label={label} title={label} onClick={() => setQuery({ node: n.id })}>
                        <span aria-hidden="true">{symbol[cell.priority] ?? '·'}</span>
                      </button>
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

/** A numeric value has a series (the metrics' /graphs screen, issue 12). */
const graphable = (r: StatusRow) => r.value !== '' && Number.isFinite(Number.parseFloat(r.value));

function graphPath(r: StatusRow): string {
  const q = new URLSearchParams({ monitor: r.monitor, node: r.node });
  if (r.item) q.set('item', r.item);
  return `/graphs?${q.toString()}`;
}

function nodeButton(node: string): HTMLElement | null {
  return document.querySelector(`.node-button[data-node="${CSS.escape(node)}"]`);
}

/** One node's rows, worst first: monitor, item, priority, message, value, when checked, stale since. */
function NodeDetail({ node, rows }: { node: string; rows: StatusRow[] }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    setTimeout(() => heading.current?.focus(), 0);
  }, [node]);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape') return;
      setQuery({ node: undefined });
      setTimeout(() => nodeButton(node)?.focus(), 0);
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [node]);
  const sorted = [...rows].sort((a, b) => priorities.indexOf(a.priority as never) - priorities.indexOf(b.priority as never) || (a.monitor_name ?? a.monitor).localeCompare(b.monitor_name ?? b.monitor));
  const name = rows[0]?.node_name || node;
  return (
    <section class="card node-detail" id="status-node" aria-labelledby="status-node-title">
      <div class="node-detail-head">
        <h2 id="status-node-title" tabIndex={-1} ref={heading}>
          {t('status.nodeTitle', { node: name })} <span class="muted small">({node})</span>
        </h2>
        <button type="button" class="button small" onClick={() => setQuery({ node: undefined })}>
          {t('status.close')}
        </button>
      </div>
      {rows.length === 0 ? (
        <p class="muted">{t('status.nodeNone')}</p>
      ) : (
        <table class="table stack">
          <thead>
            <tr>
              <th scope="col">{t('status.monitor')}</th>
              <th scope="col">{t('status.item')}</th>
              <th scope="col">{t('status.priority')}</th>
              <th scope="col">{t('status.message')}</th>
              <th scope="col">{t('status.value')}</th>
              <th scope="col">{t('status.checked')}</th>
            </tr>
          </thead>
          <tbody>
            {sorted.map((r) => (
              <tr key={`${r.monitor}/${r.item ?? ''}`} class={r.stale ? 'stale-row' : undefined}>
                <td data-label={t('status.monitor')}>
                  <a href={`/monitors?edit=${encodeURIComponent(r.monitor)}`} onClick={linkTo(`/monitors?edit=${encodeURIComponent(r.monitor)}`)}>
                    {r.monitor_name || r.monitor}
                  </a>
                  {r.kind && <span class="muted small"> ({r.kind})</span>}
                </td>
                <td data-label={t('status.item')}>{r.item || <span class="muted">—</span>}</td>
                <td data-label={t('status.priority')}>
                  <PriorityBadge p={r.priority} />
                  {r.stale && (
                    <span class="badge prio-stale">
                      {t('status.staleSince', { time: r.expires_at ? formatDateTime(new Date(r.expires_at)) : t('common.unknown') })}
                    </span>
                  )}
                </td>
                <td data-label={t('status.message')} class="message">
                  {r.message}
                </td>
                <td data-label={t('status.value')} class="num">
                  {r.value}
                  {graphable(r) && (
                    <>
                      {' '}
                      <a href={graphPath(r)} onClick={linkTo(graphPath(r))} class="small" aria-label={t('status.graphOf', { monitor: r.monitor_name || r.monitor, node: r.node_name || r.node })}>
                        {t('status.graph')}
                      </a>
                    </>
                  )}
                </td>
                <td data-label={t('status.checked')}>
                  <Time at={r.checked_at} ago />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
