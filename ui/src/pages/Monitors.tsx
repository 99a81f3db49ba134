// Monitors (/monitors): the list (kind, target, interval, enabled), and a
// form for every kind drawn from the kinds' field descriptors, with the
// judgement editor, notification rules and calendar, and "test now",
// which runs the check once as the form stands (saved or not) and shows
// the raw result and the judgement per item. /monitors?edit=<id> opens a
// monitor (the status view links there).

import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, client } from '../api';
import { monitorApi, type Monitor, type MonitorInput, type MonitorKind, type TestResult } from '../api/monitors';
import { ErrorPanel } from '../components/ErrorPanel';
import { Check, Input, Select } from '../components/Inputs';
import { Card, Loading } from '../components/bits';
import { JudgementEditor } from '../components/monitors/JudgementEditor';
import { KindFields, paramLabel } from '../components/monitors/KindFields';
import { TestResults } from '../components/monitors/TestResults';
import { focusFirst, splitList } from '../forms';
import { t, tOr } from '../i18n';
import { blankForm, fieldOrder, label, refusedMonitorKey, toForm, toMonitor, validateMonitor, withKind, type FormErrors, type MonitorForm } from '../monitoring/form';
import { navigate, query } from '../router';
import { me } from '../session';
import '../styles/monitors.css';

/**
 * What the user's roles allow on monitors (GET /api/v1/me): a reader sees
 * the list without the form and the buttons it could not use. The
 * appliance remains the judge; a session without the list allows all.
 */
function allowed(action: 'add' | 'modify' | 'execute'): boolean {
  const p = me()?.privileges;
  return !p || (p.monitor_settings ?? []).includes(action);
}

const kindLabel = (k: MonitorKind | undefined, name: string) => tOr(`monitors.kind.${name}`, k?.label || name);

interface Lists {
  nodes: { id: string; name: string }[];
  scopes: string[];
  /** undefined: this user may not list them (the form then takes a name). */
  credentials: string[] | undefined;
  /** The notification rules and calendars (issue 12's notify and schedule parts): empty when not offered. */
  rules: Named[];
  calendars: Named[];
}

interface Named {
  id: string;
  name?: string;
}

/** A list another part of the console serves; absent (or not readable): empty, and the form takes ids. */
async function named(path: string, field: 'rules' | 'calendars'): Promise<Named[]> {
  const a = await client.get<Record<string, Named[] | null>>(path, { retry: false });
  return (a[field] ?? []).filter((x) => typeof x?.id === 'string');
}

/** What the form offers to pick from; each list may fail on its own (a user without inventory rights still edits monitors). */
async function loadLists(): Promise<Lists> {
  const [nodes, scopes, creds, rules, calendars] = await Promise.allSettled([
    api.nodes(),
    api.scopes(),
    api.credentials(),
    named('/api/v1/notify/rules', 'rules'),
    named('/api/v1/calendars', 'calendars'),
  ]);
  return {
    rules: rules.status === 'fulfilled' ? rules.value : [],
    calendars: calendars.status === 'fulfilled' ? calendars.value : [],
    nodes: nodes.status === 'fulfilled' ? nodes.value.nodes.map((n) => ({ id: n.id, name: n.name })) : [],
    scopes: scopes.status === 'fulfilled' ? scopes.value.scopes.map((s) => s.name).filter(Boolean) : [],
    credentials: creds.status === 'fulfilled' ? creds.value.credentials.map((c) => c.name) : undefined,
  };
}

/** The kinds and the monitor list, read together; more pages on demand. */
function useMonitorList() {
  const [kinds, setKinds] = useState<MonitorKind[] | undefined>(undefined);
  const [monitors, setMonitors] = useState<Monitor[] | undefined>(undefined);
  const [more, setMore] = useState(false);
  const [loadErr, setLoadErr] = useState<unknown>(undefined);
  const load = async () => {
    setLoadErr(undefined);
    try {
      const [k, m] = await Promise.all([monitorApi.kinds(), monitorApi.monitors()]);
      setKinds(k.kinds ?? []);
      setMonitors(m.monitors ?? []);
      setMore(m.more === true);
    } catch (e) {
      setLoadErr(e);
    }
  };
  /** The next page (the appliance pages by id). */
  const loadMore = async () => {
    const last = monitors?.[monitors.length - 1];
    if (!last) return;
    try {
      const m = await monitorApi.monitors({ after: last.id });
      setMonitors([...(monitors ?? []), ...(m.monitors ?? [])]);
      setMore(m.more === true);
    } catch (e) {
      setLoadErr(e);
    }
  };
  return { kinds, monitors, more, loadErr, load, loadMore };
}

