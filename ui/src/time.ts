// Times are shown in the browser's zone, as YYYY-MM-DD HH:MM:SS in both
// languages (unambiguous at 3 a.m.); the appliance's zone and UTC are in
// the title, shown on hover, since the appliance's logs use them.

import { lang, locale, t } from './i18n';

const pad = (n: number) => String(n).padStart(2, '0');

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string | undefined): Intl.DateTimeFormat {
  const key = timeZone ?? '';
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(key, f);
  }
  return f;
}

/** d as YYYY-MM-DD HH:MM:SS in timeZone (default: the browser's). */
export function formatDateTime(d: Date, timeZone?: string): string {
  const parts: Record<string, string> = {};
  for (const p of formatter(timeZone).formatToParts(d)) parts[p.type] = p.value;
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second}`;
}

/** d in the appliance's zone: by name when the browser knows it, else by offset. */
export function formatInZone(d: Date, zone: string | undefined, offsetSeconds: number | undefined): string {
  if (zone) {
    try {
      return formatDateTime(d, zone);
    } catch {
      // not an IANA name the browser knows (an abbreviation): use the offset
    }
  }
  const shifted = new Date(d.getTime() + (offsetSeconds ?? 0) * 1000);
  return `${shifted.getUTCFullYear()}-${pad(shifted.getUTCMonth() + 1)}-${pad(shifted.getUTCDate())} ` +
    `${pad(shifted.getUTCHours())}:${pad(shifted.getUTCMinutes())}:${pad(shifted.getUTCSeconds())}`;
}

export function offsetName(seconds: number): string {
  const sign = seconds < 0 ? '-' : '+';
  const a = Math.abs(seconds);
  return `UTC${sign}${pad(Math.floor(a / 3600))}:${pad(Math.floor((a % 3600) / 60))}`;
}

/** "3 minutes ago", "in 2 hours", in the current language. */
export function relative(d: Date, now: Date = new Date()): string {
  void lang.value; // re-render on a language change
  const s = Math.round((d.getTime() - now.getTime()) / 1000);
  const rtf = new Intl.RelativeTimeFormat(locale(), { numeric: 'auto' });
  const a = Math.abs(s);
  if (a < 60) return rtf.format(s, 'second');
  if (a < 3600) return rtf.format(Math.round(s / 60), 'minute');
  if (a < 86400) return rtf.format(Math.round(s / 3600), 'hour');
  return rtf.format(Math.round(s / 86400), 'day');
}

/** A duration in seconds as "1 h 02 min", "45 s". */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return t('time.seconds', { n: s });
  if (s < 3600) return t('time.minutes', { n: Math.floor(s / 60), s: pad(s % 60) });
  return t('time.hours', { n: Math.floor(s / 3600), m: pad(Math.floor((s % 3600) / 60)) });
}
