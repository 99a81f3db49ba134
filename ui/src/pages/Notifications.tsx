// Notifications: channels (a form per type, and a test send of the form
// as it stands), rules (channels, priorities, event kinds, suppression)
// and the notification log (recorded, held, sent, failed).

import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, type Notification, type NotifyChannel, type NotifyRule, type NotifyTestResult } from '../api';
import { notifyApi } from '../api/notify';
import { ErrorPanel } from '../components/ErrorPanel';
import { Area, Check, Input, Select } from '../components/Inputs';
import { Time } from '../components/Time';
import { Card, Loading } from '../components/bits';
import { badId, focusFirst, refusedField, refusedOn, required, splitList, type Errors } from '../forms';
import { t, tOr, type Key } from '../i18n';
import { query } from '../router';

type Tab = 'channels' | 'rules' | 'log';

/** A priority in words ("unknown" is the monitors' own, beside the events' severities). */
const prio = (p: string) => tOr(`severity.${p}`, tOr(`notify.p.${p}`, p));
const tabs: Tab[] = ['channels', 'rules', 'log'];

export function NotificationsPage() {
  const initial = query.value.get('tab') as Tab | null;
  const [tab, setTab] = useState<Tab>(initial && tabs.includes(initial) ? initial : 'channels');
  return (
    <div class="page">
      <h1>{t('notify.title')}</h1>
      <div class="tabs" role="tablist" aria-label={t('notify.title')}>
        {tabs.map((k) => (
          <button key={k} type="button" role="tab" id={`notify-tab-${k}`} aria-selected={tab === k} class={tab === k ? 'tab selected' : 'tab'} onClick={() => setTab(k)}>
            {t(`notify.tab.${k}`)}
          </button>
        ))}
      </div>
      {tab === 'channels' && <ChannelsTab />}
      {tab === 'rules' && <RulesTab />}
      {tab === 'log' && <LogTab />}
    </div>
  );
}

/** A list loaded from the appliance, with its error and a reload. */
function useList<T>(load: () => Promise<T[]>) {
  const [items, setItems] = useState<T[] | undefined>(undefined);
  const [err, setErr] = useState<unknown>(undefined);
  const reload = async () => {
    setErr(undefined);
    try {
      setItems(await load());
    } catch (e) {
      setErr(e);
    }
  };
  useEffect(() => void reload(), []);
  return { items, err, reload };
}

/** A loaded list: its error with a retry, loading, empty, or its items. */
function Listed<T>({ list, empty, children }: {
  list: { items: T[] | undefined; err: unknown; reload: () => Promise<void> };
  empty: string;
  children: (items: T[]) => ComponentChildren;
}) {
  if (list.err !== undefined) {
    return <ErrorPanel error={list.err} what={t('notify.loadFailed')} onRetry={() => void list.reload()} />;
  }
  if (!list.items) return <Loading />;
  if (list.items.length === 0) return <p class="muted">{empty}</p>;
  return <>{children(list.items)}</>;
}

