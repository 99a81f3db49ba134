// The monitor form's model: what the inputs hold (strings, as typed), how
// it becomes a Monitor and back, and the checks the browser can make
// before sending. A kind's parameters are drawn from its field
// descriptors (GET /api/v1/monitor-kinds), so a new kind needs no code
// here. Field ids are `mon-<key>`; keys are the fixed fields' names,
// `p-<param>` for a parameter and `j-…` for the judgement.

import type { Judgement, KindField, Monitor, MonitorInput, MonitorKind, PatternInput, Priority, Range, ThresholdsInput } from '../api/monitors';
import { ApiError } from '../api/client';
import { badId, badRegexp, required, splitList, tooLong } from '../forms';
import { t } from '../i18n';

export interface ItemRow {
  key: string;
  info_min: string;
  info_max: string;
  warn_min: string;
  warn_max: string;
}

export interface PatternRow {
  match: string;
  priority: string;
  ignore_case: boolean;
  exclude: boolean;
  message: string;
}

export interface MonitorForm {
  id: string;
  name: string;
  kind: string;
  target: 'node' | 'scope';
  node: string;
  scope: string;
  owner_role: string;
  interval: string;
  timeout: string;
  calendar: string;
  enabled: boolean;
  collect: boolean;
  notify: string;
  params: Record<string, string | boolean>;
  info_min: string;
  info_max: string;
  warn_min: string;
  warn_max: string;
  items: ItemRow[];
  patterns: PatternRow[];
  truth_true: string;
  truth_false: string;
  change_amount: boolean;
  failure: string;
  /** Parameters the kind does not describe, kept as they were. */
  extra: Record<string, unknown>;
}

export type FormErrors = Record<string, string>;

export const blankItem = (): ItemRow => ({ key: '', info_min: '', info_max: '', warn_min: '', warn_max: '' });
export const blankPattern = (): PatternRow => ({ match: '', priority: 'critical', ignore_case: false, exclude: false, message: '' });

/** A new monitor of kind k: every parameter empty (its default applies) except truth values, which show their default. */
export function blankForm(k?: MonitorKind): MonitorForm {
  return {
    id: '',
    name: '',
    kind: k?.name ?? '',
    target: 'node',
    node: '',
    scope: '',
    owner_role: '',
    interval: '60s',
    timeout: '10s',
    calendar: '',
    enabled: true,
    collect: true,
    notify: '',
    params: paramsOf(k, {}),
    info_min: '',
    info_max: '',
    warn_min: '',
    warn_max: '',
    items: [],
    patterns: [],
    truth_true: 'info',
    truth_false: 'critical',
    change_amount: false,
    failure: 'unknown',
    extra: {},
  };
}

/** Switches kind, keeping what the kinds share (their parameters with the same name and type). */
export function withKind(f: MonitorForm, k: MonitorKind | undefined): MonitorForm {
  const kept: Record<string, unknown> = {};
  const old = f.params;
  for (const fd of k?.fields ?? []) if (fd.name in old && old[fd.name] !== '') kept[fd.name] = old[fd.name];
  const params = paramsOf(k, {});
  for (const [n, v] of Object.entries(kept)) if (typeof v === typeof params[n]) params[n] = v as string | boolean;
  return { ...f, kind: k?.name ?? '', params, extra: {} };
}

function paramsOf(k: MonitorKind | undefined, values: Record<string, unknown>): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = {};
  for (const fd of k?.fields ?? []) out[fd.name] = fieldText(fd, values[fd.name]);
  return out;
}

/** A parameter's value as its input holds it. */
function fieldText(fd: KindField, v: unknown): string | boolean {
  if (fd.type === 'bool') return typeof v === 'boolean' ? v : fd.default === true;
  if (v === undefined || v === null) return '';
  if (fd.type === 'list' && Array.isArray(v)) return v.map(String).join('\n');
  if (fd.type === 'json') return JSON.stringify(v, null, 2);
  return typeof v === 'string' ? v : JSON.stringify(v);
}

const rangeText = (r: Range | undefined, end: 'min' | 'max') => (r?.[end] === undefined || r[end] === null ? '' : String(r[end]));

