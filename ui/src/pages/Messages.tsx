// Message search: syslog, SNMP traps and custom events as the appliance
// stored them, newest first, page by page, with a detail view that shows
// what the sender sent (its timestamp, process id, message id, structured
// data and the raw line).

import { useEffect, useState } from 'preact/hooks';
import { api, type CustomList, type Query, type StoredCustom, type StoredTrap, type SyslogList, type SyslogMessage, type TrapList } from '../api';
import { ErrorPanel } from '../components/ErrorPanel';
import { Input, Select } from '../components/Inputs';
import { Time } from '../components/Time';
import { Card, KV, Loading, type Row } from '../components/bits';
import { focusFirst, rfc3339, tooLong, type Errors } from '../forms';
import { t, type Key } from '../i18n';

type Kind = 'syslog' | 'traps' | 'custom';
type Msg = SyslogMessage | StoredTrap | StoredCustom;

interface Filter {
  q: string;
  host: string;
  /** The kind's own field: application (syslog), trap OID or name, key (custom). */
  what: string;
  node: string;
  since: string;
  until: string;
  severity: string;
}
type FKey = keyof Filter;
const order: FKey[] = ['q', 'host', 'what', 'node', 'since', 'until', 'severity'];
const empty: Filter = { q: '', host: '', what: '', node: '', since: '', until: '', severity: '' };

const pageSize = 50;
const severities = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'] as const;

function sevName(n: number): string {
  return severities[n] ? t(`messages.sev.${severities[n]}` as Key) : String(n);
}

function whatLabel(kind: Kind): string {
  return t(kind === 'syslog' ? 'messages.f.app' : kind === 'traps' ? 'messages.f.trap' : 'messages.f.key');
}

export function validateFilter(f: Filter, kind: Kind): Errors<FKey> {
  const e: Errors<FKey> = {};
  e.q = tooLong(t('messages.f.q'), f.q, 256);
  e.host = tooLong(t('messages.f.host'), f.host, 256);
  e.what = tooLong(whatLabel(kind), f.what, 256);
  e.node = tooLong(t('messages.f.node'), f.node, 64);
  if (f.since && !rfc3339(f.since)) e.since = t('form.badTime', { field: t('messages.f.since') });
  if (f.until && !rfc3339(f.until)) e.until = t('form.badTime', { field: t('messages.f.until') });
  const s = rfc3339(f.since);
  const u = rfc3339(f.until);
  if (s && u && s >= u) e.until = t('form.afterSince', { field: t('messages.f.until'), since: t('messages.f.since') });
  for (const k of order) if (!e[k]) delete e[k];
  return e;
}

/** The query of a search: the filter in the API's words, newest first. */
function queryOf(kind: Kind, f: Filter): Query {
  const q: Query = { order: 'desc', limit: pageSize, q: f.q.trim() || undefined, node: f.node.trim() || undefined };
  if (f.host.trim()) {
    if (kind === 'syslog') q.host = f.host.trim();
    else q.source = f.host.trim();
  }
  if (f.what.trim()) q[kind === 'syslog' ? 'app' : kind === 'traps' ? 'trap' : 'key'] = f.what.trim();
  q.since = rfc3339(f.since);
  q.until = rfc3339(f.until);
  if (kind === 'syslog' && f.severity) q.max_severity = f.severity;
  return q;
}

async function fetchPage(kind: Kind, q: Query): Promise<{ rows: Msg[]; next?: string | undefined }> {
  let ans: SyslogList | TrapList | CustomList;
  let rows: Msg[];
  if (kind === 'syslog') rows = (ans = await api.syslog(q)).messages ?? [];
  else if (kind === 'traps') rows = (ans = await api.traps(q)).traps ?? [];
  else rows = (ans = await api.customEvents(q)).events ?? [];
  return { rows, next: ans.more ? ans.next : undefined };
}

function nextQuery(next: string): Query {
  const q: Query = {};
  new URLSearchParams(next.replace(/^\?/, '')).forEach((v, k) => (q[k] = v));
  return q;
}

