// Calendars of business time: the list, an editor (weekly hours as text
// ranges per weekday, dated and recurring rules) and a live preview of the
// edited calendar — a week grid and the next openings and closings, both
// computed by the appliance (POST /api/v1/calendars/preview), so what the
// operator sees is what monitors and maintenance windows will use.

import { useEffect, useState } from 'preact/hooks';
import { ApiError, type Calendar, type CalendarPreview, type CalendarRule, type CalendarRuleKind, type CalendarSpan } from '../api';
import { schedule, type CalendarBody } from '../api/schedule';
import { ErrorPanel } from '../components/ErrorPanel';
import { Input, Select } from '../components/Inputs';
import { Card, Loading } from '../components/bits';
import { badId, focusFirst, refusedField, required, tooLong, type Errors } from '../forms';
import { t, tOr } from '../i18n';
import { formatDateTime } from '../time';
import '../styles/schedule.css';

export const days = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
type Day = (typeof days)[number];

interface RuleForm {
  kind: CalendarRuleKind;
  name: string;
  date: string;
  until: string;
  month: string;
  day: string;
  weekday: string;
  nth: string;
  open: boolean;
  spans: string;
  shift: string;
  /** Kept as the appliance gave it (the holidays' "only off Sundays"); not edited here. */
  shiftOn: string[];
}
interface Form {
  id: string;
  name: string;
  description: string;
  scope: string;
  owner_role: string;
  time_zone: string;
  valid_from: string;
  valid_to: string;
  week: Record<Day, string>;
  rules: RuleForm[];
}
type FKey = 'id' | 'name' | 'scope' | 'owner_role' | 'time_zone' | 'valid_from' | 'valid_to' | `week-${Day}` | `rule-${number}`;

const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
const office = '09:00-12:00, 13:00-18:00';
const blank = (): Form => ({
  id: '',
  name: '',
  description: '',
  scope: '',
  owner_role: '',
  time_zone: browserZone,
  valid_from: '',
  valid_to: '',
  week: { mon: office, tue: office, wed: office, thu: office, fri: office, sat: '', sun: '' },
  rules: [],
});
const blankRule = (): RuleForm => ({ kind: 'dates', name: '', date: '', until: '', month: '0', day: '1', weekday: 'mon', nth: '1', open: false, spans: '', shift: '0', shiftOn: [] });
export const zones = ['Asia/Tokyo', 'UTC', 'America/New_York', 'America/Los_Angeles', 'Europe/London', 'Europe/Berlin', 'Asia/Singapore', 'Australia/Sydney'];

/** "09:00-12:00, 13:00-18:00" as spans; undefined when a range is not HH:MM-HH:MM. */
export function parseSpans(text: string): CalendarSpan[] | undefined {
  const out: CalendarSpan[] = [];
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^(\d{1,2}:\d{2})\s*[-–~〜]\s*(\d{1,2}:\d{2})$/.exec(part);
    if (!m?.[1] || !m[2]) return undefined;
    const pad = (s: string) => s.padStart(5, '0');
    out.push({ from: pad(m[1]), to: pad(m[2]) });
  }
  return out;
}

const spansText = (s: CalendarSpan[] | null | undefined) => (s ?? []).map((x) => `${x.from}-${x.to}`).join(', ');
const isDate = (s: string) => /^\d{4}-\d{2}-\d{2}$/.test(s);
const label = (k: string) => tOr(`cal.f.${k}`, k);

function validate(f: Form): Errors<FKey> {
  const e: Errors<FKey> = {};
  e.id = badId(label('id'), f.id);
  e.name = required(label('name'), f.name) ?? tooLong(label('name'), f.name, 256);
  e.scope = tooLong(label('scope'), f.scope, 64);
  e.time_zone = required(label('time_zone'), f.time_zone);
  for (const k of ['valid_from', 'valid_to'] as const) if (f[k] && !isDate(f[k])) e[k] = t('cal.badDate', { field: label(k) });
  for (const d of days) if (!parseSpans(f.week[d])) e[`week-${d}`] = t('cal.badSpans', { field: t(`cal.day.${d}`) });
  f.rules.forEach((r, i) => {
    const name = t('cal.ruleN', { n: i + 1 });
    if (!parseSpans(r.spans)) e[`rule-${i}`] = t('cal.badSpans', { field: name });
    else if (r.kind === 'dates' && (!isDate(r.date) || (r.until && !isDate(r.until)))) e[`rule-${i}`] = t('cal.badDate', { field: name });
  });
  for (const k of Object.keys(e) as FKey[]) if (!e[k]) delete e[k];
  return e;
}

