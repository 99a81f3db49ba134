// Maintenance windows: a quick "mute for N hours" of a node, scope or
// monitor; the windows active, upcoming and past with "end now"; and a
// form for each kind (one-off, weekly in a zone, following a calendar).
// Whether a window is active is the appliance's answer (the list's state),
// never computed here, so the page says what notifications will do.

import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, type Calendar, type WindowState } from '../api';
import { schedule, type WindowBody } from '../api/schedule';
import { ErrorPanel } from '../components/ErrorPanel';
import { Check, Input, Select } from '../components/Inputs';
import { Time } from '../components/Time';
import { Card, Loading } from '../components/bits';
import { badId, focusFirst, refusedField, refusedOn, required, rfc3339, splitList, tooLong, type Errors } from '../forms';
import { t, tOr } from '../i18n';
import { query } from '../router';
import { me } from '../session';
import { days, zones } from './Calendars';
import '../styles/schedule.css';

type Kind = 'once' | 'weekly' | 'calendar';
interface Form {
  kind: Kind;
  id: string;
  name: string;
  scope: string;
  owner_role: string;
  nodes: string;
  scopes: string;
  monitors: string;
  from: string;
  to: string;
  weekdays: string[];
  start: string;
  end: string;
  time_zone: string;
  calendar: string;
  inside: string;
  enabled: boolean;
  reason: string;
}
type FKey = Exclude<keyof Form, 'enabled' | 'weekdays'> | 'weekdays';
const order: FKey[] = ['kind', 'id', 'name', 'scope', 'nodes', 'scopes', 'monitors', 'from', 'to', 'weekdays', 'start', 'end', 'time_zone', 'calendar', 'owner_role', 'reason'];
const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
const blank = (): Form => ({
  kind: 'once',
  id: '',
  name: '',
  scope: '',
  owner_role: '',
  nodes: '',
  scopes: '',
  monitors: '',
  from: '',
  to: '',
  weekdays: ['sat'],
  start: '22:00',
  end: '02:00',
  time_zone: browserZone,
  calendar: '',
  inside: 'outside',
  enabled: true,
  reason: '',
});
const label = (k: FKey) => t(`maint.f.${k}`);
const hhmm = /^([01]\d|2[0-4]):[0-5]\d$/;

function validate(f: Form): Errors<FKey> {
  const e: Errors<FKey> = {};
  e.id = badId(label('id'), f.id);
  e.name = required(label('name'), f.name) ?? tooLong(label('name'), f.name, 256);
  e.scope = tooLong(label('scope'), f.scope, 64);
  if (!splitList(f.nodes).length && !splitList(f.scopes).length && !splitList(f.monitors).length) e.nodes = t('maint.noTarget');
  if (f.from && !rfc3339(f.from)) e.from = t('form.required', { field: label('from') });
  if (f.kind === 'once') {
    e.from = e.from ?? required(label('from'), f.from);
    e.to = required(label('to'), f.to);
  }
  if (f.from && f.to && !e.from && new Date(f.to) <= new Date(f.from)) e.to = t('maint.toBeforeFrom');
  if (f.kind === 'weekly') {
    if (!f.weekdays.length) e.weekdays = t('maint.noWeekday');
    for (const k of ['start', 'end'] as const) if (!hhmm.test(f[k])) e[k] = t('maint.badTime', { field: label(k) });
    if (!e.start && f.start === f.end) e.end = t('maint.sameTime');
    e.time_zone = required(label('time_zone'), f.time_zone);
  }
  if (f.kind === 'calendar') e.calendar = required(label('calendar'), f.calendar);
  e.reason = tooLong(label('reason'), f.reason, 1024);
  for (const k of order) if (!e[k]) delete e[k];
  return e;
}

function toWindow(f: Form): WindowBody {
  const w: WindowBody = {
    id: f.id.trim(),
    name: f.name.trim(),
    scope: f.scope.trim(),
    kind: f.kind,
    enabled: f.enabled,
    nodes: splitList(f.nodes),
    scopes: splitList(f.scopes),
    monitors: splitList(f.monitors),
  };
  const from = rfc3339(f.from);
  const to = rfc3339(f.to);
  if (from) w.from = from;
  if (to) w.to = to;
  if (f.owner_role.trim()) w.owner_role = f.owner_role.trim();
  if (f.reason.trim()) w.reason = f.reason.trim();
  if (f.kind === 'weekly') Object.assign(w, { weekdays: f.weekdays, start: f.start, end: f.end, time_zone: f.time_zone.trim() });
  if (f.kind === 'calendar') Object.assign(w, { calendar: f.calendar, inside: f.inside === 'inside' });
  return w;
}

