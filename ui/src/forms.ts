// What the settings forms share: client-side checks whose messages name
// the field in the user's language, focus on the first invalid field, and
// a refusal of the appliance shown on the field it names.

import { ApiError } from './api';
import { t } from './i18n';

export type Errors<K extends string> = Partial<Record<K, string>>;

/** Moves focus to the first invalid field; fields have ids `${prefix}-${key}`. Returns whether any. */
export function focusFirst<K extends string>(prefix: string, order: readonly K[], errs: Errors<K>): boolean {
  const first = order.find((k) => errs[k]);
  if (first === undefined) return false;
  setTimeout(() => document.getElementById(`${prefix}-${first}`)?.focus(), 0);
  return true;
}

export function required(label: string, v: string): string | undefined {
  return v.trim() ? undefined : t('form.required', { field: label });
}

export function tooLong(label: string, v: string, max: number): string | undefined {
  return v.length > max ? t('form.tooLong', { field: label, max }) : undefined;
}

/** Ids of objects: what the appliance accepts (letters, digits, . _ -, at most 64). */
export function badId(label: string, v: string): string | undefined {
  return required(label, v) ?? (/^[A-Za-z0-9._-]{1,64}$/.test(v) ? undefined : t('form.badId', { field: label }));
}

/**
 * Whether a Go (RE2) regular expression compiles, as far as the browser
 * can tell: leading flags such as (?i) and named groups (?P<n>…) are
 * translated first; the appliance remains the judge.
 */
export function badRegexp(label: string, v: string): string | undefined {
  if (!v) return undefined;
  let src = v;
  let flags = 'u';
  const lead = /^\(\?([imsU]+)\)/.exec(src);
  if (lead) {
    src = src.slice(lead[0].length);
    if (lead[1]?.includes('i')) flags += 'i';
    if (lead[1]?.includes('m')) flags += 'm';
    if (lead[1]?.includes('s')) flags += 's';
  }
  src = src.replace(/\(\?P</g, '(?<');
  try {
    new RegExp(src, flags);
    return undefined;
  } catch {
    return t('form.badRegexp', { field: label });
  }
}

/** A list typed as "a, b, c". */
export function splitList(v: string): string[] {
  return v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * The form field a refusal names: the appliance says "…: <field>: why"
 * with the API's field name; `fields` maps those names to the form's keys.
 * The earliest name in the message wins.
 */
export function refusedField<K extends string>(err: unknown, fields: Record<string, K>): K | undefined {
  if (!(err instanceof ApiError) || err.status !== 400) return undefined;
  let best: K | undefined;
  let at = Infinity;
  for (const [name, key] of Object.entries(fields)) {
    const m = new RegExp(`(^|[^\\w])${name.replace(/[.]/g, '\\.')}([^\\w]|$)`).exec(err.message);
    if (m && m.index < at) {
      at = m.index;
      best = key;
    }
  }
  return best;
}

/** The message of a refusal on the field it names, the field named in the user's language. */
export function refusedOn(label: string, err: ApiError): string {
  return t('form.refused', { field: label, message: err.message });
}

/** An RFC 3339 time from a datetime-local input (the browser's zone), or undefined. */
export function rfc3339(local: string): string | undefined {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString().replace(/\.\d+Z$/, 'Z');
}
