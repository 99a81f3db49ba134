import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { lang, t } from '../i18n';
import { severities, type EventSummary } from '../live/topics';
import { contrast, effectiveTheme } from '../prefs';

const height = 180;

function data(s: EventSummary): uPlot.AlignedData {
  return [s.hours, ...severities.map((sev) => s.perHour[sev])];
}

function hhmm(seconds: number): string {
  const d = new Date(seconds * 1000);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

/**
 * Events per hour over the last day, one line per severity (uPlot: a
 * canvas, so its colours are read from the theme's CSS variables and the
 * chart is redrawn when the theme changes).
 */
export function EventsChart({ summary }: { summary: EventSummary }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const theme = effectiveTheme();
  const hc = contrast.value;
  const l = lang.value;

  useEffect(() => {
    const el = box.current;
    if (!el) return undefined;
    const css = getComputedStyle(el);
    const v = (name: string) => css.getPropertyValue(name).trim();
    const axis: uPlot.Axis = {
      stroke: v('--fg-muted'),
      grid: { stroke: v('--grid'), width: 1 },
      ticks: { stroke: v('--grid'), width: 1 },
    };
    const opts: uPlot.Options = {
      width: Math.max(el.clientWidth, 200),
      height,
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(max, 4)] } },
      series: [
        { value: (_u, s) => (s == null ? '' : hhmm(s)) },
        ...severities.map((sev) => ({
          label: t(`severity.${sev}`),
          stroke: v(`--sev-${sev}`),
          fill: hc === 'high' ? undefined : v(`--sev-${sev}-fill`),
          width: hc === 'high' ? 3 : 2,
          points: { show: false },
          paths: uPlot.paths.stepped?.({ align: 1 }),
        })),
      ],
      axes: [
        { ...axis, values: (_u, splits) => splits.map(hhmm) },
        { ...axis, size: 40, values: (_u, splits) => splits.map((n) => (Number.isInteger(n) ? String(n) : '')) },
      ],
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
    };
    const p = new uPlot(opts, data(summary), el);
    plot.current = p;
    const ro = new ResizeObserver(() => p.setSize({ width: Math.max(el.clientWidth, 200), height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      p.destroy();
      plot.current = null;
    };
    // summary is applied by the effect below; the chart is rebuilt only for colours and words.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [theme, hc, l]);

  useEffect(() => {
    plot.current?.setData(data(summary));
  }, [summary]);

  return <div class="chart" ref={box} role="img" aria-label={t('dashboard.chartLabel')} />;
}