function toRule(r: RuleForm) {
  const out: NonNullable<CalendarBody['rules']>[number] = { kind: r.kind, open: r.open };
  if (r.name.trim()) out.name = r.name.trim();
  const spans = parseSpans(r.spans) ?? [];
  if (spans.length) out.spans = spans;
  if (r.kind !== 'business_day' && Number(r.shift)) {
    out.shift = Number(r.shift);
    if (r.shiftOn.length) out.shift_on = r.shiftOn;
  }
  if (r.kind === 'dates') {
    out.date = r.date;
    if (r.until) out.until = r.until;
    return out;
  }
  if (Number(r.month)) out.month = Number(r.month);
  if (r.kind === 'day_of_month') out.day = Number(r.day);
  if (r.kind === 'weekday_of_month') out.weekday = r.weekday;
  if (r.kind !== 'day_of_month') out.nth = Number(r.nth);
  return out;
}

function toCalendar(f: Form): CalendarBody {
  const week: Record<string, CalendarSpan[]> = {};
  for (const d of days) week[d] = parseSpans(f.week[d]) ?? [];
  const c: CalendarBody = { id: f.id.trim(), name: f.name.trim(), scope: f.scope.trim(), time_zone: f.time_zone.trim(), week, rules: f.rules.map(toRule) };
  if (f.description.trim()) c.description = f.description.trim();
  if (f.owner_role.trim()) c.owner_role = f.owner_role.trim();
  if (f.valid_from) c.valid_from = f.valid_from;
  if (f.valid_to) c.valid_to = f.valid_to;
  return c;
}

function toForm(c: Calendar): Form {
  const week = {} as Record<Day, string>;
  for (const d of days) week[d] = spansText(c.week[d]);
  return {
    id: c.id,
    name: c.name,
    description: c.description ?? '',
    scope: c.scope,
    owner_role: c.owner_role ?? '',
    time_zone: c.time_zone,
    valid_from: c.valid_from ?? '',
    valid_to: c.valid_to ?? '',
    week,
    rules: (c.rules ?? []).map(ruleForm),
  };
}

function ruleForm(r: CalendarRule): RuleForm {
  return {
    kind: r.kind,
    name: r.name ?? '',
    date: r.date ?? '',
    until: r.until ?? '',
    month: String(r.month ?? 0),
    day: String(r.day ?? 1),
    weekday: r.weekday ?? 'mon',
    nth: String(r.nth ?? 1),
    open: r.open,
    spans: spansText(r.spans),
    shift: String(r.shift ?? 0),
    shiftOn: r.shift_on ?? [],
  };
}

/** Where the appliance's refusal points: "week.tue[0]: …" or "rules[2]…". */
function refusedKey(err: unknown): FKey | undefined {
  if (!(err instanceof ApiError) || err.status !== 400) return undefined;
  const w = /week\.(mon|tue|wed|thu|fri|sat|sun)/.exec(err.message);
  if (w) return `week-${w[1] as Day}`;
  const r = /rules\[(\d+)\]/.exec(err.message);
  if (r) return `rule-${Number(r[1])}`;
  const plain: Record<string, FKey> = { id: 'id', name: 'name', scope: 'scope', owner_role: 'owner_role', time_zone: 'time_zone', valid_from: 'valid_from', valid_to: 'valid_to' };
  return refusedField(err, plain);
}

/** A form key named in the user's language. */
function fieldLabel(k: FKey): string {
  if (k.startsWith('week-')) return t(`cal.day.${k.slice(5) as Day}`);
  if (k.startsWith('rule-')) return t('cal.ruleN', { n: Number(k.slice(5)) + 1 });
  return label(k);
}