export function toForm(m: Monitor, k?: MonitorKind): MonitorForm {
  const j: Judgement = m.judgement ?? {};
  const described = new Set((k?.fields ?? []).map((f) => f.name));
  const given = (m.params ?? {}) as Record<string, unknown>;
  const extra = Object.fromEntries(Object.entries(given).filter(([n]) => !described.has(n)));
  return {
    ...blankForm(k),
    id: m.id,
    name: m.name,
    kind: m.kind,
    target: m.scope && !m.node ? 'scope' : 'node',
    node: m.node ?? '',
    scope: m.scope ?? '',
    owner_role: m.owner_role ?? '',
    interval: m.interval ?? '',
    timeout: m.timeout ?? '',
    calendar: m.calendar ?? '',
    enabled: m.enabled,
    collect: m.collect !== false,
    notify: (m.notify ?? []).join(', '),
    params: paramsOf(k, given),
    info_min: rangeText(j.numeric?.info, 'min'),
    info_max: rangeText(j.numeric?.info, 'max'),
    warn_min: rangeText(j.numeric?.warning, 'min'),
    warn_max: rangeText(j.numeric?.warning, 'max'),
    items: Object.entries(j.items ?? {}).map(([key, th]) => ({
      key,
      info_min: rangeText(th.info, 'min'),
      info_max: rangeText(th.info, 'max'),
      warn_min: rangeText(th.warning, 'min'),
      warn_max: rangeText(th.warning, 'max'),
    })),
    patterns: (j.patterns ?? []).map((p) => ({
      match: p.match,
      priority: p.priority ?? 'critical',
      ignore_case: p.ignore_case === true,
      exclude: p.exclude === true,
      message: p.message ?? '',
    })),
    truth_true: j.truth?.['true'] ?? 'info',
    truth_false: j.truth?.['false'] ?? 'critical',
    change_amount: j.change_amount === true,
    failure: j.failure || 'unknown',
    extra,
  };
}

const numOrNull = (s: string): number | null => (s.trim() === '' ? null : Number(s.trim()));

function thresholds(infoMin: string, infoMax: string, warnMin: string, warnMax: string): ThresholdsInput | undefined {
  if (![infoMin, infoMax, warnMin, warnMax].some((s) => s.trim() !== '')) return undefined;
  return {
    info: { min: numOrNull(infoMin), max: numOrNull(infoMax) },
    warning: { min: numOrNull(warnMin), max: numOrNull(warnMax) },
  };
}

/** A parameter's JSON value from its input; undefined: omitted (the kind's default applies). */
export function paramValue(fd: KindField, v: string | boolean | undefined): unknown {
  if (fd.type === 'bool') return v === true;
  const s = typeof v === 'string' ? v : '';
  if (s.trim() === '') return undefined;
  switch (fd.type) {
    case 'int':
    case 'number':
      return Number(s.trim());
    case 'list':
      return s
        .split(/\n/)
        .map((x) => x.trim())
        .filter(Boolean);
    case 'json':
      return JSON.parse(s) as unknown;
    case 'duration':
    case 'credential':
      return s.trim();
    default:
      return s;
  }
}

/** The judgement the kind's value type uses (numeric: thresholds; string: patterns; truth: a map). */
/** The form's selects offer only priorities. */
const prio = (s: string) => s as Priority;

function judgementOf(f: MonitorForm, k: MonitorKind | undefined): NonNullable<MonitorInput['judgement']> {
  const j: NonNullable<MonitorInput['judgement']> = { failure: prio(f.failure || 'unknown') };
  const value = k?.value ?? 'numeric';
  if (value === 'numeric') {
    const n = thresholds(f.info_min, f.info_max, f.warn_min, f.warn_max);
    if (n) j.numeric = n;
    const items: Record<string, ThresholdsInput> = {};
    for (const it of f.items) {
      const th = thresholds(it.info_min, it.info_max, it.warn_min, it.warn_max);
      if (it.key.trim() && th) items[it.key.trim()] = th;
    }
    if (Object.keys(items).length) j.items = items;
    if (f.change_amount) j.change_amount = true;
  }
  // A numeric kind's text items (an HTTP body) are judged by patterns too.
  if (value === 'string' || (value === 'numeric' && f.patterns.length > 0)) {
    j.patterns = f.patterns.map((p): PatternInput => {
      const out: PatternInput = { match: p.match, priority: prio(p.priority) };
      if (p.ignore_case) out.ignore_case = true;
      if (p.exclude) out.exclude = true;
      if (p.message.trim()) out.message = p.message.trim();
      return out;
    });
  }
  if (value === 'truth') j.truth = { true: prio(f.truth_true), false: prio(f.truth_false) };
  return j;
}

/** The monitor the form describes (validate first: a json parameter that does not parse throws). */
export type Draft = MonitorInput & Required<Pick<MonitorInput, 'id' | 'name' | 'kind' | 'interval' | 'enabled' | 'judgement' | 'notify'>> & { params: Record<string, unknown> };