type TestState = { name: string; results?: TestResult[]; error?: unknown };

export function MonitorsPage() {
  const { kinds, monitors, more, loadErr, load, loadMore } = useMonitorList();
  const [lists, setLists] = useState<Lists>({ nodes: [], scopes: [], credentials: undefined, rules: [], calendars: [] });
  const [form, setForm] = useState<MonitorForm>(blankForm());
  const [editing, setEditing] = useState(false);
  const [errors, setErrors] = useState<FormErrors>({});
  const [failure, setFailure] = useState<unknown>(undefined);
  const [done, setDone] = useState('');
  const [busy, setBusy] = useState(false);
  const [test, setTest] = useState<TestState | undefined>(undefined);

  const kind = kinds?.find((k) => k.name === form.kind);

  useEffect(() => {
    void load();
    void loadLists().then(setLists);
  }, []);
  // A new form takes the first kind once the kinds are known.
  useEffect(() => setForm((f) => (f.kind || !kinds?.[0] ? f : blankForm(kinds[0]))), [kinds]);

  // ?edit=<id>: open that monitor once the kinds are known.
  const editId = query.value.get('edit');
  useEffect(() => {
    if (!editId || !kinds) return;
    monitorApi.monitor(editId).then((m) => edit(m), setFailure);
  }, [editId, kinds]);

  const edit = (m: Monitor) => {
    setForm(toForm(m, kinds?.find((k) => k.name === m.kind)));
    setEditing(true);
    setErrors({});
    setDone('');
    setTest(undefined);
    setTimeout(() => document.getElementById('mon-name')?.focus(), 0);
  };
  const reset = () => {
    setForm(blankForm(kind ?? kinds?.[0]));
    setEditing(false);
    setErrors({});
    if (editId) navigate('/monitors', { replace: true });
  };
  const change = (p: Partial<MonitorForm>) => setForm((f) => ({ ...f, ...p }));

  /** Shows a refusal on the field it names, or as a panel. */
  const refused = (err: unknown, show: (e: unknown) => void) => {
    const key = refusedMonitorKey(err, form, kind);
    if (key && err instanceof ApiError) {
      const errs = { [key]: t('form.refused', { field: fieldName(key, kind), message: err.message }) };
      setErrors(errs);
      focusFirst('mon', [key], errs);
    } else show(err);
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    setDone('');
    setFailure(undefined);
    const errs = validateMonitor(form, kind);
    setErrors(errs);
    if (focusFirst('mon', fieldOrder(form, kind), errs)) return;
    setBusy(true);
    try {
      const saved = await monitorApi.put(toMonitor(form, kind));
      setDone(t('monitors.saved', { id: saved?.id || form.id }));
      reset();
      await load();
    } catch (err) {
      refused(err, setFailure);
    } finally {
      setBusy(false);
    }
  };

  /** Runs m once; a refusal of the form's monitor shows on the field it names. */
  const runTest = async (m: MonitorInput, name: string, fromForm = false) => {
    setTest({ name });
    setTimeout(() => document.getElementById('mon-test')?.scrollIntoView({ block: 'nearest' }), 0);
    try {
      const a = await monitorApi.test(m);
      setTest({ name, results: a.results ?? [] });
    } catch (err) {
      if (fromForm) {
        refused(err, (error) => setTest({ name, error }));
        setTest((x) => (x?.error === undefined && !x?.results ? undefined : x));
      } else setTest({ name, error: err });
    }
    setTimeout(() => document.getElementById('mon-test-title')?.focus(), 0);
  };
  const testForm = () => {
    setFailure(undefined);
    const errs = validateMonitor(form, kind, true);
    setErrors(errs);
    if (focusFirst('mon', fieldOrder(form, kind), errs)) return;
    const m = toMonitor(form, kind);
    // Unsaved monitors may have no id or name yet: the check does not need them.
    void runTest({ ...m, id: m.id || 'test-now', name: m.name || m.id || 'test-now' }, form.name || form.id || t('monitors.unsaved'), true);
  };

  const remove = async (m: Monitor) => {
    if (!confirm(t('monitors.confirmDelete', { name: m.name, id: m.id }))) return;
    setFailure(undefined);
    setDone('');
    try {
      await monitorApi.remove(m.id);
      setDone(t('monitors.deleted', { id: m.id }));
      if (form.id === m.id && editing) reset();
      await load();
    } catch (err) {
      setFailure(err);
    }
  };

  return (
    <div class="page">
      <h1>{t('monitors.title')}</h1>
      {done && (
        <p class="notice" role="status">
          {done}
        </p>
      )}
      {failure !== undefined && <ErrorPanel error={failure} what={t('monitors.failed')} />}
      <div class="grid">
        <ListCard
          monitors={monitors}
          kinds={kinds ?? []}
          more={more}
          error={loadErr}
          onRetry={() => void load()}
          onMore={() => void loadMore()}
          onEdit={edit}
          onTest={(m) => void runTest(m, m.name)}
          onDelete={(m) => void remove(m)}
        />
        {kinds && kinds.length === 0 && (
          <Card title={t('monitors.new')} id="mon-form" wide>
            <p class="muted">{t('monitors.noKinds')}</p>
          </Card>
        )}
        {kinds && kinds.length > 0 && (allowed('add') || allowed('modify') || allowed('execute')) && (
          <Card title={editing ? t('monitors.edit', { id: form.id }) : t('monitors.new')} id="mon-form" wide>
            <form onSubmit={submit} noValidate aria-label={editing ? t('monitors.edit', { id: form.id }) : t('monitors.new')}>
              <Basics form={form} kinds={kinds} lists={lists} errors={errors} editing={editing} onChange={change} />
              {kind && (
                <fieldset class="mon-section">
                  <legend>{t('monitors.params', { kind: kindLabel(kind, kind.name) })}</legend>
                  <KindFields kind={kind} values={form.params} errors={errors} credentials={lists.credentials} onValue={(n, v) => change({ params: { ...form.params, [n]: v } })} />
                </fieldset>
              )}
              <fieldset class="mon-section">
                <legend>{t('monitors.judgement')}</legend>
                <JudgementEditor form={form} value={kind?.value ?? 'numeric'} errors={errors} onChange={change} />
              </fieldset>
              <Delivery form={form} lists={lists} errors={errors} onChange={change} />
              <div class="form-actions">
                {(allowed('add') || allowed('modify')) && (
                  <button type="submit" class="button primary" id="mon-save" disabled={busy}>
                    {t('monitors.save')}
                  </button>
                )}
                {allowed('execute') && (
                  <button
                    type="button"
                    class="button"
                    id="mon-test-now"
                    onClick={testForm}
                    disabled={kind?.where === 'agent' || (test !== undefined && !test.results && test.error === undefined)}
                    title={kind?.where === 'agent' ? t('monitors.agentNoTest') : undefined}
                  >
                    {t('monitors.testNow')}
                  </button>
                )}
                {editing && (
                  <button type="button" class="button" onClick={reset}>
                    {t('monitors.cancel')}
                  </button>
                )}
              </div>
            </form>
          </Card>
        )}
        {test && <TestCard test={test} />}
      </div>
    </div>
  );
}

