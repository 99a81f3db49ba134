// Monitor rules: the list in evaluation order and a form that checks what
// it can before sending (required fields, numbers, regular expressions
// that do not compile) and shows the appliance's refusal on the field it
// names.

import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, type MonitorRule } from '../api';
import { ErrorPanel } from '../components/ErrorPanel';
import { Area, Check, Input, Select } from '../components/Inputs';
import { Card, Loading } from '../components/bits';
import { badId, badRegexp, focusFirst, refusedField, refusedOn, required, splitList, tooLong, type Errors } from '../forms';
import { t, tOr } from '../i18n';

interface Form {
  id: string;
  name: string;
  scope: string;
  position: string;
  enabled: boolean;
  kind: string;
  host: string;
  app: string;
  pattern: string;
  exclude: string;
  keywords: string;
  facilities: string;
  max_severity: string;
  trap_oid: string;
  action: string;
  priority: string;
  template: string;
  owner_role: string;
}
type FKey = Exclude<keyof Form, 'enabled'>;
const order: FKey[] = ['id', 'name', 'scope', 'position', 'kind', 'host', 'app', 'pattern', 'exclude', 'keywords', 'facilities', 'max_severity', 'trap_oid', 'action', 'priority', 'template', 'owner_role'];
const blank: Form = {
  id: '',
  name: '',
  scope: '',
  position: '100',
  enabled: true,
  kind: 'syslog',
  host: '',
  app: '',
  pattern: '',
  exclude: '',
  keywords: '',
  facilities: '',
  max_severity: '',
  trap_oid: '',
  action: 'notify',
  priority: 'warning',
  template: '',
  owner_role: '',
};
const label = (k: FKey) => t(`rules.f.${k}`);

export function validateRule(f: Form): Errors<FKey> {
  const e: Errors<FKey> = {};
  e.id = badId(label('id'), f.id);
  e.name = required(label('name'), f.name) ?? tooLong(label('name'), f.name, 256);
  e.scope = tooLong(label('scope'), f.scope, 64);
  if (!/^-?\d{1,9}$/.test(f.position.trim())) e.position = t('form.integer', { field: label('position') });
  for (const k of ['host', 'app', 'pattern', 'exclude'] as const) e[k] = tooLong(label(k), f[k], 4096) ?? badRegexp(label(k), f[k]);
  const fac = splitList(f.facilities);
  if (fac.some((x) => !/^\d+$/.test(x) || Number(x) > 23)) e.facilities = t('form.range', { field: label('facilities'), min: 0, max: 23 });
  if (splitList(f.keywords).length > 64) e.keywords = t('form.tooMany', { field: label('keywords'), max: 64 });
  e.trap_oid = tooLong(label('trap_oid'), f.trap_oid, 512);
  if (f.action === 'notify' && !f.priority) e.priority = t('form.required', { field: label('priority') });
  e.template = tooLong(label('template'), f.template, 4096);
  e.owner_role = tooLong(label('owner_role'), f.owner_role, 64);
  for (const k of order) if (!e[k]) delete e[k];
  return e;
}

function toRule(f: Form): MonitorRule {
  const r: MonitorRule = {
    id: f.id.trim(),
    name: f.name.trim(),
    scope: f.scope.trim(),
    position: Number(f.position.trim()),
    enabled: f.enabled,
    kind: f.kind as MonitorRule['kind'],
    action: f.action as MonitorRule['action'],
  };
  if (f.host) r.host = f.host;
  if (f.app) r.app = f.app;
  if (f.pattern) r.pattern = f.pattern;
  if (f.exclude) r.exclude = f.exclude;
  if (f.keywords.trim()) r.keywords = splitList(f.keywords);
  // Conditions of another kind of message are not sent (the form hides them).
  if (f.kind === 'syslog' && f.facilities.trim()) r.facilities = splitList(f.facilities).map(Number);
  if (f.kind === 'syslog' && f.max_severity !== '') r.max_severity = Number(f.max_severity);
  if (f.kind === 'trap' && f.trap_oid.trim()) r.trap_oid = f.trap_oid.trim();
  if (f.owner_role.trim()) r.owner_role = f.owner_role.trim();
  if (f.action === 'notify') r.priority = f.priority as MonitorRule['priority'];
  if (f.template) r.template = f.template;
  return r;
}

function toForm(r: MonitorRule): Form {
  return {
    id: r.id,
    name: r.name,
    scope: r.scope,
    position: String(r.position),
    enabled: r.enabled,
    kind: r.kind,
    host: r.host ?? '',
    app: r.app ?? '',
    pattern: r.pattern ?? '',
    exclude: r.exclude ?? '',
    keywords: (r.keywords ?? []).join(', '),
    facilities: (r.facilities ?? []).join(', '),
    max_severity: r.max_severity === undefined ? '' : String(r.max_severity),
    trap_oid: r.trap_oid ?? '',
    action: r.action,
    priority: r.priority ?? 'warning',
    template: r.template ?? '',
    owner_role: r.owner_role ?? '',
  };
}