export function toMonitor(f: MonitorForm, k: MonitorKind | undefined): Draft {
  const params: Record<string, unknown> = { ...f.extra };
  for (const fd of k?.fields ?? []) {
    const v = paramValue(fd, f.params[fd.name]);
    if (v !== undefined) params[fd.name] = v;
  }
  const m: Draft = {
    id: f.id.trim(),
    name: f.name.trim(),
    kind: f.kind,
    interval: f.interval.trim(),
    enabled: f.enabled,
    collect: f.collect,
    params,
    judgement: judgementOf(f, k),
    notify: splitList(f.notify),
  };
  if (f.target === 'node') m.node = f.node.trim();
  else m.scope = f.scope.trim();
  if (f.timeout.trim()) m.timeout = f.timeout.trim();
  if (f.calendar.trim()) m.calendar = f.calendar.trim();
  if (f.owner_role.trim()) m.owner_role = f.owner_role.trim();
  return m;
}

/** A Go duration as the appliance reads it: 30s, 1m30s, 500ms, 2h. */
export const durationRE = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;

/** A field's label in the user's language. */
export const label = (k: string) => t(`monitors.f.${k}` as Parameters<typeof t>[0]);

function paramError(fd: KindField, v: string | boolean | undefined): string | undefined {
  const name = fd.label || fd.name;
  if (fd.type === 'bool') return undefined;
  const s = typeof v === 'string' ? v.trim() : '';
  if (!s) return fd.required ? t('form.required', { field: name }) : undefined;
  switch (fd.type) {
    case 'int':
      return /^-?\d+$/.test(s) ? undefined : t('form.integer', { field: name });
    case 'number':
      return Number.isFinite(Number(s)) ? undefined : t('monitors.err.number', { field: name });
    case 'duration':
      return durationRE.test(s) ? undefined : t('monitors.err.duration', { field: name });
    case 'select':
      return !fd.options?.length || fd.options.includes(s) ? undefined : t('monitors.err.option', { field: name, options: fd.options.join(', ') });
    case 'json':
      try {
        JSON.parse(s);
        return undefined;
      } catch {
        return t('monitors.err.json', { field: name });
      }
    default:
      return undefined;
  }
}

function numberError(field: string, s: string): string | undefined {
  return s.trim() === '' || Number.isFinite(Number(s.trim())) ? undefined : t('monitors.err.number', { field });
}

/** An inverted range (min not below max) is refused, naming the range. */
function rangeErrors(e: FormErrors, prefix: string, what: string, r: { info_min: string; info_max: string; warn_min: string; warn_max: string }): void {
  const ranges = [
    ['info_min', 'info_max', t('monitors.j.infoMin'), t('monitors.j.infoMax'), t('monitors.j.infoRange')],
    ['warn_min', 'warn_max', t('monitors.j.warnMin'), t('monitors.j.warnMax'), t('monitors.j.warnRange')],
  ] as const;
  for (const [lo, hi, loName, hiName, name] of ranges) {
    const badLo = numberError(`${what}${loName}`, r[lo]);
    const badHi = numberError(`${what}${hiName}`, r[hi]);
    if (badLo) e[`${prefix}${lo}`] = badLo;
    if (badHi) e[`${prefix}${hi}`] = badHi;
    if (!badLo && !badHi && r[lo].trim() !== '' && r[hi].trim() !== '' && Number(r[lo]) >= Number(r[hi])) {
      e[`${prefix}${lo}`] = t('monitors.err.inverted', { field: `${what}${name}`, min: r[lo].trim(), max: r[hi].trim() });
    }
  }
}

/**
 * What the browser can check before sending; the keys are the fields'
 * (without `mon-`), in the form's order. `forTest`: "test now" runs a
 * monitor that may have no id or name yet.
 */
