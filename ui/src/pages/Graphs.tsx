// Graphs of numeric monitor results: pick a monitor, its nodes and items
// (several lines per chart), a range (1 h, 6 h, 24 h, 7 d or custom);
// drag across the chart to zoom in, "Reset zoom" to go back. What is shown
// is in the address (monitor, node, item, range, from, to), so a graph can
// be bookmarked and other screens link to it (/graphs?monitor=…&node=…).

import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, type MetricKey } from '../api';
import { MetricGraph } from '../charts/MetricGraph';
import { ErrorPanel } from '../components/ErrorPanel';
import { Check, Input, Select } from '../components/Inputs';
import { Card, Loading } from '../components/bits';
import { rfc3339 } from '../forms';
import { t } from '../i18n';
import { navigate, query } from '../router';
import '../styles/graphs.css';

const ranges = ['1h', '6h', '24h', '7d', 'custom'] as const;
type RangeName = (typeof ranges)[number];
const rangeMs: Record<Exclude<RangeName, 'custom'>, number> = { '1h': 3600e3, '6h': 6 * 3600e3, '24h': 24 * 3600e3, '7d': 7 * 24 * 3600e3 };

interface View {
  monitor: string;
  nodes: string[];
  items: string[];
  range: RangeName;
  from?: number; // custom range or zoom, unix ms
  to?: number;
}

function list(v: string | null): string[] {
  return (v ?? '').split(',').filter(Boolean);
}

export function viewOf(q: URLSearchParams): View {
  const r = q.get('range') as RangeName | null;
  const n = (k: string) => {
    const v = Number(q.get(k));
    return q.get(k) && Number.isFinite(v) ? v : undefined;
  };
  return { monitor: q.get('monitor') ?? '', nodes: list(q.get('node')), items: list(q.get('item')), range: r && ranges.includes(r) ? r : '1h', from: n('from'), to: n('to') };
}

export function hrefOf(v: View): string {
  const p = new URLSearchParams();
  if (v.monitor) p.set('monitor', v.monitor);
  if (v.nodes.length) p.set('node', v.nodes.join(','));
  if (v.items.length) p.set('item', v.items.join(','));
  p.set('range', v.range);
  if (v.from !== undefined && v.to !== undefined) {
    p.set('from', String(Math.round(v.from)));
    p.set('to', String(Math.round(v.to)));
  }
  return `/graphs?${p.toString()}`;
}

/** A local "YYYY-MM-DDTHH:MM" for a datetime-local input. */
function local(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60e3);
  return d.toISOString().slice(0, 16);
}

