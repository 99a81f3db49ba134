// Lines of monitor series over time (uPlot, on a canvas): several series
// per chart, the monitor's thresholds as lines over tinted bands, and
// zoom by dragging across the time axis (the caller reads the range
// again, at a finer resolution).

import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { lang, t } from '../i18n';
import { contrast, effectiveTheme } from '../prefs';

/**
 * One line: a label and its points, oldest first: [unix ms, value], or
 * [unix ms, average, min, max] for a point that stands for several
 * results (drawn as a band around the line).
 */
export interface ChartSeries {
  label: string;
  points: number[][];
}

/** A threshold: the value, the priority a result beyond it gets, and which side is beyond. */
export interface ThresholdLine {
  value: number;
  priority: 'warning' | 'critical';
  side: 'above' | 'below';
}

const height = 320;
const palette = 8;

/** The series' times joined into one axis (seconds), null where a series has no point. */
export function align(series: ChartSeries[]): uPlot.AlignedData {
  const tables = series.map((s) => {
    const xs = new Float64Array(s.points.length);
    const ys = new Float64Array(s.points.length);
    s.points.forEach((p, i) => {
      xs[i] = (p[0] ?? 0) / 1000;
      ys[i] = p[1] ?? NaN;
    });
    return [xs, ys] as uPlot.AlignedData;
  });
  if (tables.length === 0) return [[]];
  if (tables.length === 1) return tables[0] as uPlot.AlignedData;
  return uPlot.join(tables);
}

/** An axis label: with seconds for a few minutes of data, with the date for days. */
function fmtTime(s: number, span: number): string {
  const d = new Date(s * 1000);
  const two = (n: number) => String(n).padStart(2, '0');
  const hm = `${two(d.getHours())}:${two(d.getMinutes())}`;
  if (span < 600) return `${hm}:${two(d.getSeconds())}`;
  return span > 2 * 86400 ? `${d.getMonth() + 1}/${d.getDate()} ${hm}` : hm;
}

function drawThresholds(u: uPlot, lines: ThresholdLine[], colour: (p: string) => string, fill: (p: string) => string) {
  const { ctx, bbox } = u;
  ctx.save();
  for (const l of lines) {
    const y = u.valToPos(l.value, 'y', true);
    if (!Number.isFinite(y)) continue;
    // The band beyond the threshold is tinted with its priority.
    const edge = Math.max(bbox.top, Math.min(y, bbox.top + bbox.height));
    ctx.fillStyle = fill(l.priority);
    if (l.side === 'above') ctx.fillRect(bbox.left, bbox.top, bbox.width, edge - bbox.top);
    else ctx.fillRect(bbox.left, edge, bbox.width, bbox.top + bbox.height - edge);
    if (y < bbox.top || y > bbox.top + bbox.height) continue;
    ctx.strokeStyle = colour(l.priority);
    ctx.lineWidth = 2 * devicePixelRatio;
    ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
    ctx.beginPath();
    ctx.moveTo(bbox.left, y);
    ctx.lineTo(bbox.left + bbox.width, y);
    ctx.stroke();
  }
  ctx.restore();
}

/** The min–max band of each line whose points carry one, under the lines. */
function drawBands(u: uPlot, series: ChartSeries[], banded: boolean[], colour: (i: number) => string) {
  const { ctx, bbox } = u;
  ctx.save();
  ctx.beginPath();
  ctx.rect(bbox.left, bbox.top, bbox.width, bbox.height);
  ctx.clip();
  ctx.globalAlpha = 0.22;
  series.forEach((s, i) => {
    if (!banded[i] || u.series[i + 1]?.show === false || s.points.length === 0) return;
    const x = (p: number[]) => u.valToPos((p[0] ?? 0) / 1000, 'x', true);
    const y = (v: number | undefined, p: number[]) => u.valToPos(v ?? p[1] ?? 0, 'y', true);
    ctx.fillStyle = colour(i);
    ctx.beginPath();
    s.points.forEach((p, j) => (j === 0 ? ctx.moveTo(x(p), y(p[3], p)) : ctx.lineTo(x(p), y(p[3], p))));
    for (let j = s.points.length - 1; j >= 0; j--) {
      const p = s.points[j] ?? [];
      ctx.lineTo(x(p), y(p[2], p));
    }
    ctx.closePath();
    ctx.fill();
  });
  ctx.restore();
}