/** What "test now" answered, or that it is running, or why it did not run. */
function TestCard({ test }: { test: TestState }) {
  return (
    <section class="card wide" id="mon-test" aria-labelledby="mon-test-title" aria-busy={!test.results && test.error === undefined}>
      <h2 id="mon-test-title" tabIndex={-1}>
        {t('monitors.test.title', { name: test.name })}
      </h2>
      {test.error !== undefined ? (
        <ErrorPanel error={test.error} what={t('monitors.test.failed')} />
      ) : !test.results ? (
        <p class="loading" role="status">
          {t('monitors.test.running')}
        </p>
      ) : (
        <TestResults results={test.results} />
      )}
    </section>
  );
}

/** The monitors, with a text filter once there are a few, and "load more" when the appliance cut the list. */
function ListCard({
  monitors,
  kinds,
  more,
  error,
  onRetry,
  onMore,
  ...actions
}: {
  monitors: Monitor[] | undefined;
  kinds: MonitorKind[];
  more: boolean;
  error: unknown;
  onRetry: () => void;
  onMore: () => void;
  onEdit: (m: Monitor) => void;
  onTest: (m: Monitor) => void;
  onDelete: (m: Monitor) => void;
}) {
  const [filter, setFilter] = useState('');
  return (
    <Card title={t('monitors.list')} id="mon-list" wide>
      {error !== undefined ? (
        <ErrorPanel error={error} what={t('monitors.loadFailed')} onRetry={onRetry} />
      ) : !monitors ? (
        <Loading />
      ) : monitors.length === 0 ? (
        <p class="muted">{t('monitors.none')}</p>
      ) : (
        <>
          {monitors.length > 5 && (
            <label class="status-search mon-filter">
              <span class="visually-hidden">{t('monitors.filter')}</span>
              <input id="mon-filter" type="search" value={filter} placeholder={t('monitors.filter')} autoCapitalize="none" spellcheck={false} onInput={(e) => setFilter(e.currentTarget.value)} />
            </label>
          )}
          <MonitorTable monitors={matching(monitors, filter)} kinds={kinds} {...actions} />
        </>
      )}
      {more && (
        <p class="muted small">
          {t('monitors.more')}{' '}
          <button type="button" class="button small" id="mon-more" onClick={onMore}>
            {t('monitors.loadMore')}
          </button>
        </p>
      )}
    </Card>
  );
}