/** An RFC 3339 time as a datetime-local value in the browser's zone. */
function local(at: string | undefined): string {
  if (!at) return '';
  const d = new Date(at);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

function toForm(w: WindowState): Form {
  return {
    ...blank(),
    kind: w.kind,
    id: w.id,
    name: w.name,
    scope: w.scope,
    owner_role: w.owner_role ?? '',
    nodes: (w.nodes ?? []).join(', '),
    scopes: (w.scopes ?? []).join(', '),
    monitors: (w.monitors ?? []).join(', '),
    from: local(w.from),
    to: local(w.to),
    weekdays: w.weekdays ?? [],
    start: w.start ?? '22:00',
    end: w.end ?? '02:00',
    time_zone: w.time_zone ?? browserZone,
    calendar: w.calendar ?? '',
    inside: w.inside ? 'inside' : 'outside',
    enabled: w.enabled,
    reason: w.reason ?? '',
  };
}

const apiFields: Record<string, FKey> = { ...Object.fromEntries(order.map((k) => [k, k])), targets: 'nodes', target: 'nodes' };
type Filter = 'active' | 'upcoming' | 'past' | 'all';
/** A call whose answer the page does not need. */
interface Thunk {
  (): Promise<unknown>;
}

/** Whether the user may read a function (GET /api/v1/me lists the privileges). */
const mayRead = (f: 'inventory' | 'calendars') => (me()?.privileges?.[f] ?? []).includes('read');

/** The nodes the user sees, offered as they type a target (none without inventory read). */
function NodeList() {
  const [ids, setIds] = useState<string[]>([]);
  useEffect(() => {
    if (!mayRead('inventory')) return;
    api.nodes().then(
      (n) => setIds(n.nodes.map((x) => x.id)),
      () => setIds([]),
    );
  }, []);
  return (
    <datalist id="maint-node-ids">
      {ids.map((id) => (
        <option key={id} value={id} />
      ))}
    </datalist>
  );
}

export function MaintenancePage() {
  const [list, setList] = useState<WindowState[] | undefined>(undefined);
  const [calendars, setCalendars] = useState<Calendar[]>([]);
  const [loadErr, setLoadErr] = useState<unknown>(undefined);
  const [filter, setFilter] = useState<Filter>('active');
  const [form, setForm] = useState<Form>(blank);
  const [editing, setEditing] = useState(false);
  const [errors, setErrors] = useState<Errors<FKey>>({});
  const [failure, setFailure] = useState<unknown>(undefined);
  const [done, setDone] = useState('');
  const [busy, setBusy] = useState(false);

  const load = async () => {
    setLoadErr(undefined);
    try {
      setList((await schedule.windows()).windows ?? []);
    } catch (e) {
      setLoadErr(e);
    }
    // Calendars are only offered in the form: a user without the
    // calendar privilege still manages the other kinds.
    if (mayRead('calendars'))
      schedule.calendars().then(
        (c) => setCalendars(c.calendars ?? []),
        () => setCalendars([]),
      );
  };
  useEffect(() => {
    void load();
    // States move with the clock: read them again every 15 s.
    const timer = setInterval(() => void load(), 15000);
    return () => clearInterval(timer);
  }, []);

  const act = async (what: Thunk, message: string) => {
    setFailure(undefined);
    setDone('');
    try {
      await what();
      setDone(message);
      await load();
    } catch (err) {
      setFailure(err);
    }
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    setDone('');
    setFailure(undefined);
    const errs = validate(form);
    setErrors(errs);
    if (focusFirst('maint', order, errs)) return;
    setBusy(true);
    try {
      await schedule.putWindow(toWindow(form));
      setDone(t('maint.saved', { id: form.id }));
      setForm(blank());
      setEditing(false);
      await load();
    } catch (err) {
      const field = refusedField(err, apiFields);
      if (field && err instanceof ApiError) {
        const errs2 = { [field]: refusedOn(label(field), err) };
        setErrors(errs2);
        focusFirst('maint', order, errs2);
      } else setFailure(err);
    } finally {
      setBusy(false);
    }
  };

  const shown = (list ?? []).filter((w) => filter === 'all' || w.status === filter || (filter === 'past' && w.status === 'disabled'));
  const count = (f: Filter) => (list ?? []).filter((w) => w.status === f || (f === 'past' && w.status === 'disabled')).length;
  return (
    <div class="page">
      <h1>{t('maint.title')}</h1>
      <NodeList />
      {done && (
        <p class="notice" role="status">
          {done}
        </p>
      )}
      {failure !== undefined && <ErrorPanel error={failure} what={t('maint.failed')} />}
      <div class="grid">
        <Card title={t('maint.mute')} id="maint-mute" wide>
          <MuteForm onDone={(m) => void act(async () => undefined, m)} />
        </Card>
        <Card title={t('maint.list')} id="maint-list" wide>
          <div class="tabs" role="tablist">
            {(['active', 'upcoming', 'past', 'all'] as const).map((f) => (
              <button
                key={f}
                type="button"
                role="tab"
                id={`maint-tab-${f}`}
                aria-selected={filter === f}
                class={filter === f ? 'tab selected' : 'tab'}
                onClick={() => setFilter(f)}
              >
                {t(`maint.tab.${f}`)}
                {f !== 'all' && list ? ` (${count(f)})` : ''}
              </button>
            ))}
          </div>
          {loadErr !== undefined ? (
            <ErrorPanel error={loadErr} what={t('maint.loadFailed')} onRetry={() => void load()} />
          ) : !list ? (
            <Loading />
          ) : shown.length === 0 ? (
            <p class="muted">{t('maint.none')}</p>
          ) : (
            <WindowTable
              list={shown}
              onEnd={(w) => void act(() => schedule.endWindow(w.id), t('maint.ended', { name: w.name }))}
              onEdit={(w) => {
                setForm(toForm(w));
                setEditing(true);
                setErrors({});
                setTimeout(() => document.getElementById('maint-name')?.focus(), 0);
              }}
              onDelete={(w) => {
                if (confirm(t('maint.confirmDelete', { name: w.name }))) void act(() => schedule.deleteWindow(w.id), t('maint.deleted', { id: w.id }));
              }}
            />
          )}
        </Card>
        <Card title={editing ? t('maint.edit', { id: form.id }) : t('maint.new')} id="maint-form" wide>
          <form onSubmit={submit} noValidate aria-label={t('maint.new')}>
            <WindowFields form={form} setForm={setForm} errors={errors} calendars={calendars} />
            <div class="form-actions">
              <button type="submit" class="button primary" disabled={busy}>
                {t('maint.save')}
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
                  {t('maint.cancel')}
                </button>
              )}
            </div>
          </form>
        </Card>
      </div>
    </div>
  );
}