/**
 * The chart. `onZoom(fromMs, toMs)` is called when the user drags across
 * it; `data-render-ms` on the element says how long the last drawing took
 * (the browser tests read it).
 */
export function MetricsChart({
  series,
  thresholds,
  onZoom,
  label,
}: {
  series: ChartSeries[];
  thresholds: ThresholdLine[];
  onZoom: (fromMs: number, toMs: number) => void;
  label: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const zoom = useRef(onZoom);
  zoom.current = onZoom;
  const theme = effectiveTheme();
  const hc = contrast.value;
  const l = lang.value;

  useEffect(() => {
    const el = box.current;
    if (!el) return undefined;
    const started = performance.now();
    el.removeAttribute('data-render-ms');
    const css = getComputedStyle(el);
    const v = (name: string) => css.getPropertyValue(name).trim();
    const axis: uPlot.Axis = { stroke: v('--fg-muted'), grid: { stroke: v('--grid'), width: 1 }, ticks: { stroke: v('--grid'), width: 1 } };
    const data = align(series);
    const span = data[0].length > 1 ? Number(data[0][data[0].length - 1]) - Number(data[0][0]) : 0;
    // Thresholds and bands widen the y range so they are always in view.
    const banded = series.map((s) => s.points.some((p) => p.length >= 4));
    const tvals = thresholds.map((x) => x.value);
    series.forEach((s, i) => {
      if (!banded[i]) return;
      let lo = Infinity;
      let hi = -Infinity;
      for (const p of s.points) {
        lo = Math.min(lo, p[2] ?? p[1] ?? lo);
        hi = Math.max(hi, p[3] ?? p[1] ?? hi);
      }
      if (Number.isFinite(lo)) tvals.push(lo, hi);
    });
    const opts: uPlot.Options = {
      width: Math.max(el.clientWidth, 200),
      height,
      scales: {
        x: { time: true },
        y: {
          range: (_u, min, max) => {
            const lo = Math.min(min, ...tvals);
            const hi = Math.max(max, ...tvals);
            const pad = (hi - lo) * 0.05 || 1;
            return [lo - pad, hi + pad];
          },
        },
      },
      series: [
        { label: t('graphs.time'), value: (_u, s) => (s == null ? '' : new Date(s * 1000).toLocaleString(l)) },
        ...series.map((s, i) => ({
          label: s.label,
          stroke: v(`--series-${(i % palette) + 1}`),
          width: hc === 'high' ? 2.5 : 1.5,
          spanGaps: true,
          points: { show: false },
        })),
      ],
      axes: [
        { ...axis, values: (_u, splits) => splits.map((s) => fmtTime(s, span)) },
        { ...axis, size: 60 },
      ],
      cursor: { drag: { x: true, y: false, setScale: false } },
      hooks: {
        drawClear: [
          (u) => {
            drawThresholds(u, thresholds, (p) => v(`--sev-${p}`), (p) => v(`--sev-${p}-fill`));
            drawBands(u, series, banded, (i) => v(`--series-${(i % palette) + 1}`));
          },
        ],
        draw: [
          () => {
            if (!el.hasAttribute('data-render-ms')) el.setAttribute('data-render-ms', (performance.now() - started).toFixed(1));
          },
        ],
        setSelect: [
          (u) => {
            if (u.select.width < 4) return;
            const from = u.posToVal(u.select.left, 'x') * 1000;
            const to = u.posToVal(u.select.left + u.select.width, 'x') * 1000;
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            zoom.current(Math.round(from), Math.round(to));
          },
        ],
      },
    };
    const p = new uPlot(opts, data, el);
    const ro = new ResizeObserver(() => p.setSize({ width: Math.max(el.clientWidth, 200), height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      p.destroy();
    };
  }, [series, thresholds, theme, hc, l]);

  return <div class="chart metrics-chart" ref={box} role="img" aria-label={label || t('graphs.chartLabel')} />;
}
