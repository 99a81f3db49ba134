// A graph of a monitor's series over a time range: reads the series and
// the monitor's thresholds (GET /api/v1/metrics), and draws them with
// MetricsChart, whose code (uPlot) loads on first use. The graphs screen
// uses it, and any screen may embed it (the status view's drill-down):
//   <MetricGraph monitor="web-1" nodes={['n1']} items={[]} from={ms} to={ms} onZoom={…} />

import { useEffect, useState } from 'preact/hooks';
import { api, type MetricsAnswer } from '../api';
import { ErrorPanel } from '../components/ErrorPanel';
import { Loading, num } from '../components/bits';
import { t, tOr } from '../i18n';
import type { ChartSeries, MetricsChart, ThresholdLine } from './MetricsChart';

type Chart = typeof MetricsChart;

interface Range {
  min?: number | null;
  max?: number | null;
}
interface Numeric {
  info?: Range;
  warning?: Range;
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return v && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
}

/**
 * The threshold lines of a judgement (the monitor JSON's "judgement", or
 * the monitor itself): beyond info's range a result is warning, beyond
 * warning's critical. An item's own thresholds win when one item is shown.
 */
export function thresholdLines(j: unknown, item: string | undefined): ThresholdLine[] {
  const root = obj(obj(j)?.judgement) ?? obj(j);
  const items = obj(root?.items);
  const n = (obj(item !== undefined ? items?.[item] : undefined) ?? obj(root?.numeric)) as Numeric | undefined;
  if (!n) return [];
  const out: ThresholdLine[] = [];
  const add = (v: number | null | undefined, priority: ThresholdLine['priority'], side: ThresholdLine['side']) => {
    if (typeof v === 'number' && Number.isFinite(v)) out.push({ value: v, priority, side });
  };
  add(n.info?.max, 'warning', 'above');
  add(n.info?.min, 'warning', 'below');
  add(n.warning?.max, 'critical', 'above');
  add(n.warning?.min, 'critical', 'below');
  return out;
}

function label(s: { node: string; item: string }, multiItem: boolean): string {
  return multiItem || s.item ? `${s.node} · ${s.item || '—'}` : s.node;
}

export interface GraphProps {
  monitor: string;
  nodes: string[];
  items: string[];
  from: number;
  to: number;
  onZoom: (fromMs: number, toMs: number) => void;
}

/** Points asked per series: enough for 100,000 on one chart, fewer with more lines. */
export function pointsPerSeries(lines: number): number {
  return Math.min(100000, Math.max(1000, Math.floor(200000 / Math.max(1, lines))));
}

export function MetricGraph({ monitor, nodes, items, from, to, onZoom }: GraphProps) {
  const [chart, setChart] = useState<{ C: Chart } | undefined>(undefined);
  const [answer, setAnswer] = useState<MetricsAnswer | undefined>(undefined);
  // The range the answer is for (a new range shows the old answer until its own arrives).
  const [answered, setAnswered] = useState({ from: 0, to: 0 });
  const [lines, setLines] = useState<ThresholdLine[]>([]);
  const [failed, setFailed] = useState<unknown>(undefined);
  const [tries, setTries] = useState(0);
  const nodeList = nodes.join(',');
  const itemList = items.join(',');

  useEffect(() => {
    import('./MetricsChart').then((m) => setChart({ C: m.MetricsChart }), setFailed);
  }, []);

  useEffect(() => {
    const ctl = new AbortController();
    setAnswer(undefined);
    setFailed(undefined);
    const guess = nodes.length ? nodes.length * Math.max(1, items.length) : 10;
    api
      .metrics(
        { monitor, node: nodeList || undefined, item: itemList || undefined, from: Math.floor(from), to: Math.ceil(to), points: pointsPerSeries(guess) },
        { signal: ctl.signal },
      )
      .then((a) => {
        const one = items.length === 1 ? items[0] : (a.series ?? []).every((s) => s.item === a.series?.[0]?.item) ? a.series?.[0]?.item : undefined;
        if (ctl.signal.aborted) return;
        setLines(thresholdLines(a.thresholds, one));
        setAnswer(a);
        setAnswered({ from: Math.floor(from), to: Math.ceil(to) });
      }, (e: unknown) => {
        if (!ctl.signal.aborted) setFailed(e);
      });
    return () => ctl.abort();
    // nodes and items are compared by their joined lists.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [monitor, nodeList, itemList, from, to, tries]);

  const [series, setSeries] = useState<ChartSeries[]>([]);
  useEffect(() => {
    if (!answer) return;
    const ss = answer.series ?? [];
    const multi = new Set(ss.map((s) => s.item)).size > 1;
    setSeries(ss.map((s) => ({ label: label(s, multi), points: (s.points ?? []).filter((p): p is number[] => p !== null) })));
  }, [answer]);

  if (failed) return <ErrorPanel error={failed} what={t('graphs.failed')} onRetry={() => setTries(tries + 1)} />;
  if (!chart || !answer) return <Loading />;
  const ss = answer.series ?? [];
  const total = ss.reduce((n, s) => n + (s.points?.length ?? 0), 0);
  const res = ss[0]?.resolution ?? 'raw';
  return (
    <div class="metric-graph" data-points={total} data-resolution={res} data-from={answered.from} data-to={answered.to}>
      <chart.C series={series} thresholds={lines} onZoom={onZoom} label={t('graphs.chartLabel')} />
      <p class="muted graph-meta" id="graph-meta">
        {t('graphs.meta', { points: num(total), series: num(ss.length), resolution: tOr(`graphs.res.${res}`, res) })}
        {lines.length > 0 && ` · ${t('graphs.thresholdsShown')}`}
      </p>
    </div>
  );
}
