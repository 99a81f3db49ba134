// A monitor result's priority shown the same way on every screen: its
// colour, a symbol (so that it never depends on colour alone) and its name.

import { tOr } from '../../i18n';

/** Symbols beside the colours. */
export const prioSymbol: Record<string, string> = { critical: '✕', unknown: '?', warning: '!', info: '✓' };

export const prioLabel = (p: string) => tOr(`status.prio.${p}`, p);

export function PriorityBadge({ p }: { p: string }) {
  return (
    <span class={`badge prio prio-${p}`}>
      <span aria-hidden="true">{prioSymbol[p] ?? ''} </span>
      {prioLabel(p)}
    </span>
  );
}