type MuteKey = 'target' | 'duration' | 'reason';
/**
 * The target a link asked to mute: other screens (the status grid, a node)
 * link to /maintenance?mute=node&target=web1 and the operator only adds
 * the reason.
 */
function linkedTarget(): { what: 'node' | 'scope' | 'monitor'; target: string } {
  const q = query.value;
  const what = q.get('mute');
  if (what === 'node' || what === 'scope' || what === 'monitor') return { what, target: q.get('target') ?? '' };
  return { what: 'node', target: '' };
}

function MuteForm({ onDone }: { onDone: (message: string) => void }) {
  const linked = linkedTarget();
  const [what, setWhat] = useState<'node' | 'scope' | 'monitor'>(linked.what);
  const [target, setTarget] = useState(linked.target);
  useEffect(() => {
    if (linked.target) setTimeout(() => document.getElementById('mute-reason')?.focus(), 0);
  }, []);
  const [hours, setHours] = useState('2');
  const [reason, setReason] = useState('');
  const [errors, setErrors] = useState<Errors<MuteKey>>({});
  const [failure, setFailure] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setFailure(undefined);
    const errs: Errors<MuteKey> = {};
    errs.target = required(t(`maint.target.${what}`), target);
    errs.reason = required(t('maint.f.reason'), reason);
    for (const k of ['target', 'reason'] as const) if (!errs[k]) delete errs[k];
    setErrors(errs);
    if (focusFirst('mute', ['target', 'duration', 'reason'], errs)) return;
    setBusy(true);
    try {
      const m = await schedule.mute({ [what]: target.trim(), duration: `${hours}h`, reason: reason.trim() });
      setTarget('');
      setReason('');
      onDone(t('maint.muted', { target: target.trim(), until: new Date(m.to).toLocaleString() }));
    } catch (err) {
      if (err instanceof ApiError && err.status === 400) setErrors({ target: refusedOn(t(`maint.target.${what}`), err) });
      else setFailure(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} noValidate aria-label={t('maint.mute')}>
      <p class="muted small">{t('maint.h.mute')}</p>
      <div class="form-grid">
        <Select
          id="mute-what"
          label={t('maint.f.what')}
          value={what}
          onValue={(v) => setWhat(v as typeof what)}
          options={(['node', 'scope', 'monitor'] as const).map((k): [string, string] => [k, t(`maint.target.${k}`)])}
        />
        <Input id="mute-target" label={t(`maint.target.${what}`)} value={target} onValue={setTarget} error={errors.target} list={what === 'node' ? 'maint-node-ids' : undefined} />
        <Select
          id="mute-duration"
          label={t('maint.f.duration')}
          value={hours}
          onValue={setHours}
          options={['1', '2', '4', '8', '24', '72'].map((h): [string, string] => [h, t('maint.hours', { n: h })])}
        />
        <Input id="mute-reason" label={t('maint.f.reason')} value={reason} onValue={setReason} error={errors.reason} />
      </div>
      {failure !== undefined && <ErrorPanel error={failure} what={t('maint.failed')} />}
      <div class="form-actions">
        <button type="submit" class="button primary" disabled={busy} id="mute-submit">
          {t('maint.muteButton')}
        </button>
      </div>
    </form>
  );
}