/** The API's field names in its refusals, mapped to the form's. */
const apiFields: Record<string, FKey> = Object.fromEntries(order.map((k) => [k, k]));

export function RulesPage() {
  const [rules, setRules] = useState<MonitorRule[] | undefined>(undefined);
  const [loadErr, setLoadErr] = useState<unknown>(undefined);
  const [form, setForm] = useState<Form>(blank);
  const [editing, setEditing] = useState(false);
  const [errors, setErrors] = useState<Errors<FKey>>({});
  const [failure, setFailure] = useState<unknown>(undefined);
  const [done, setDone] = useState('');
  const [busy, setBusy] = useState(false);
  const set = (k: FKey) => (v: string) => setForm({ ...form, [k]: v });

  const load = async () => {
    setLoadErr(undefined);
    try {
      setRules((await api.rules()).rules);
    } catch (e) {
      setLoadErr(e);
    }
  };
  useEffect(() => void load(), []);

  const submit = async (e: Event) => {
    e.preventDefault();
    setDone('');
    setFailure(undefined);
    const errs = validateRule(form);
    setErrors(errs);
    if (focusFirst('rule', order, errs)) return;
    setBusy(true);
    try {
      await api.putRule(toRule(form));
      setDone(t('rules.saved', { id: form.id }));
      setForm(blank);
      setEditing(false);
      await load();
    } catch (err) {
      const field = refusedField(err, apiFields);
      if (field && err instanceof ApiError) {
        const errs2 = { [field]: refusedOn(label(field), err) };
        setErrors(errs2);
        focusFirst('rule', order, errs2);
      } else setFailure(err);
    } finally {
      setBusy(false);
    }
  };
  const remove = async (r: MonitorRule) => {
    if (!confirm(t('rules.confirmDelete', { name: r.name }))) return;
    setFailure(undefined);
    try {
      await api.deleteRule(r.id);
      setDone(t('rules.deleted', { id: r.id }));
      await load();
    } catch (err) {
      setFailure(err);
    }
  };

  return (
    <div class="page">
      <h1>{t('rules.title')}</h1>
      {done && (
        <p class="notice" role="status">
          {done}
        </p>
      )}
      {failure !== undefined && <ErrorPanel error={failure} what={t('rules.failed')} />}
      <div class="grid">
        <Card title={t('rules.list')} id="rules-list" wide>
          {loadErr !== undefined ? (
            <ErrorPanel error={loadErr} what={t('rules.loadFailed')} onRetry={() => void load()} />
          ) : !rules ? (
            <Loading />
          ) : rules.length === 0 ? (
            <p class="muted">{t('rules.none')}</p>
          ) : (
            <RuleTable
              rules={rules}
              onEdit={(r) => {
                setForm(toForm(r));
                setEditing(true);
                setErrors({});
                document.getElementById('rule-name')?.focus();
              }}
              onDelete={(r) => void remove(r)}
            />
          )}
        </Card>
        <Card title={editing ? t('rules.edit', { id: form.id }) : t('rules.new')} id="rule-form" wide>
          <form onSubmit={submit} noValidate aria-label={t('rules.new')} class="form-grid">
            <Input id="rule-id" label={label('id')} value={form.id} onValue={set('id')} error={errors.id} hint={t('rules.h.id')} />
            <Input id="rule-name" label={label('name')} value={form.name} onValue={set('name')} error={errors.name} />
            <Input id="rule-scope" label={label('scope')} value={form.scope} onValue={set('scope')} error={errors.scope} hint={t('rules.h.scope')} />
            <Input id="rule-position" label={label('position')} value={form.position} onValue={set('position')} error={errors.position} hint={t('rules.h.position')} />
            <Select
              id="rule-kind"
              label={label('kind')}
              value={form.kind}
              onValue={set('kind')}
              error={errors.kind}
              options={[
                ['syslog', t('messages.kind.syslog')],
                ['trap', t('messages.kind.traps')],
                ['custom', t('messages.kind.custom')],
              ]}
            />
            <Check id="rule-enabled" label={t('rules.f.enabled')} checked={form.enabled} onChecked={(v) => setForm({ ...form, enabled: v })} />
            <Input id="rule-host" label={label('host')} value={form.host} onValue={set('host')} error={errors.host} hint={t('rules.h.regexp')} />
            <Input id="rule-app" label={label('app')} value={form.app} onValue={set('app')} error={errors.app} hint={t('rules.h.regexp')} />
            <Input id="rule-pattern" label={label('pattern')} value={form.pattern} onValue={set('pattern')} error={errors.pattern} hint={t('rules.h.regexp')} />
            <Input id="rule-exclude" label={label('exclude')} value={form.exclude} onValue={set('exclude')} error={errors.exclude} hint={t('rules.h.regexp')} />
            <Input id="rule-keywords" label={label('keywords')} value={form.keywords} onValue={set('keywords')} error={errors.keywords} hint={t('rules.h.list')} />
            {form.kind === 'syslog' && (
              <>
                <Input id="rule-facilities" label={label('facilities')} value={form.facilities} onValue={set('facilities')} error={errors.facilities} hint={t('rules.h.list')} />
                <Select
                  id="rule-max_severity"
                  label={label('max_severity')}
                  value={form.max_severity}
                  onValue={set('max_severity')}
                  error={errors.max_severity}
                  options={[['', t('messages.anySeverity')], ...[0, 1, 2, 3, 4, 5, 6, 7].map((i): [string, string] => [String(i), String(i)])]}
                />
              </>
            )}
            {form.kind === 'trap' && <Input id="rule-trap_oid" label={label('trap_oid')} value={form.trap_oid} onValue={set('trap_oid')} error={errors.trap_oid} />}
            <Select
              id="rule-action"
              label={label('action')}
              value={form.action}
              onValue={set('action')}
              error={errors.action}
              options={[
                ['notify', t('rules.action.notify')],
                ['drop', t('rules.action.drop')],
              ]}
            />
            {form.action === 'notify' && (
              <Select
                id="rule-priority"
                label={label('priority')}
                value={form.priority}
                onValue={set('priority')}
                error={errors.priority}
                options={['critical', 'warning', 'info', 'unknown'].map((p): [string, string] => [p, tOr(`severity.${p}`, p)])}
              />
            )}
            <Input id="rule-owner_role" label={label('owner_role')} value={form.owner_role} onValue={set('owner_role')} error={errors.owner_role} hint={t('rules.h.owner')} />
            <Area id="rule-template" label={label('template')} value={form.template} onValue={set('template')} error={errors.template} hint={t('rules.h.template')} />
            <div class="form-actions">
              <button type="submit" class="button primary" disabled={busy}>
                {t('rules.save')}
              </button>
              {editing && (
                <button
                  type="button"
                  class="button"
                  onClick={() => {
                    setForm(blank);
                    setEditing(false);
                    setErrors({});
                  }}
                >
                  {t('rules.cancel')}
                </button>
              )}
            </div>
          </form>
        </Card>
      </div>
    </div>
  );
}