export function MessagesPage() {
  const [kind, setKind] = useState<Kind>('syslog');
  const [form, setForm] = useState<Filter>(empty);
  const [errors, setErrors] = useState<Errors<FKey>>({});
  const [rows, setRows] = useState<Msg[] | undefined>(undefined);
  const [next, setNext] = useState<string | undefined>(undefined);
  const [failure, setFailure] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const [open, setOpen] = useState<Msg | undefined>(undefined);
  const set = (k: FKey) => (v: string) => setForm({ ...form, [k]: v });

  const run = async (q: Query, append: boolean) => {
    setBusy(true);
    setFailure(undefined);
    try {
      const p = await fetchPage(kind, q);
      setRows(append ? [...(rows ?? []), ...p.rows] : p.rows);
      setNext(p.next);
      if (!append) setOpen(undefined);
    } catch (e) {
      setFailure(e);
    } finally {
      setBusy(false);
    }
  };
  const search = (e?: Event) => {
    e?.preventDefault();
    const errs = validateFilter(form, kind);
    setErrors(errs);
    if (focusFirst('msg', order, errs)) return;
    void run(queryOf(kind, form), false);
  };
  useEffect(() => search(), [kind]);

  return (
    <div class="page">
      <h1>{t('messages.title')}</h1>
      <div class="tabs" role="tablist" aria-label={t('messages.kind')}>
        {(['syslog', 'traps', 'custom'] as const).map((k) => (
          <button
            key={k}
            type="button"
            role="tab"
            id={`msg-tab-${k}`}
            aria-selected={kind === k}
            class={kind === k ? 'tab selected' : 'tab'}
            onClick={() => {
              if (k === kind) return;
              // Rows of one kind are never drawn as another's.
              setRows(undefined);
              setNext(undefined);
              setOpen(undefined);
              setKind(k);
            }}
          >
            {t(`messages.kind.${k}`)}
          </button>
        ))}
      </div>
      <form class="filters" onSubmit={search} noValidate aria-label={t('messages.filters')}>
        <Input id="msg-q" label={t('messages.f.q')} value={form.q} onValue={set('q')} error={errors.q} />
        <Input
          id="msg-host"
          label={kind === 'syslog' ? t('messages.f.host') : t('messages.f.source')}
          value={form.host}
          onValue={set('host')}
          error={errors.host}
        />
        <Input
          id="msg-what"
          label={whatLabel(kind)}
          value={form.what}
          onValue={set('what')}
          error={errors.what}
        />
        <Input id="msg-node" label={t('messages.f.node')} value={form.node} onValue={set('node')} error={errors.node} />
        <Input id="msg-since" type="datetime-local" label={t('messages.f.since')} value={form.since} onValue={set('since')} error={errors.since} />
        <Input id="msg-until" type="datetime-local" label={t('messages.f.until')} value={form.until} onValue={set('until')} error={errors.until} />
        {kind === 'syslog' && (
          <Select
            id="msg-severity"
            label={t('messages.f.severity')}
            value={form.severity}
            onValue={set('severity')}
            options={[['', t('messages.anySeverity')], ...severities.map((_, i): [string, string] => [String(i), t('messages.sevOrWorse', { sev: sevName(i) })])]}
          />
        )}
        <div class="form-actions">
          <button type="submit" class="button primary" disabled={busy}>
            {t('messages.search')}
          </button>
          <button
            type="button"
            class="button"
            onClick={() => {
              setForm(empty);
              setErrors({});
            }}
          >
            {t('messages.clear')}
          </button>
        </div>
      </form>
      {failure !== undefined && <ErrorPanel error={failure} what={t('messages.failed')} onRetry={() => search()} />}
      <div class="split">
        <Card title={t('messages.results')} id="msg-results" wide>
          {rows === undefined ? (
            failure === undefined && <Loading />
          ) : rows.length === 0 ? (
            <p class="muted">{t('messages.none')}</p>
          ) : (
            <Results kind={kind} rows={rows} open={open} onOpen={setOpen} />
          )}
          {next && (
            <button type="button" class="button" id="msg-older" disabled={busy} onClick={() => void run(nextQuery(next), true)}>
              {t('messages.older')}
            </button>
          )}
        </Card>
        {open && <Detail kind={kind} m={open} onClose={() => setOpen(undefined)} />}
      </div>
    </div>
  );
}

function summary(kind: Kind, m: Msg): { who: string; what: string; sev?: string | undefined } {
  if (kind === 'syslog') {
    const s = m as SyslogMessage;
    return { who: s.hostname || s.source, what: `${s.app_name ? `${s.app_name}: ` : ''}${s.text}`, sev: sevName(s.severity) };
  }
  if (kind === 'traps') {
    const tr = m as StoredTrap;
    return { who: tr.source, what: `${tr.trap_name || tr.trap_oid} ${tr.text}` };
  }
  const c = m as StoredCustom;
  return { who: c.node || c.source, what: `${c.key}: ${c.message}` };
}