/** A form key's name in the user's language, for a refusal shown on it. */
function fieldName(key: string, kind: MonitorKind | undefined): string {
  const fd = key.startsWith('p-') ? kind?.fields?.find((x) => `p-${x.name}` === key) : undefined;
  if (fd && kind) return paramLabel(kind.name, fd);
  if (key.startsWith('j-')) return t('monitors.judgement');
  return label(key);
}

function Basics({
  form,
  kinds,
  lists,
  errors,
  editing,
  onChange,
}: {
  form: MonitorForm;
  kinds: MonitorKind[];
  lists: Lists;
  errors: FormErrors;
  editing: boolean;
  onChange: (f: Partial<MonitorForm>) => void;
}) {
  const kindOptions: [string, string][] = kinds.map((k) => [k.name, kindLabel(k, k.name)]);
  const kind = kinds.find((k) => k.name === form.kind);
  return (
    <fieldset class="mon-section">
      <legend>{t('monitors.basics')}</legend>
      <div class="form-grid">
        <Input id="mon-id" label={label('id')} value={form.id} onValue={(v) => onChange({ id: v })} error={errors['id']} hint={editing ? t('monitors.h.idEdit') : t('monitors.h.id')} />
        <Input id="mon-name" label={label('name')} value={form.name} onValue={(v) => onChange({ name: v })} error={errors['name']} />
        <Select
          id="mon-kind"
          label={label('kind')}
          value={form.kind}
          onValue={(v) => onChange(withKind(form, kinds.find((k) => k.name === v)))}
          error={errors['kind']}
          hint={kind ? t(kind.where === 'agent' ? 'monitors.h.agent' : 'monitors.h.appliance') : undefined}
          options={kindOptions}
        />
        <Select
          id="mon-target"
          label={label('target')}
          value={form.target}
          onValue={(v) => onChange({ target: v === 'scope' ? 'scope' : 'node' })}
          options={[
            ['node', t('monitors.target.node')],
            ['scope', t('monitors.target.scope')],
          ]}
        />
        {form.target === 'node' ? (
          <Input id="mon-node" label={label('node')} value={form.node} onValue={(v) => onChange({ node: v })} error={errors['node']} list="mon-nodes" hint={t('monitors.h.node')} />
        ) : (
          <Input id="mon-scope" label={label('scope')} value={form.scope} onValue={(v) => onChange({ scope: v })} error={errors['scope']} list="mon-scopes" hint={t('monitors.h.scope')} />
        )}
        <datalist id="mon-nodes">
          {lists.nodes.map((n) => (
            <option key={n.id} value={n.id}>
              {n.name}
            </option>
          ))}
        </datalist>
        <datalist id="mon-scopes">
          {lists.scopes.map((s) => (
            <option key={s} value={s} />
          ))}
        </datalist>
        <Input id="mon-interval" label={label('interval')} value={form.interval} onValue={(v) => onChange({ interval: v })} error={errors['interval']} hint={t('monitors.h.duration')} />
        <Input id="mon-timeout" label={label('timeout')} value={form.timeout} onValue={(v) => onChange({ timeout: v })} error={errors['timeout']} hint={t('monitors.h.timeout')} />
        <Input id="mon-owner_role" label={label('owner_role')} value={form.owner_role} onValue={(v) => onChange({ owner_role: v })} error={errors['owner_role']} hint={t('monitors.h.owner')} />
      </div>
      <Check id="mon-enabled" label={label('enabled')} checked={form.enabled} onChecked={(v) => onChange({ enabled: v })} />
      <Check id="mon-collect" label={label('collect')} checked={form.collect} onChecked={(v) => onChange({ collect: v })} />
    </fieldset>
  );
}