function RuleTable({ rules, onEdit, onDelete }: { rules: MonitorRule[]; onEdit: (r: MonitorRule) => void; onDelete: (r: MonitorRule) => void }) {
  const sorted = [...rules].sort((a, b) => (a.scope === b.scope ? a.position - b.position : a.scope < b.scope ? -1 : 1));
  return (
    <table class="table stack">
      <thead>
        <tr>
          <th scope="col">{t('rules.f.scope')}</th>
          <th scope="col" class="num">
            {t('rules.f.position')}
          </th>
          <th scope="col">{t('rules.f.name')}</th>
          <th scope="col">{t('rules.f.kind')}</th>
          <th scope="col">{t('rules.f.action')}</th>
          <th scope="col">{t('rules.f.enabled')}</th>
          <th scope="col">{t('rules.actions')}</th>
        </tr>
      </thead>
      <tbody>
        {sorted.map((r) => (
          <tr key={r.id}>
            <td data-label={t('rules.f.scope')}>{r.scope || t('rules.everyScope')}</td>
            <td data-label={t('rules.f.position')} class="num">
              {r.position}
            </td>
            <td data-label={t('rules.f.name')}>
              {r.name} <span class="muted small">({r.id})</span>
            </td>
            <td data-label={t('rules.f.kind')}>{tOr(`rules.kind.${r.kind}`, r.kind)}</td>
            <td data-label={t('rules.f.action')}>
              {r.action === 'notify' ? `${t('rules.action.notify')} (${tOr(`severity.${r.priority ?? ''}`, r.priority ?? '')})` : t('rules.action.drop')}
            </td>
            <td data-label={t('rules.f.enabled')}>{r.enabled ? t('common.yes') : t('common.no')}</td>
            <td data-label={t('rules.actions')} class="row-actions">
              <button type="button" class="button small" onClick={() => onEdit(r)}>
                {t('rules.editButton')}
              </button>
              <button type="button" class="button small danger" onClick={() => onDelete(r)}>
                {t('rules.delete')}
              </button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
