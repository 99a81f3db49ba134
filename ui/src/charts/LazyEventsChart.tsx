import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ErrorPanel } from '../components/ErrorPanel';
import { Loading } from '../components/bits';
import type { EventSummary } from '../live/topics';

type Chart = ComponentType<{ summary: EventSummary }>;

/**
 * The chart loads its code (uPlot) when first shown, so the first screen
 * an operator waits for does not carry it.
 */
export function LazyEventsChart({ summary }: { summary: EventSummary }) {
  const [chart, setChart] = useState<{ C: Chart } | undefined>(undefined);
  const [failed, setFailed] = useState<unknown>(undefined);
  useEffect(() => {
    import('./EventsChart').then((m) => setChart({ C: m.EventsChart }), setFailed);
  }, []);
  if (failed) return <ErrorPanel error={failed} compact />;
  if (!chart) return <Loading />;
  return <chart.C summary={summary} />;
}