function Delivery({ form, lists, errors, onChange }: { form: MonitorForm; lists: Lists; errors: FormErrors; onChange: (f: Partial<MonitorForm>) => void }) {
  const chosen = splitList(form.notify);
  const toggle = (id: string, on: boolean) => onChange({ notify: (on ? [...chosen, id] : chosen.filter((x) => x !== id)).join(', ') });
  return (
    <fieldset class="mon-section">
      <legend>{t('monitors.delivery')}</legend>
      {lists.rules.length > 0 && (
        <div class="rule-picks" role="group" aria-label={label('notify')}>
          {lists.rules.map((r) => (
            <Check key={r.id} id={`mon-rule-${r.id}`} label={r.name ? `${r.name} (${r.id})` : r.id} checked={chosen.includes(r.id)} onChecked={(on) => toggle(r.id, on)} />
          ))}
        </div>
      )}
      <div class="form-grid">
        <Input id="mon-notify" label={label('notify')} value={form.notify} onValue={(v) => onChange({ notify: v })} error={errors['notify']} hint={t('monitors.h.notify')} />
        <Input id="mon-calendar" label={label('calendar')} value={form.calendar} onValue={(v) => onChange({ calendar: v })} error={errors['calendar']} hint={t('monitors.h.calendar')} list="mon-calendars" />
        <datalist id="mon-calendars">
          {lists.calendars.map((c) => (
            <option key={c.id} value={c.id}>
              {c.name ?? c.id}
            </option>
          ))}
        </datalist>
      </div>
    </fieldset>
  );
}

/** Monitors whose name, id, kind, node or scope hold the text. */
function matching(ms: Monitor[], text: string): Monitor[] {
  const q = text.trim().toLowerCase();
  if (!q) return ms;
  return ms.filter((m) => [m.name, m.id, m.kind, m.node, m.scope].some((s) => (s ?? '').toLowerCase().includes(q)));
}

function target(m: Monitor): string {
  if (m.node) return t('monitors.onNode', { node: m.node });
  return t('monitors.onScope', { scope: m.scope || '' });
}

function MonitorTable({
  monitors,
  kinds,
  onEdit,
  onTest,
  onDelete,
}: {
  monitors: Monitor[];
  kinds: MonitorKind[];
  onEdit: (m: Monitor) => void;
  onTest: (m: Monitor) => void;
  onDelete: (m: Monitor) => void;
}) {
  const sorted = [...monitors].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  const acts = allowed('modify') || allowed('execute');
  return (
    <table class="table stack mon-table">
      <thead>
        <tr>
          <th scope="col">{label('name')}</th>
          <th scope="col">{label('kind')}</th>
          <th scope="col">{label('target')}</th>
          <th scope="col">{label('interval')}</th>
          <th scope="col">{label('enabled')}</th>
          <th scope="col">{label('notify')}</th>
          {acts && <th scope="col">{t('monitors.actions')}</th>}
        </tr>
      </thead>
      <tbody>
        {sorted.map((m) => (
          <tr key={m.id} data-monitor={m.id}>
            <td data-label={label('name')}>
              {m.name} <span class="muted small">({m.id})</span>
            </td>
            <td data-label={label('kind')}>{kindLabel(kinds.find((k) => k.name === m.kind), m.kind)}</td>
            <td data-label={label('target')}>{target(m)}</td>
            <td data-label={label('interval')}>{m.interval}</td>
            <td data-label={label('enabled')}>{m.enabled ? t('common.yes') : t('common.no')}</td>
            <td data-label={label('notify')}>{(m.notify ?? []).join(', ') || <span class="muted">{t('common.none')}</span>}</td>
            {acts && (
              <td data-label={t('monitors.actions')} class="row-actions">
                {allowed('modify') && (
                  <button type="button" class="button small" onClick={() => onEdit(m)} aria-label={t('monitors.editNamed', { name: m.name })}>
                    {t('monitors.editButton')}
                  </button>
                )}
                {allowed('execute') && (
                  <button type="button" class="button small" onClick={() => onTest(m)} aria-label={t('monitors.testNamed', { name: m.name })}>
                    {t('monitors.testButton')}
                  </button>
                )}
                {allowed('modify') && (
                  <button type="button" class="button small danger" onClick={() => onDelete(m)} aria-label={t('monitors.deleteNamed', { name: m.name })}>
                    {t('monitors.delete')}
                  </button>
                )}
              </td>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