export function CalendarsPage() {
  const [list, setList] = useState<Calendar[] | undefined>(undefined);
  const [loadErr, setLoadErr] = useState<unknown>(undefined);
  const [form, setForm] = useState<Form>(blank);
  const [editing, setEditing] = useState(false);
  const [errors, setErrors] = useState<Errors<FKey>>({});
  const [failure, setFailure] = useState<unknown>(undefined);
  const [done, setDone] = useState('');
  const [busy, setBusy] = useState(false);

  const load = async () => {
    setLoadErr(undefined);
    try {
      setList((await schedule.calendars()).calendars ?? []);
    } catch (e) {
      setLoadErr(e);
    }
  };
  useEffect(() => void load(), []);

  const submit = async (e: Event) => {
    e.preventDefault();
    setDone('');
    setFailure(undefined);
    const errs = validate(form);
    setErrors(errs);
    if (focusFirst('cal', Object.keys(errs) as FKey[], errs)) return;
    setBusy(true);
    try {
      await schedule.putCalendar(toCalendar(form));
      setDone(t('cal.saved', { id: form.id }));
      setEditing(true);
      await load();
    } catch (err) {
      const k = refusedKey(err);
      if (k && err instanceof ApiError) {
        setErrors({ [k]: t('form.refused', { field: fieldLabel(k), message: err.message }) });
        focusFirst('cal', [k], { [k]: 'x' });
      } else setFailure(err);
    } finally {
      setBusy(false);
    }
  };
  const remove = async (c: Calendar) => {
    if (!confirm(t('cal.confirmDelete', { name: c.name }))) return;
    setFailure(undefined);
    try {
      await schedule.deleteCalendar(c.id);
      setDone(t('cal.deleted', { id: c.id }));
      await load();
    } catch (err) {
      setFailure(err);
    }
  };
  const edit = (c: Calendar) => {
    setForm(toForm(c));
    setEditing(true);
    setErrors({});
    setDone('');
    setTimeout(() => document.getElementById('cal-name')?.focus(), 0);
  };

  return (
    <div class="page">
      <h1>{t('cal.title')}</h1>
      {done && (
        <p class="notice" role="status">
          {done}
        </p>
      )}
      {failure !== undefined && <ErrorPanel error={failure} what={t('cal.failed')} />}
      <div class="grid">
        <Card title={t('cal.list')} id="cal-list" wide>
          {loadErr !== undefined ? (
            <ErrorPanel error={loadErr} what={t('cal.loadFailed')} onRetry={() => void load()} />
          ) : !list ? (
            <Loading />
          ) : list.length === 0 ? (
            <p class="muted">{t('cal.none')}</p>
          ) : (
            <CalendarTable list={list} onEdit={edit} onDelete={(c) => void remove(c)} />
          )}
        </Card>
        <Card title={editing ? t('cal.edit', { id: form.id }) : t('cal.new')} id="cal-form" wide>
          <form onSubmit={submit} noValidate aria-label={t('cal.new')}>
            <CalendarFields form={form} setForm={setForm} errors={errors} />
            <div class="form-actions">
              <button type="submit" class="button primary" disabled={busy}>
                {t('cal.save')}
              </button>
              {editing && (
                <button
                  type="button"
                  class="button"
                  onClick={() => {
                    setForm(blank());
                    setEditing(false);
                    setErrors({});
                  }}
                >
                  {t('cal.newButton')}
                </button>
              )}
            </div>
          </form>
        </Card>
        <Card title={t('cal.preview')} id="cal-preview" wide>
          <Preview form={form} />
        </Card>
      </div>
    </div>
  );
}

