// Small pieces every screen uses.

import type { ComponentChildren } from 'preact';
import type { Role } from '../api';
import { t, tOr } from '../i18n';

export function Card({ title, children, wide, id, class: cls }: { title: string; children: ComponentChildren; wide?: boolean; id?: string; class?: string }) {
  const classes = ['card', wide ? 'wide' : '', cls ?? ''].filter(Boolean).join(' ');
  return (
    <section id={id} class={classes} aria-labelledby={id ? `${id}-title` : undefined}>
      <h2 id={id ? `${id}-title` : undefined}>{title}</h2>
      {children}
    </section>
  );
}

export type Row = [string, ComponentChildren];

/** Label/value rows. */
export function KV({ rows }: { rows: Row[] }) {
  return (
    <dl class="kv">
      {rows.map(([k, v]) => (
        <div class="kv-row" key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

/** A role as a coloured badge, in words. */
export function RoleBadge({ role }: { role: Role | undefined }) {
  if (!role) return <span class="badge">{t('common.unknown')}</span>;
  return <span class={`badge role-${role}`}>{tOr(`role.${role}`, role)}</span>;
}

export function YesNo({ ok, yes, no }: { ok: boolean; yes?: string; no?: string }) {
  return <span class={ok ? 'badge ok' : 'badge bad'}>{ok ? (yes ?? t('common.yes')) : (no ?? t('common.no'))}</span>;
}

export function Loading() {
  return (
    <p class="loading" role="status">
      {t('common.loading')}
    </p>
  );
}

export function num(n: number | undefined): string {
  return n === undefined ? '—' : n.toLocaleString();
}

export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}