export function GraphsPage() {
  const view = viewOf(query.value);
  const [all, setAll] = useState<MetricKey[] | undefined>(undefined);
  const [failed, setFailed] = useState<unknown>(undefined);
  const [tries, setTries] = useState(0);
  const [custom, setCustom] = useState({ from: '', to: '' });
  const [customError, setCustomError] = useState<string | undefined>(undefined);
  // The end of a preset range is fixed when it is picked, so a re-render does not move it.
  const [now, setNow] = useState(Date.now());
  const go = (v: Partial<View>) => navigate(hrefOf({ ...view, ...v }), { replace: true });

  useEffect(() => {
    setFailed(undefined);
    api.metricSeries(undefined).then((a) => setAll(a.series ?? []), setFailed);
  }, [tries]);

  const monitors = useMemo(() => [...new Set((all ?? []).map((k) => k.monitor))], [all]);
  const mine = (all ?? []).filter((k) => k.monitor === view.monitor);
  const nodes = [...new Set(mine.map((k) => k.node))];
  const items = [...new Set(mine.map((k) => k.item))];

  useEffect(() => {
    // No monitor chosen: the first one, with its first node.
    if (!view.monitor && monitors.length) {
      const first = (all ?? []).find((k) => k.monitor === monitors[0]);
      go({ monitor: monitors[0], nodes: first ? [first.node] : [] });
    }
  }, [monitors.join('\n')]);

  if (failed) return <ErrorPanel error={failed} what={t('graphs.failed')} onRetry={() => setTries(tries + 1)} />;
  if (!all) return <Loading />;

  const zoomed = view.from !== undefined && view.to !== undefined && view.range !== 'custom';
  const to = view.to ?? now;
  const from = view.from ?? (view.range === 'custom' ? to - rangeMs['1h'] : to - rangeMs[view.range]);
  const toggle = (xs: string[], x: string, on: boolean) => (on ? [...xs, x] : xs.filter((y) => y !== x));
  const pickRange = (r: RangeName) => {
    setNow(Date.now());
    if (r === 'custom') {
      setCustom({ from: local(from), to: local(to) });
      go({ range: r, from, to });
    } else go({ range: r, from: undefined, to: undefined });
  };
  const applyCustom = (e: Event) => {
    e.preventDefault();
    const f = rfc3339(custom.from);
    const u = rfc3339(custom.to);
    if (!f || !u || Date.parse(f) >= Date.parse(u)) {
      setCustomError(t('graphs.customBad'));
      return;
    }
    setCustomError(undefined);
    go({ from: Date.parse(f), to: Date.parse(u) });
  };

  return (
    <div class="page graphs">
      <h1>{t('graphs.title')}</h1>
      {monitors.length === 0 ? (
        <p class="muted" id="graphs-empty">
          {t('graphs.none')}
        </p>
      ) : (
        <>
          <form class="filters graph-picks" noValidate aria-label={t('graphs.picks')} onSubmit={(e) => e.preventDefault()}>
            <Select
              id="graph-monitor"
              label={t('graphs.monitor')}
              value={view.monitor}
              options={monitors.map((m) => [m, m])}
              onValue={(m) => go({ monitor: m, nodes: [], items: [], from: undefined, to: undefined })}
            />
            <fieldset class="graph-choice" id="graph-nodes">
              <legend>{t('graphs.nodes')}</legend>
              {nodes.map((n) => (
                <Check key={n} id={`graph-node-${n}`} label={n} checked={view.nodes.includes(n)} onChecked={(on) => go({ nodes: toggle(view.nodes, n, on) })} />
              ))}
            </fieldset>
            {(items.length > 1 || items[0]) && (
              <fieldset class="graph-choice" id="graph-items">
                <legend>{t('graphs.items')}</legend>
                {items.map((i) => (
                  <Check key={i} id={`graph-item-${i || 'none'}`} label={i || '—'} checked={view.items.includes(i)} onChecked={(on) => go({ items: toggle(view.items, i, on) })} />
                ))}
              </fieldset>
            )}
          </form>
          <div class="graph-ranges" role="group" aria-label={t('graphs.range')}>
            {ranges.map((r) => (
              <button key={r} type="button" id={`graph-range-${r}`} class={view.range === r ? 'button small primary' : 'button small'} aria-pressed={view.range === r} onClick={() => pickRange(r)}>
                {t(`graphs.range.${r}`)}
              </button>
            ))}
            {zoomed && (
              <button type="button" id="graph-reset" class="button small" onClick={() => go({ from: undefined, to: undefined })}>
                {t('graphs.reset')}
              </button>
            )}
          </div>
          {view.range === 'custom' && (
            <form class="filters graph-custom" noValidate onSubmit={applyCustom} aria-label={t('graphs.range.custom')}>
              <Input id="graph-from" type="datetime-local" label={t('graphs.from')} value={custom.from} onValue={(v) => setCustom({ ...custom, from: v })} error={customError} />
              <Input id="graph-to" type="datetime-local" label={t('graphs.to')} value={custom.to} onValue={(v) => setCustom({ ...custom, to: v })} />
              <div class="form-actions">
                <button type="submit" class="button primary" id="graph-apply">
                  {t('graphs.apply')}
                </button>
              </div>
            </form>
          )}
          <Card title={view.monitor || t('graphs.title')} id="graph-card" wide>
            {view.nodes.length === 0 ? (
              <p class="muted">{t('graphs.pickNode')}</p>
            ) : (
              <MetricGraph monitor={view.monitor} nodes={view.nodes} items={view.items} from={from} to={to} onZoom={(f, u) => go({ from: f, to: u })} />
            )}
            <p class="muted graph-hint">{t('graphs.zoomHint')}</p>
          </Card>
        </>
      )}
    </div>
  );
}