/** What a window's schedule is, in words. */
function describe(w: WindowState) {
  switch (w.kind) {
    case 'weekly':
      return t('maint.weeklyAt', {
        days: (w.weekdays ?? []).map((d) => tOr(`cal.day.${d}`, d)).join(', '),
        start: w.start ?? '',
        end: w.end ?? '',
        zone: w.time_zone || 'UTC',
      });
    case 'calendar':
      return t(w.inside ? 'maint.insideCal' : 'maint.outsideCal', { calendar: w.calendar ?? '' });
    default:
      return t('maint.kind.once');
  }
}

function WindowTable({ list, onEnd, onEdit, onDelete }: { list: WindowState[]; onEnd: (w: WindowState) => void; onEdit: (w: WindowState) => void; onDelete: (w: WindowState) => void }) {
  const targets = (w: WindowState) =>
    [...(w.nodes ?? []).map((x) => `${t('maint.target.node')} ${x}`), ...(w.scopes ?? []).map((x) => `${t('maint.target.scope')} ${x}`), ...(w.monitors ?? []).map((x) => `${t('maint.target.monitor')} ${x}`)].join(', ');
  return (
    <table class="table stack">
      <thead>
        <tr>
          <th scope="col">{label('name')}</th>
          <th scope="col">{t('maint.when')}</th>
          <th scope="col">{t('maint.targets')}</th>
          <th scope="col">{t('maint.status')}</th>
          <th scope="col">{t('maint.actions')}</th>
        </tr>
      </thead>
      <tbody>
        {list.map((w) => (
          <tr key={w.id} data-window={w.id} data-status={w.status}>
            <td data-label={label('name')}>
              {w.name} <span class="muted small">({w.id})</span>
              {w.reason && <span class="block small muted">{w.reason}</span>}
            </td>
            <td data-label={t('maint.when')}>
              {describe(w)}
              {(w.from || w.to) && (
                <span class="block small">
                  <Time at={w.from} /> – <Time at={w.to} />
                </span>
              )}
              {w.next_start && (
                <span class="block small muted">
                  {t('maint.nextStart')} <Time at={w.next_start} />
                </span>
              )}
            </td>
            <td data-label={t('maint.targets')}>{targets(w)}</td>
            <td data-label={t('maint.status')}>
              <span class={`badge maint-${w.status}`}>{tOr(`maint.state.${w.status}`, w.status)}</span>
            </td>
            <td data-label={t('maint.actions')} class="row-actions">
              {(w.status === 'active' || w.status === 'upcoming') && (
                <button type="button" class="button small" onClick={() => onEnd(w)}>
                  {t('maint.endNow')}
                </button>
              )}
              <button type="button" class="button small" onClick={() => onEdit(w)}>
                {t('maint.editButton')}
              </button>
              <button type="button" class="button small danger" onClick={() => onDelete(w)}>
                {t('maint.delete')}
              </button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function WindowFields({ form, setForm, errors, calendars }: { form: Form; setForm: (f: Form) => void; errors: Errors<FKey>; calendars: Calendar[] }) {
  const set = (k: Exclude<FKey, 'weekdays'>) => (v: string) => setForm({ ...form, [k]: v });
  const bounds = form.kind !== 'once';
  return (
    <div class="form-grid">
      <Select
        id="maint-kind"
        label={label('kind')}
        value={form.kind}
        onValue={(v) => setForm({ ...form, kind: v as Kind })}
        options={(['once', 'weekly', 'calendar'] as const).map((k): [string, string] => [k, t(`maint.kind.${k}`)])}
      />
      <Input id="maint-id" label={label('id')} value={form.id} onValue={set('id')} error={errors.id} hint={t('maint.h.id')} />
      <Input id="maint-name" label={label('name')} value={form.name} onValue={set('name')} error={errors.name} />
      <Input id="maint-scope" label={label('scope')} value={form.scope} onValue={set('scope')} error={errors.scope} hint={t('maint.h.scope')} />
      <Input id="maint-nodes" list="maint-node-ids" label={label('nodes')} value={form.nodes} onValue={set('nodes')} error={errors.nodes} hint={t('maint.h.list')} />
      <Input id="maint-scopes" label={label('scopes')} value={form.scopes} onValue={set('scopes')} error={errors.scopes} hint={t('maint.h.list')} />
      <Input id="maint-monitors" label={label('monitors')} value={form.monitors} onValue={set('monitors')} error={errors.monitors} hint={t('maint.h.list')} />
      <Input id="maint-from" type="datetime-local" label={label('from')} value={form.from} onValue={set('from')} error={errors.from} hint={bounds ? t('maint.h.bound') : undefined} />
      <Input id="maint-to" type="datetime-local" label={label('to')} value={form.to} onValue={set('to')} error={errors.to} hint={bounds ? t('maint.h.bound') : undefined} />
      {form.kind === 'weekly' && (
        <>
          <fieldset class="maint-days" id="maint-weekdays" tabIndex={-1} aria-invalid={errors.weekdays ? true : undefined}>
            <legend>{label('weekdays')}</legend>
            {days.map((d) => (
              <Check
                key={d}
                id={`maint-day-${d}`}
                label={t(`cal.day.${d}`)}
                checked={form.weekdays.includes(d)}
                onChecked={(on) => setForm({ ...form, weekdays: on ? [...form.weekdays, d] : form.weekdays.filter((x) => x !== d) })}
              />
            ))}
            {errors.weekdays && <p class="field-error">{errors.weekdays}</p>}
          </fieldset>
          <Input id="maint-start" label={label('start')} value={form.start} onValue={set('start')} error={errors.start} hint={t('maint.h.time')} />
          <Input id="maint-end" label={label('end')} value={form.end} onValue={set('end')} error={errors.end} hint={t('maint.h.end')} />
          <Input id="maint-time_zone" label={label('time_zone')} value={form.time_zone} onValue={set('time_zone')} error={errors.time_zone} list="maint-zones" />
          <datalist id="maint-zones">
            {zones.map((z) => (
              <option key={z} value={z} />
            ))}
          </datalist>
        </>
      )}
      {form.kind === 'calendar' && (
        <>
          <Select
            id="maint-calendar"
            label={label('calendar')}
            value={form.calendar}
            onValue={set('calendar')}
            error={errors.calendar}
            options={[['', t('maint.chooseCalendar')], ...calendars.map((c): [string, string] => [c.id, `${c.name} (${c.id})`])]}
          />
          <Select
            id="maint-inside"
            label={label('inside')}
            value={form.inside}
            onValue={set('inside')}
            options={[
              ['outside', t('maint.outside')],
              ['inside', t('maint.inside')],
            ]}
          />
        </>
      )}
      <Input id="maint-owner_role" label={label('owner_role')} value={form.owner_role} onValue={set('owner_role')} error={errors.owner_role} />
      <Input id="maint-reason" label={label('reason')} value={form.reason} onValue={set('reason')} error={errors.reason} />
      <Check id="maint-enabled" label={t('maint.f.enabled')} checked={form.enabled} onChecked={(v) => setForm({ ...form, enabled: v })} />
    </div>
  );
}