function Results({ kind, rows, open, onOpen }: { kind: Kind; rows: Msg[]; open: Msg | undefined; onOpen: (m: Msg) => void }) {
  return (
    <table class="table stack messages">
      <thead>
        <tr>
          <th scope="col">{t('messages.col.received')}</th>
          <th scope="col">{t('messages.col.from')}</th>
          {kind === 'syslog' && <th scope="col">{t('messages.col.severity')}</th>}
          <th scope="col">{t('messages.col.text')}</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((m) => {
          const s = summary(kind, m);
          return (
            <tr key={m.id} class={open?.id === m.id ? 'selected' : undefined}>
              <td data-label={t('messages.col.received')}>
                <Time at={m.received_at} />
              </td>
              <td data-label={t('messages.col.from')}>{s.who}</td>
              {kind === 'syslog' && <td data-label={t('messages.col.severity')}>{s.sev}</td>}
              <td data-label={t('messages.col.text')} class="message">
                <button type="button" class="linkish" onClick={() => onOpen(m)}>
                  {s.what || t('common.none')}
                </button>
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function Detail({ kind, m, onClose }: { kind: Kind; m: Msg; onClose: () => void }) {
  let rows: Row[] = [
    [t('messages.d.received'), <Time at={m.received_at} />],
    [t('messages.d.source'), m.source],
    [t('messages.d.node'), m.node || t('common.none')],
    [t('messages.d.scope'), m.scope || t('messages.allScopes')],
  ];
  let raw: string | undefined;
  if (kind === 'syslog') {
    const s = m as SyslogMessage;
    rows = rows.concat([
      [t('messages.d.timestamp'), <Time at={s.timestamp} />],
      [t('messages.d.hostname'), s.hostname || '—'],
      [t('messages.d.app'), s.app_name || '—'],
      [t('messages.d.procId'), s.proc_id || '—'],
      [t('messages.d.msgId'), s.msg_id || '—'],
      [t('messages.d.facility'), String(s.facility)],
      [t('messages.d.severity'), sevName(s.severity)],
      [t('messages.d.format'), `${s.format} / ${s.transport}`],
      [t('messages.d.sd'), s.structured_data ? <code class="wrap">{s.structured_data}</code> : '—'],
      [t('messages.d.text'), <span class="message">{s.text}</span>],
    ]);
    if (s.partial?.length) rows.push([t('messages.d.partial'), <span lang="en">{s.partial.join(', ')}</span>]);
    raw = s.raw || (s.raw_base64 ? `base64: ${s.raw_base64}` : '');
  } else if (kind === 'traps') {
    const tr = m as StoredTrap;
    rows = rows.concat([
      [t('messages.d.version'), `${tr.version} ${tr.pdu}${tr.user ? ` (${tr.user})` : ''}`],
      [t('messages.d.trap'), `${tr.trap_name || ''} ${tr.trap_oid}`.trim()],
      [t('messages.d.uptime'), String(tr.uptime)],
      [t('messages.d.text'), <span class="message">{tr.text}</span>],
    ]);
    raw = (tr.varbinds ?? []).map((v) => `${v.name || v.oid} (${v.type}) = ${v.value}`).join('\n');
  } else {
    const c = m as StoredCustom;
    rows = rows.concat([
      [t('messages.d.sender'), c.sender],
      [t('messages.d.key'), c.key],
      [t('messages.d.text'), <span class="message">{c.message}</span>],
    ]);
    raw = Object.entries(c.attrs ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join('\n');
  }
  if (m.event_uid) rows.push([t('messages.d.event'), m.event_uid]);
  return (
    <Card title={t('messages.detail')} id="msg-detail" wide>
      <KV rows={rows} />
      {raw ? (
        <>
          <h3 class="sub">{t(kind === 'syslog' ? 'messages.d.raw' : kind === 'traps' ? 'messages.d.varbinds' : 'messages.d.attrs')}</h3>
          <pre class="raw" id="msg-raw">
            {raw}
          </pre>
        </>
      ) : null}
      <button type="button" class="button" onClick={onClose}>
        {t('messages.close')}
      </button>
    </Card>
  );
}