/** Saving a form: client checks, then the appliance's refusal on the field it names. */
function useSave<K extends string>(prefix: string, order: readonly K[], label: (k: K) => string) {
  const [errors, setErrors] = useState<Errors<K>>({});
  const [failure, setFailure] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const fields = Object.fromEntries(order.map((k) => [k, k])) as Record<string, K>;
  const save = async (errs: Errors<K>, send: () => Promise<void>): Promise<boolean> => {
    setFailure(undefined);
    setErrors(errs);
    if (focusFirst(prefix, order, errs)) return false;
    setBusy(true);
    try {
      await send();
      return true;
    } catch (err) {
      const field = refusedField(err, fields);
      if (field && err instanceof ApiError) {
        const e2 = { [field]: refusedOn(label(field), err) } as Errors<K>;
        setErrors(e2);
        focusFirst(prefix, order, e2);
      } else setFailure(err);
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { errors, setErrors, failure, setFailure, busy, save };
}

// ---- Channels ----

type CKey =
  | 'id' | 'name' | 'scope' | 'owner_role' | 'type'
  | 'mail.server' | 'mail.security' | 'mail.username' | 'mail.password_credential' | 'mail.from' | 'mail.to' | 'mail.subject' | 'mail.body' | 'mail.ca'
  | 'webhook.url' | 'webhook.format' | 'webhook.token_credential' | 'webhook.ca'
  | 'command.argv' | 'command.timeout'
  | 'syslog.address' | 'syslog.transport' | 'syslog.facility' | 'syslog.app_name' | 'syslog.ca';
type CForm = Record<CKey, string>;
const cOrder: CKey[] = [
  'id', 'name', 'type', 'scope', 'owner_role',
  'mail.server', 'mail.security', 'mail.username', 'mail.password_credential', 'mail.from', 'mail.to', 'mail.subject', 'mail.body', 'mail.ca',
  'webhook.url', 'webhook.format', 'webhook.token_credential', 'webhook.ca',
  'command.argv', 'command.timeout',
  'syslog.address', 'syslog.transport', 'syslog.facility', 'syslog.app_name', 'syslog.ca',
];
const cBlank = Object.fromEntries(cOrder.map((k) => [k, ''])) as CForm;
Object.assign(cBlank, { type: 'mail', 'mail.security': 'starttls', 'webhook.format': 'alertmanager', 'command.timeout': '30s', 'syslog.transport': 'udp' });
const cLabel = (k: CKey) => t(`notify.c.${k}` as Key);
// Ids keep the API's dotted names, so focus and refusals find the field.
const cid = (k: CKey) => `nch-${k}`;

/** The fields required of each type. */
const cRequired: Record<string, CKey[]> = {
  mail: ['mail.server', 'mail.from', 'mail.to'],
  webhook: ['webhook.url'],
  command: ['command.argv'],
  syslog: ['syslog.address'],
};

function validateChannel(f: CForm): Errors<CKey> {
  const e: Errors<CKey> = {};
  e.id = badId(cLabel('id'), f.id);
  for (const k of cRequired[f.type] ?? []) e[k] ??= required(cLabel(k), f[k]);
  if (f.type === 'syslog' && f['syslog.facility'] && !/^\d{1,2}$/.test(f['syslog.facility'])) e['syslog.facility'] = t('form.range', { field: cLabel('syslog.facility'), min: 0, max: 23 });
  for (const k of cOrder) if (!e[k]) delete e[k];
  return e;
}

function toChannel(f: CForm): NotifyChannel {
  const opt = (k: CKey) => f[k].trim() || undefined;
  const c: NotifyChannel = { id: f.id.trim(), type: f.type as NotifyChannel['type'] };
  if (opt('name')) c.name = f.name.trim();
  if (opt('scope')) c.scope = f.scope.trim();
  if (opt('owner_role')) c.owner_role = f.owner_role.trim();
  switch (f.type) {
    case 'mail':
      c.mail = { server: f['mail.server'].trim(), security: f['mail.security'] as 'starttls', username: opt('mail.username'), password_credential: opt('mail.password_credential'),
        from: f['mail.from'].trim(), to: splitList(f['mail.to']), subject: opt('mail.subject'), body: opt('mail.body'), ca: opt('mail.ca') };
      break;
    case 'webhook':
      c.webhook = { url: f['webhook.url'].trim(), format: f['webhook.format'] as 'json', token_credential: opt('webhook.token_credential'), ca: opt('webhook.ca') };
      break;
    case 'command':
      c.command = { argv: f['command.argv'].split('\n').map((s) => s.trim()).filter(Boolean), timeout: opt('command.timeout') };
      break;
    case 'syslog':
      c.syslog = { address: f['syslog.address'].trim(), transport: f['syslog.transport'] as 'udp', facility: f['syslog.facility'] ? Number(f['syslog.facility']) : undefined,
        app_name: opt('syslog.app_name'), ca: opt('syslog.ca') };
      break;
  }
  return c;
}

function toCForm(c: NotifyChannel): CForm {
  const f: CForm = { ...cBlank, id: c.id, name: c.name ?? '', scope: c.scope ?? '', owner_role: c.owner_role ?? '', type: c.type };
  const put = (prefix: string, o: object | undefined) => {
    for (const [k, v] of Object.entries(o ?? {})) {
      const key = `${prefix}.${k}` as CKey;
      if (key in f && v !== undefined && v !== null) f[key] = Array.isArray(v) ? v.join(prefix === 'command' ? '\n' : ', ') : String(v);
    }
  };
  put('mail', c.mail);
  put('webhook', c.webhook);
  put('command', c.command);
  put('syslog', c.syslog);
  return f;
}

function target(c: NotifyChannel): string {
  if (c.mail) return `${c.mail.to?.join(', ')} (${c.mail.server})`;
  if (c.webhook) return `${c.webhook.format}: ${c.webhook.url}`;
  if (c.command) return (c.command.argv ?? []).join(' ');
  if (c.syslog) return `${c.syslog.transport ?? 'udp'}://${c.syslog.address}`;
  return '';
}

function ChannelsTab() {
  const list = useList(async () => (await notifyApi.channels()).channels ?? []);
  const [form, setForm] = useState<CForm>(cBlank);
  const [editing, setEditing] = useState(false);
  const [done, setDone] = useState('');
  const [tested, setTested] = useState<NotifyTestResult | undefined>(undefined);
  const s = useSave<CKey>('nch', cOrder, cLabel);
  const set = (k: CKey) => (v: string) => setForm({ ...form, [k]: v });
  const errOf = (k: CKey) => s.errors[k];
  const check = () => validateChannel(form);
  const reset = () => {
    setForm(cBlank);
    setEditing(false);
    s.setErrors({});
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    setDone('');
    setTested(undefined);
    if (await s.save(check(), async () => void (await notifyApi.putChannel(toChannel(form))))) {
      setDone(t('notify.saved', { id: form.id }));
      reset();
      await list.reload();
    }
  };
  const test = async () => {
    setDone('');
    setTested(undefined);
    await s.save(check(), async () => setTested(await notifyApi.testChannel(toChannel(form))));
  };
  const remove = async (c: NotifyChannel) => {
    if (!confirm(t('notify.confirmDelete', { id: c.id }))) return;
    s.setFailure(undefined);
    try {
      await notifyApi.deleteChannel(c.id);
      setDone(t('notify.deleted', { id: c.id }));
      await list.reload();
    } catch (err) {
      s.setFailure(err);
    }
  };
  const field = (k: CKey, hint?: Key) => <Input id={cid(k)} label={cLabel(k)} value={form[k]} onValue={set(k)} error={errOf(k)} hint={hint && t(hint)} />;
  const area = (k: CKey, hint?: Key) => <Area id={cid(k)} label={cLabel(k)} value={form[k]} onValue={set(k)} error={errOf(k)} hint={hint && t(hint)} />;
  const select = (k: CKey, opts: string[]) => (
    <Select id={cid(k)} label={cLabel(k)} value={form[k]} onValue={set(k)} error={errOf(k)} options={opts.map((o): [string, string] => [o, tOr(`notify.opt.${o}`, o)])} />
  );

  return (
    <>
      {done && <p class="notice" role="status">{done}</p>}
      {s.failure !== undefined && <ErrorPanel error={s.failure} what={t('notify.failed')} />}
      <div class="grid">
        <Card title={t('notify.channels')} id="notify-channels" wide>
          <Listed list={list} empty={t('notify.noChannels')}>
            {(items) => (
              <table class="table stack">
                <thead>
                  <tr>
                    <th scope="col">{cLabel('id')}</th>
                    <th scope="col">{cLabel('type')}</th>
                    <th scope="col">{t('notify.target')}</th>
                    <th scope="col">{cLabel('scope')}</th>
                    <th scope="col">{t('notify.actions')}</th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((c) => (
                    <tr key={c.id}>
                      <td data-label={cLabel('id')}>
                        <span>
                          {c.name || c.id} <span class="muted small">({c.id})</span>
                        </span>
                      </td>
                      <td data-label={cLabel('type')}>{tOr(`notify.opt.${c.type}`, c.type)}</td>
                      <td data-label={t('notify.target')} class="wrap">{target(c)}</td>
                      <td data-label={cLabel('scope')}>{c.scope || t('notify.everyScope')}</td>
                      <td data-label={t('notify.actions')} class="row-actions">
                        <button type="button" class="button small" onClick={() => { setForm(toCForm(c)); setEditing(true); s.setErrors({}); setTested(undefined); }}>
                          {t('notify.edit')}
                        </button>
                        <button type="button" class="button small danger" onClick={() => void remove(c)}>
                          {t('notify.delete')}
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </Listed>
        </Card>
        <Card title={editing ? t('notify.editChannel', { id: form.id }) : t('notify.newChannel')} id="notify-channel-form" wide>
          <form onSubmit={submit} noValidate aria-label={t('notify.newChannel')} class="form-grid">
            {field('id', 'notify.h.id')}
            {field('name')}
            {select('type', ['mail', 'webhook', 'command', 'syslog'])}
            {field('scope', 'notify.h.scope')}
            {form.type === 'mail' && (
              <>
                {field('mail.server', 'notify.h.server')}
                {select('mail.security', ['starttls', 'tls', 'none'])}
                {field('mail.username')}
                {field('mail.password_credential', 'notify.h.credential')}
                {field('mail.from')}
                {field('mail.to', 'notify.h.list')}
                {field('mail.subject', 'notify.h.template')}
                {area('mail.body', 'notify.h.template')}
                {area('mail.ca', 'notify.h.ca')}
              </>
            )}
            {form.type === 'webhook' && (
              <>
                {field('webhook.url')}
                {select('webhook.format', ['alertmanager', 'json', 'pagerduty'])}
                {field('webhook.token_credential', 'notify.h.token')}
                {area('webhook.ca', 'notify.h.ca')}
              </>
            )}
            {form.type === 'command' && (
              <>
                {area('command.argv', 'notify.h.argv')}
                {field('command.timeout')}
              </>
            )}
            {form.type === 'syslog' && (
              <>
                {field('syslog.address', 'notify.h.server')}
                {select('syslog.transport', ['udp', 'tcp', 'tls'])}
                {field('syslog.facility')}
                {field('syslog.app_name')}
                {area('syslog.ca', 'notify.h.ca')}
              </>
            )}
            {field('owner_role')}
            {tested && (
              <div class="form-actions">
                <p class={tested.sent ? 'notice' : 'field-error'} role="status" id="notify-test-result">
                  {tested.sent ? t('notify.testSent', { key: tested.key }) : t('notify.testFailed', { error: tested.error ?? '' })}
                </p>
              </div>
            )}
            <div class="form-actions">
              <button type="submit" class="button primary" disabled={s.busy}>
                {t('notify.save')}
              </button>
              <button type="button" class="button" id="notify-test" disabled={s.busy} onClick={() => void test()}>
                {t('notify.test')}
              </button>
              {editing && (
                <button type="button" class="button" onClick={reset}>
                  {t('notify.cancel')}
                </button>
              )}
            </div>
          </form>
        </Card>
      </div>
    </>
  );
}

// ---- Rules ----

type RKey = 'id' | 'name' | 'scope' | 'owner_role' | 'channels' | 'priorities' | 'events' | 'after' | 'renotify' | 'period' | 'calendar';
const rOrder: RKey[] = ['id', 'name', 'scope', 'channels', 'priorities', 'events', 'after', 'renotify', 'period', 'calendar', 'owner_role'];
interface RForm {
  id: string;
  name: string;
  scope: string;
  owner_role: string;
  channels: string[];
  priorities: string[];
  events: string;
  after: string;
  renotify: string;
  period: string;
  calendar: string;
  recovery: boolean;
  enabled: boolean;
}
const rBlank: RForm = { id: '', name: '', scope: '', owner_role: '', channels: [], priorities: ['critical', 'unknown'], events: '', after: '1', renotify: 'change', period: '', calendar: '', recovery: true, enabled: true };
const rLabel = (k: RKey) => t(`notify.r.${k}` as Key);
const priorities = ['critical', 'unknown', 'warning', 'info'];

function validateRule(f: RForm): Errors<RKey> {
  const e: Errors<RKey> = {};
  e.id = badId(rLabel('id'), f.id);
  if (f.channels.length === 0) e.channels = t('form.required', { field: rLabel('channels') });
  if (f.priorities.length === 0 && !f.events.trim() && !f.recovery) e.priorities = t('notify.neverNotifies');
  if (!/^\d{1,4}$/.test(f.after.trim()) || Number(f.after) < 1) e.after = t('form.range', { field: rLabel('after'), min: 1, max: 1000 });
  if (f.renotify === 'period') e.period = required(rLabel('period'), f.period);
  for (const k of rOrder) if (!e[k]) delete e[k];
  return e;
}

function toRule(f: RForm): NotifyRule {
  const r: NotifyRule = { id: f.id.trim(), enabled: f.enabled, channels: f.channels, recovery: f.recovery, after: Number(f.after), renotify: f.renotify as 'change' };
  if (f.name.trim()) r.name = f.name.trim();
  if (f.scope.trim()) r.scope = f.scope.trim();
  if (f.owner_role.trim()) r.owner_role = f.owner_role.trim();
  if (f.priorities.length) r.priorities = f.priorities;
  if (f.events.trim()) r.events = splitList(f.events);
  if (f.renotify === 'period') r.period = f.period.trim();
  if (f.calendar.trim()) r.calendar = f.calendar.trim();
  return r;
}

function toRForm(r: NotifyRule): RForm {
  return { id: r.id, name: r.name ?? '', scope: r.scope ?? '', owner_role: r.owner_role ?? '', channels: r.channels ?? [], priorities: r.priorities ?? [],
    events: (r.events ?? []).join(', '), after: String(r.after ?? 1), renotify: r.renotify ?? 'change', period: r.period ?? '', calendar: r.calendar ?? '',
    recovery: r.recovery, enabled: r.enabled };
}

function suppression(r: NotifyRule): string {
  const parts = [];
  if ((r.after ?? 1) > 1) parts.push(t('notify.afterN', { n: r.after ?? 1 }));
  parts.push(r.renotify === 'period' ? t('notify.renotifyEvery', { period: r.period ?? '' }) : tOr(`notify.opt.${r.renotify ?? 'change'}`, r.renotify ?? ''));
  if (r.recovery) parts.push(t('notify.r.recovery'));
  return parts.join(', ');
}

/** A group of checkboxes for a list of values. */
function Checks({ id, label, values, chosen, onChosen, error, name }: { id: string; label: string; values: string[]; chosen: string[]; onChosen: (v: string[]) => void; error?: string | undefined; name: (v: string) => string }) {
  return (
    <fieldset class={error ? 'field invalid' : 'field'} id={id} tabIndex={-1} aria-describedby={error ? `${id}-error` : undefined}>
      <legend>{label}</legend>
      {values.map((v) => (
        <Check key={v} id={`${id}-${v}`} label={name(v)} checked={chosen.includes(v)} onChecked={(on) => onChosen(on ? [...chosen, v] : chosen.filter((x) => x !== v))} />
      ))}
      {error && <p id={`${id}-error`} class="field-error">{error}</p>}
    </fieldset>
  );
}

function RulesTab() {
  const list = useList(async () => (await notifyApi.rules()).rules ?? []);
  const chans = useList(async () => (await notifyApi.channels()).channels ?? []);
  const [form, setForm] = useState<RForm>(rBlank);
  const [editing, setEditing] = useState(false);
  const [done, setDone] = useState('');
  const s = useSave<RKey>('nrule', rOrder, rLabel);
  const set = (k: Exclude<RKey, 'channels' | 'priorities'>) => (v: string) => setForm({ ...form, [k]: v });
  const reset = () => {
    setForm(rBlank);
    setEditing(false);
    s.setErrors({});
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    setDone('');
    if (await s.save(validateRule(form), async () => void (await notifyApi.putRule(toRule(form))))) {
      setDone(t('notify.saved', { id: form.id }));
      reset();
      await list.reload();
    }
  };
  const remove = async (r: NotifyRule) => {
    if (!confirm(t('notify.confirmDelete', { id: r.id }))) return;
    s.setFailure(undefined);
    try {
      await notifyApi.deleteRule(r.id);
      setDone(t('notify.deleted', { id: r.id }));
      await list.reload();
    } catch (err) {
      s.setFailure(err);
    }
  };
  const field = (k: Exclude<RKey, 'channels' | 'priorities'>, hint?: Key) => (
    <Input id={`nrule-${k}`} label={rLabel(k)} value={form[k]} onValue={set(k)} error={s.errors[k]} hint={hint && t(hint)} />
  );

  return (
    <>
      {done && <p class="notice" role="status">{done}</p>}
      {s.failure !== undefined && <ErrorPanel error={s.failure} what={t('notify.failed')} />}
      <div class="grid">
        <Card title={t('notify.rules')} id="notify-rules" wide>
          <Listed list={list} empty={t('notify.noRules')}>
            {(items) => (
              <table class="table stack">
                <thead>
                  <tr>
                    <th scope="col">{rLabel('id')}</th>
                    <th scope="col">{rLabel('channels')}</th>
                    <th scope="col">{t('notify.covers')}</th>
                    <th scope="col">{t('notify.suppression')}</th>
                    <th scope="col">{t('notify.enabled')}</th>
                    <th scope="col">{t('notify.actions')}</th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((r) => (
                    <tr key={r.id}>
                      <td data-label={rLabel('id')}>
                        <span>
                          {r.name || r.id} <span class="muted small">({r.id})</span>
                        </span>
                      </td>
                      <td data-label={rLabel('channels')}>{(r.channels ?? []).join(', ')}</td>
                      <td data-label={t('notify.covers')} class="wrap">
                        {[...(r.priorities ?? []).map(prio), ...(r.events ?? [])].join(', ')}
                      </td>
                      <td data-label={t('notify.suppression')}>{suppression(r)}</td>
                      <td data-label={t('notify.enabled')}>{r.enabled ? t('common.yes') : t('common.no')}</td>
                      <td data-label={t('notify.actions')} class="row-actions">
                        <button type="button" class="button small" onClick={() => { setForm(toRForm(r)); setEditing(true); s.setErrors({}); }}>
                          {t('notify.edit')}
                        </button>
                        <button type="button" class="button small danger" onClick={() => void remove(r)}>
                          {t('notify.delete')}
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </Listed>
        </Card>
        <Card title={editing ? t('notify.editRule', { id: form.id }) : t('notify.newRule')} id="notify-rule-form" wide>
          <form onSubmit={submit} noValidate aria-label={t('notify.newRule')} class="form-grid">
            {field('id', 'notify.h.id')}
            {field('name')}
            {field('scope', 'notify.h.scope')}
            <Check id="nrule-enabled" label={t('notify.enabled')} checked={form.enabled} onChecked={(v) => setForm({ ...form, enabled: v })} />
            <Checks id="nrule-channels" label={rLabel('channels')} values={(chans.items ?? []).map((c) => c.id)} chosen={form.channels}
              onChosen={(v) => setForm({ ...form, channels: v })} error={s.errors.channels} name={(v) => v} />
            <Checks id="nrule-priorities" label={rLabel('priorities')} values={priorities} chosen={form.priorities}
              onChosen={(v) => setForm({ ...form, priorities: v })} error={s.errors.priorities} name={prio} />
            {field('events', 'notify.h.events')}
            {field('after', 'notify.h.after')}
            <Select id="nrule-renotify" label={rLabel('renotify')} value={form.renotify} onValue={set('renotify')} error={s.errors.renotify}
              options={['change', 'always', 'period'].map((o): [string, string] => [o, t(`notify.opt.${o}` as Key)])} />
            {form.renotify === 'period' && field('period', 'notify.h.period')}
            <Check id="nrule-recovery" label={t('notify.r.recovery')} checked={form.recovery} onChecked={(v) => setForm({ ...form, recovery: v })} />
            {field('calendar', 'notify.h.calendar')}
            {field('owner_role')}
            <div class="form-actions">
              <button type="submit" class="button primary" disabled={s.busy}>
                {t('notify.save')}
              </button>
              {editing && (
                <button type="button" class="button" onClick={reset}>
                  {t('notify.cancel')}
                </button>
              )}
            </div>
          </form>
        </Card>
      </div>
    </>
  );
}

// ---- Log ----

const statusBadge: Record<string, string> = { sent: 'badge ok', recorded: 'badge warn', held: 'badge', failed: 'badge bad' };

function LogTab() {
  const [status, setStatus] = useState('');
  const [rows, setRows] = useState<Notification[] | undefined>(undefined);
  const [more, setMore] = useState(false);
  const [err, setErr] = useState<unknown>(undefined);
  const load = async (before?: number) => {
    setErr(undefined);
    try {
      const l = await notifyApi.log({ status: status || undefined, before, limit: 100 });
      const got = l.notifications ?? [];
      setRows(before ? [...(rows ?? []), ...got] : got);
      setMore(l.more);
    } catch (e) {
      setErr(e);
    }
  };
  useEffect(() => void load(), [status]);
  return (
    <Card title={t('notify.log')} id="notify-log" wide>
      <div class="filters">
        <Select id="nlog-status" label={t('notify.status')} value={status} onValue={setStatus}
          options={[['', t('notify.anyStatus')], ...['recorded', 'held', 'sent', 'failed'].map((s): [string, string] => [s, t(`notify.st.${s}` as Key)])]} />
        <button type="button" class="button" id="nlog-refresh" onClick={() => void load()}>
          {t('notify.refresh')}
        </button>
      </div>
      {err !== undefined ? (
        <ErrorPanel error={err} what={t('notify.loadFailed')} onRetry={() => void load()} />
      ) : !rows ? (
        <Loading />
      ) : rows.length === 0 ? (
        <p class="muted">{t('notify.noLog')}</p>
      ) : (
        <table class="table stack" id="nlog-table">
          <thead>
            <tr>
              <th scope="col">{t('notify.recordedAt')}</th>
              <th scope="col">{t('notify.status')}</th>
              <th scope="col">{t('notify.what')}</th>
              <th scope="col">{rLabel('channels')}</th>
              <th scope="col">{t('notify.attempts')}</th>
              <th scope="col">{t('notify.sentAt')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((n) => (
              <tr key={n.id} data-key={n.key}>
                <td data-label={t('notify.recordedAt')}>
                  <Time at={n.recorded_at} />
                </td>
                <td data-label={t('notify.status')}>
                  <span class={statusBadge[n.status] ?? 'badge'}>{t(`notify.st.${n.status}` as Key)}</span>
                  {n.window && <span class="muted small"> {t('notify.heldBy', { window: n.window })}</span>}
                </td>
                <td data-label={t('notify.what')} class="wrap">
                  {/* One block: the phone's stacked rows lay out a cell's children side by side. */}
                  <span>
                    {prio(n.priority)} {tOr(`notify.kind.${n.kind}`, n.kind)}: {n.event_kind || n.monitor_name || n.monitor}
                    {n.node_name || n.node ? ` @ ${n.node_name || n.node}` : ''} — {n.message}
                    {n.error && (
                      <>
                        <br />
                        <span class="field-error small">{n.error}</span>
                      </>
                    )}
                  </span>
                </td>
                <td data-label={rLabel('channels')}>
                  <span>
                    {n.channel} <span class="muted small">({n.rule})</span>
                  </span>
                </td>
                <td data-label={t('notify.attempts')} class="num">{n.attempts}</td>
                <td data-label={t('notify.sentAt')}>
                  <Time at={n.sent_at} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {more && rows && (
        <button type="button" class="button" onClick={() => void load(rows[rows.length - 1]?.id)}>
          {t('notify.older')}
        </button>
      )}
    </Card>
  );
}