function CalendarTable({ list, onEdit, onDelete }: { list: Calendar[]; onEdit: (c: Calendar) => void; onDelete: (c: Calendar) => void }) {
  return (
    <table class="table stack">
      <thead>
        <tr>
          <th scope="col">{label('name')}</th>
          <th scope="col">{label('time_zone')}</th>
          <th scope="col">{label('scope')}</th>
          <th scope="col">{t('cal.rules')}</th>
          <th scope="col">{t('cal.actions')}</th>
        </tr>
      </thead>
      <tbody>
        {list.map((c) => (
          <tr key={c.id} data-calendar={c.id}>
            <td data-label={label('name')}>
              {c.name} <span class="muted small">({c.id})</span>
            </td>
            <td data-label={label('time_zone')}>{c.time_zone || 'UTC'}</td>
            <td data-label={label('scope')}>{c.scope || t('cal.everyScope')}</td>
            <td data-label={t('cal.rules')}>{(c.rules ?? []).length}</td>
            <td data-label={t('cal.actions')} class="row-actions">
              <button type="button" class="button small" onClick={() => onEdit(c)}>
                {t('cal.editButton')}
              </button>
              <button type="button" class="button small danger" onClick={() => onDelete(c)}>
                {t('cal.delete')}
              </button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function CalendarFields({ form, setForm, errors }: { form: Form; setForm: (f: Form) => void; errors: Errors<FKey> }) {
  const set = (k: Exclude<keyof Form, 'week' | 'rules'>) => (v: string) => setForm({ ...form, [k]: v });
  const setRule = (i: number, r: Partial<RuleForm>) => setForm({ ...form, rules: form.rules.map((x, j) => (j === i ? { ...x, ...r } : x)) });
  return (
    <>
      <div class="form-grid">
        <Input id="cal-id" label={label('id')} value={form.id} onValue={set('id')} error={errors.id} hint={t('cal.h.id')} />
        <Input id="cal-name" label={label('name')} value={form.name} onValue={set('name')} error={errors.name} />
        <Input id="cal-time_zone" label={label('time_zone')} value={form.time_zone} onValue={set('time_zone')} error={errors.time_zone} hint={t('cal.h.zone')} list="cal-zones" />
        <datalist id="cal-zones">
          {zones.map((z) => (
            <option key={z} value={z} />
          ))}
        </datalist>
        <Input id="cal-scope" label={label('scope')} value={form.scope} onValue={set('scope')} error={errors.scope} hint={t('cal.h.scope')} />
        <Input id="cal-owner_role" label={label('owner_role')} value={form.owner_role} onValue={set('owner_role')} error={errors.owner_role} />
        <Input id="cal-valid_from" label={label('valid_from')} value={form.valid_from} onValue={set('valid_from')} error={errors.valid_from} hint={t('cal.h.date')} />
        <Input id="cal-valid_to" label={label('valid_to')} value={form.valid_to} onValue={set('valid_to')} error={errors.valid_to} hint={t('cal.h.date')} />
      </div>
      <fieldset class="cal-week">
        <legend>{t('cal.week')}</legend>
        <p class="muted small">{t('cal.h.week')}</p>
        <div class="form-grid">
          {days.map((d) => (
            <Input
              key={d}
              id={`cal-week-${d}`}
              label={t(`cal.day.${d}`)}
              value={form.week[d]}
              onValue={(v) => setForm({ ...form, week: { ...form.week, [d]: v } })}
              error={errors[`week-${d}`]}
            />
          ))}
        </div>
      </fieldset>
      <fieldset class="cal-rules">
        <legend>{t('cal.rules')}</legend>
        <p class="muted small">{t('cal.h.rules')}</p>
        {form.rules.map((r, i) => (
          <RuleFields key={i} i={i} r={r} error={errors[`rule-${i}`]} set={(x) => setRule(i, x)} remove={() => setForm({ ...form, rules: form.rules.filter((_, j) => j !== i) })} />
        ))}
        <div class="form-actions">
          <button type="button" class="button" id="cal-add-rule" onClick={() => setForm({ ...form, rules: [...form.rules, blankRule()] })}>
            {t('cal.addRule')}
          </button>
          <HolidaysButton form={form} setForm={setForm} />
        </div>
      </fieldset>
    </>
  );
}

/** Adds Japan's public holidays (this year and the next two for those that move), skipping rules already there. */
function HolidaysButton({ form, setForm }: { form: Form; setForm: (f: Form) => void }) {
  const [said, setSaid] = useState('');
  const [err, setErr] = useState<unknown>(undefined);
  const from = new Date().getFullYear();
  const add = async () => {
    setErr(undefined);
    try {
      const h = await schedule.holidays(from, 3);
      const have = new Set(form.rules.map((r) => `${r.name}|${r.date}`));
      const added = (h.rules ?? []).map(ruleForm).filter((r) => !have.has(`${r.name}|${r.date}`));
      setForm({ ...form, rules: [...form.rules, ...added] });
      setSaid(t('cal.holidaysAdded', { n: added.length }) + (h.note ? ` (${h.note})` : ''));
    } catch (e) {
      setErr(e);
    }
  };
  return (
    <>
      <button type="button" class="button" id="cal-add-holidays" onClick={() => void add()}>
        {t('cal.addHolidays', { from, to: from + 2 })}
      </button>
      {said && (
        <p class="notice small" role="status" id="cal-holidays-added">
          {said}
        </p>
      )}
      {err !== undefined && <ErrorPanel error={err} what={t('cal.holidaysFailed')} />}
    </>
  );
}

function RuleFields({ i, r, error, set, remove }: { i: number; r: RuleForm; error: string | undefined; set: (r: Partial<RuleForm>) => void; remove: () => void }) {
  const id = (k: string) => `cal-rule-${i}-${k}`;
  const months: [string, string][] = [['0', t('cal.everyMonth')], ...Array.from({ length: 12 }, (_, m): [string, string] => [String(m + 1), String(m + 1)])];
  return (
    <div class="cal-rule" data-rule={i}>
      <div class="form-grid">
        <Select
          id={id('kind')}
          label={t('cal.f.kind')}
          value={r.kind}
          onValue={(v) => set({ kind: v as CalendarRuleKind })}
          options={(['dates', 'day_of_month', 'weekday_of_month', 'business_day'] as const).map((k): [string, string] => [k, t(`cal.kind.${k}`)])}
        />
        <Input id={id('name')} label={t('cal.f.ruleName')} value={r.name} onValue={(v) => set({ name: v })} />
        {r.kind === 'dates' ? (
          <>
            <Input id={id('date')} label={t('cal.f.date')} value={r.date} onValue={(v) => set({ date: v })} hint={t('cal.h.date')} />
            <Input id={id('until')} label={t('cal.f.until')} value={r.until} onValue={(v) => set({ until: v })} hint={t('cal.h.until')} />
          </>
        ) : (
          <Select id={id('month')} label={t('cal.f.month')} value={r.month} onValue={(v) => set({ month: v })} options={months} />
        )}
        {r.kind === 'day_of_month' && (
          <Select
            id={id('day')}
            label={t('cal.f.day')}
            value={r.day}
            onValue={(v) => set({ day: v })}
            options={[...Array.from({ length: 31 }, (_, d): [string, string] => [String(d + 1), String(d + 1)]), ['-1', t('cal.lastDay')]]}
          />
        )}
        {r.kind === 'weekday_of_month' && (
          <Select id={id('weekday')} label={t('cal.f.weekday')} value={r.weekday} onValue={(v) => set({ weekday: v })} options={days.map((d): [string, string] => [d, t(`cal.day.${d}`)])} />
        )}
        {(r.kind === 'weekday_of_month' || r.kind === 'business_day') && (
          <Select
            id={id('nth')}
            label={t('cal.f.nth')}
            value={r.nth}
            onValue={(v) => set({ nth: v })}
            options={[...[1, 2, 3, 4, 5].map((n): [string, string] => [String(n), t('cal.nth', { n })]), ['-1', t('cal.last')], ['-2', t('cal.secondLast')]].filter(
              ([v]) => r.kind === 'business_day' || v !== '-2',
            ) as [string, string][]}
          />
        )}
        <Select
          id={id('open')}
          label={t('cal.f.effect')}
          value={r.open ? 'open' : 'closed'}
          onValue={(v) => set({ open: v === 'open' })}
          options={[
            ['closed', t('cal.closed')],
            ['open', t('cal.open')],
          ]}
        />
        {r.kind !== 'business_day' && (
          <Select
            id={id('shift')}
            label={t('cal.f.shift')}
            value={r.shift}
            onValue={(v) => set({ shift: v })}
            options={[
              ['0', t('cal.shift.none')],
              ['1', t('cal.shift.next')],
              ['-1', t('cal.shift.prev')],
            ]}
          />
        )}
        <Input id={id('spans')} label={t('cal.f.spans')} value={r.spans} onValue={(v) => set({ spans: v })} error={error} hint={r.open ? t('cal.h.openSpans') : t('cal.h.closedSpans')} />
      </div>
      <button type="button" class="button small danger" onClick={remove}>
        {t('cal.removeRule')}
      </button>
    </div>
  );
}

/** Minutes after midnight of "HH:MM". */
const mins = (s: string) => Number(s.slice(0, 2)) * 60 + Number(s.slice(3, 5));

/** How much of hour h the spans cover: all, part or none. */
function cover(spans: CalendarSpan[], h: number): 'open' | 'part' | '' {
  let covered = 0;
  for (const s of spans) covered += Math.max(0, Math.min(mins(s.to), (h + 1) * 60) - Math.max(mins(s.from), h * 60));
  return covered >= 60 ? 'open' : covered > 0 ? 'part' : '';
}

function Preview({ form }: { form: Form }) {
  const [week, setWeek] = useState(0);
  // The preview with what it was asked for: until the answer to the form
  // as it is now arrives, the grid is marked stale (data-fresh).
  const [shown, setShown] = useState<{ preview: CalendarPreview; asked: string } | undefined>(undefined);
  const [err, setErr] = useState<unknown>(undefined);
  const invalid = Object.keys(validate({ ...form, id: form.id || 'preview', name: form.name || 'preview' })).length > 0;
  const body = JSON.stringify(toCalendar({ ...form, id: form.id || 'preview', name: form.name || 'preview' }));
  useEffect(() => {
    if (invalid) return;
    const ac = new AbortController();
    // Asked a moment after the last keystroke, not on each.
    const timer = setTimeout(() => {
      const from = new Date(Date.now() + week * 7 * 86400e3).toISOString().replace(/\.\d+Z$/, 'Z');
      schedule
        .previewCalendar({ calendar: JSON.parse(body) as CalendarBody, from, days: 7, transitions: 6 }, ac.signal)
        .then((p) => {
          setShown({ preview: p, asked: body + week });
          setErr(undefined);
        })
        .catch((e: unknown) => {
          if (!ac.signal.aborted) setErr(e);
        });
    }, 300);
    return () => {
      clearTimeout(timer);
      ac.abort();
    };
  }, [body, week, invalid]);
  if (invalid) return <p class="muted">{t('cal.previewInvalid')}</p>;
  if (err !== undefined) return <ErrorPanel error={err} what={t('cal.previewFailed')} />;
  if (!shown) return <Loading />;
  const preview = shown.preview;
  const zone = preview.time_zone || 'UTC';
  return (
    <div class="cal-preview" data-fresh={shown.asked === body + week ? 'true' : 'false'}>
      <div class="tabs">
        <button type="button" class="tab" id="cal-prev-week" onClick={() => setWeek(week - 1)}>
          {t('cal.prevWeek')}
        </button>
        <button type="button" class="tab" id="cal-this-week" onClick={() => setWeek(0)}>
          {t('cal.thisWeek')}
        </button>
        <button type="button" class="tab" id="cal-next-week" onClick={() => setWeek(week + 1)}>
          {t('cal.nextWeek')}
        </button>
      </div>
      <p class="small">
        <span class={preview.open_now ? 'badge ok' : 'badge'} id="cal-open-now">
          {week === 0 ? (preview.open_now ? t('cal.openNow') : t('cal.closedNow')) : t('cal.zone', { zone })}
        </span>{' '}
        <span class="muted">{t('cal.zone', { zone })}</span>
      </p>
      <div class="week-grid" role="table" aria-label={t('cal.preview')}>
        <div class="week-row week-head" role="row">
          <span class="week-day" role="columnheader" />
          {Array.from({ length: 24 }, (_, h) => (
            <span key={h} class="week-hour" role="columnheader">
              {h % 3 === 0 ? String(h).padStart(2, '0') : ''}
            </span>
          ))}
        </div>
        {(preview.days ?? []).map((d) => (
          <div class="week-row" role="row" key={d.date} data-date={d.date}>
            <span class="week-day" role="rowheader">
              <strong>{t(`cal.day.${d.weekday as Day}`)}</strong> {d.date.slice(5)}
              <span class="week-spans small">{(d.spans ?? []).length ? spansText(d.spans) : t('cal.closed')}</span>
              {d.source && <span class="week-source small muted">{d.source}</span>}
            </span>
            {Array.from({ length: 24 }, (_, h) => (
              <span key={h} class={`week-cell ${cover(d.spans ?? [], h)}`} role="cell" />
            ))}
          </div>
        ))}
      </div>
      <h3>{t('cal.transitions')}</h3>
      {(preview.transitions ?? []).length === 0 ? (
        <p class="muted">{t('cal.noTransitions')}</p>
      ) : (
        <ul class="cal-transitions">
          {(preview.transitions ?? []).map((tr) => (
            <li key={tr.at}>
              <span class={tr.open ? 'badge ok' : 'badge'}>{tr.open ? t('cal.opens') : t('cal.closes')}</span> {formatDateTime(new Date(tr.at), zone)}{' '}
              <span class="muted small">({zone})</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