export function validateMonitor(f: MonitorForm, k: MonitorKind | undefined, forTest = false): FormErrors {
  const e: FormErrors = {};
  const set = (key: string, msg: string | undefined) => {
    if (msg) e[key] = msg;
  };
  if (!forTest) {
    set('id', badId(label('id'), f.id));
    set('name', required(label('name'), f.name) ?? tooLong(label('name'), f.name, 256));
  }
  set('kind', k ? undefined : t('monitors.err.kind'));
  if (f.target === 'node') set('node', required(label('node'), f.node));
  else set('scope', required(label('scope'), f.scope) ?? tooLong(label('scope'), f.scope, 64));
  set('interval', required(label('interval'), f.interval) ?? (durationRE.test(f.interval.trim()) ? undefined : t('monitors.err.duration', { field: label('interval') })));
  if (f.timeout.trim() && !durationRE.test(f.timeout.trim())) set('timeout', t('monitors.err.duration', { field: label('timeout') }));
  set('owner_role', tooLong(label('owner_role'), f.owner_role, 64));
  set('calendar', tooLong(label('calendar'), f.calendar, 64));
  for (const fd of k?.fields ?? []) set(`p-${fd.name}`, paramError(fd, f.params[fd.name]));
  const value = k?.value ?? 'numeric';
  if (value === 'numeric') {
    rangeErrors(e, 'j-', '', f);
    const seen = new Set<string>();
    f.items.forEach((it, i) => {
      const key = it.key.trim();
      if (!key) set(`j-item-${i}-key`, t('form.required', { field: t('monitors.j.itemKey') }));
      else if (seen.has(key)) set(`j-item-${i}-key`, t('monitors.err.duplicateItem', { key }));
      seen.add(key);
      rangeErrors(e, `j-item-${i}-`, `${key || t('monitors.j.itemKey')}: `, it);
    });
  }
  if (value === 'string' || value === 'numeric') {
    f.patterns.forEach((p, i) => {
      const field = t('monitors.j.patternN', { n: i + 1 });
      set(`j-pat-${i}-match`, required(field, p.match) ?? badRegexp(field, p.match));
    });
  }
  return e;
}

/**
 * The form's fields in display order, for focusing the first invalid
 * one (its id is `mon-<key>`).
 */
export function fieldOrder(f: MonitorForm, k: MonitorKind | undefined): string[] {
  const order = ['id', 'name', 'kind', 'node', 'scope', 'interval', 'timeout', 'owner_role'];
  for (const fd of k?.fields ?? []) order.push(`p-${fd.name}`);
  order.push('j-info_min', 'j-info_max', 'j-warn_min', 'j-warn_max');
  f.items.forEach((_, i) => order.push(`j-item-${i}-key`, `j-item-${i}-info_min`, `j-item-${i}-info_max`, `j-item-${i}-warn_min`, `j-item-${i}-warn_max`));
  f.patterns.forEach((_, i) => order.push(`j-pat-${i}-match`));
  order.push('j-failure', 'notify', 'calendar');
  return order;
}

/**
 * The API's field names in a refusal (the Monitor JSON's and its
 * judgement's) mapped to the form's keys.
 */
export function apiFieldMap(f: MonitorForm): Record<string, string> {
  const m: Record<string, string> = {
    id: 'id',
    name: 'name',
    kind: 'kind',
    node: 'node',
    scope: 'scope',
    interval: 'interval',
    timeout: 'timeout',
    calendar: 'calendar',
    notify: 'notify',
    owner_role: 'owner_role',
    'numeric.info': 'j-info_min',
    'numeric.warning': 'j-warn_min',
    failure: 'j-failure',
  };
  if (f.patterns.length) m['patterns'] = 'j-pat-0-match';
  f.patterns.forEach((_, i) => (m[`patterns[${i}]`] = `j-pat-${i}-match`));
  f.items.forEach((it, i) => {
    if (it.key.trim()) m[`items.${it.key.trim()}`] = `j-item-${i}-key`;
  });
  return m;
}

/**
 * The form key of the field a refusal of the monitor names: a kind's
 * parameter when the appliance speaks of "params: …" (a parameter may
 * share a name with a monitor field, as a ping's interval between
 * probes), else a field of the monitor or its judgement.
 */
export function refusedMonitorKey(err: unknown, f: MonitorForm, k: MonitorKind | undefined): string | undefined {
  if (!(err instanceof ApiError)) return undefined;
  const at = /(^|\W)params:/.exec(err.message);
  if (!at) return refusedKey(err, apiFieldMap(f));
  const params = Object.fromEntries((k?.fields ?? []).map((fd) => [fd.name, `p-${fd.name}`]));
  const tail = new ApiError(err.status, err.code, err.message.slice(at.index + at[0].length));
  return refusedKey(tail, params);
}

/** The form key of the field an appliance's 400 names first (see apiFieldMap), or undefined. */
export function refusedKey(err: unknown, fields: Record<string, string>): string | undefined {
  if (!(err instanceof ApiError) || err.status !== 400) return undefined;
  let best: string | undefined;
  let bestName = '';
  let at = Infinity;
  for (const [name, key] of Object.entries(fields)) {
    const quoted = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const m = new RegExp(`(^|[^\\w])${quoted}([^\\w]|$)`).exec(err.message);
    // The longest name at the same place wins: "numeric.info" over "numeric".
    if (m && (m.index < at || (m.index === at && name.length > bestName.length))) {
      at = m.index;
      best = key;
      bestName = name;
    }
  }
  return best;
}
