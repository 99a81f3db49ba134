// The audit log for the auditor: filters (user, action, time), pages of
// entries oldest first, a check of the hash chain, and a CSV export the
// appliance writes (its cells neutralised against spreadsheet formulas).

import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, type AuditEntry, type Query } from '../api';
import { ErrorPanel } from '../components/ErrorPanel';
import { Input } from '../components/Inputs';
import { Time } from '../components/Time';
import { Card, Loading, num } from '../components/bits';
import { focusFirst, rfc3339, tooLong, type Errors } from '../forms';
import { t } from '../i18n';

interface Filter {
  user: string;
  action: string;
  since: string;
  until: string;
}
type FKey = keyof Filter;
const order: FKey[] = ['user', 'action', 'since', 'until'];
const pageSize = 200;

export function validateAuditFilter(f: Filter): Errors<FKey> {
  const e: Errors<FKey> = {};
  e.user = tooLong(t('audit.f.user'), f.user, 256);
  e.action = tooLong(t('audit.f.action'), f.action, 256);
  if (f.since && !rfc3339(f.since)) e.since = t('form.badTime', { field: t('audit.f.since') });
  if (f.until && !rfc3339(f.until)) e.until = t('form.badTime', { field: t('audit.f.until') });
  const s = rfc3339(f.since);
  const u = rfc3339(f.until);
  if (s && u && s >= u) e.until = t('form.afterSince', { field: t('audit.f.until'), since: t('audit.f.since') });
  for (const k of order) if (!e[k]) delete e[k];
  return e;
}

function queryOf(f: Filter): Query {
  return { user: f.user.trim() || undefined, action: f.action.trim() || undefined, since: rfc3339(f.since), until: rfc3339(f.until) };
}

/** The export link: the same filter, as CSV, written by the appliance. */
function csvHref(q: Query): string {
  const p = new URLSearchParams({ format: 'csv', limit: '10000' });
  for (const [k, v] of Object.entries(q)) if (v !== undefined) p.set(k, String(v));
  return `/api/v1/audit?${p.toString()}`;
}

export function AuditPage() {
  const [form, setForm] = useState<Filter>({ user: '', action: '', since: '', until: '' });
  const [applied, setApplied] = useState<Query>({});
  const [errors, setErrors] = useState<Errors<FKey>>({});
  const [rows, setRows] = useState<AuditEntry[] | undefined>(undefined);
  const [next, setNext] = useState<string | undefined>(undefined);
  const [failure, setFailure] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const [verify, setVerify] = useState<{ rows: number; ok: boolean; problems: string[] | null } | undefined>(undefined);
  const set = (k: FKey) => (v: string) => setForm({ ...form, [k]: v });

  const run = async (q: Query, append: boolean) => {
    setBusy(true);
    setFailure(undefined);
    try {
      const a = await api.audit({ limit: pageSize, ...q });
      setRows(append ? [...(rows ?? []), ...(a.entries ?? [])] : (a.entries ?? []));
      setNext(a.more ? a.next : undefined);
    } catch (e) {
      setFailure(e);
    } finally {
      setBusy(false);
    }
  };
  const search = (e?: Event) => {
    e?.preventDefault();
    const errs = validateAuditFilter(form);
    setErrors(errs);
    if (focusFirst('audit', order, errs)) return;
    const q = queryOf(form);
    setApplied(q);
    void run(q, false);
  };
  useEffect(() => search(), []);
  const more = () => {
    if (!next) return;
    const q: Query = {};
    new URLSearchParams(next.replace(/^\?/, '')).forEach((v, k) => (q[k] = v));
    void run(q, true);
  };
  const forbidden = failure instanceof ApiError && failure.status === 403;

  return (
    <div class="page">
      <h1>{t('audit.title')}</h1>
      {forbidden ? (
        <p class="muted">{t('audit.forbidden')}</p>
      ) : (
        <>
          <form class="filters" onSubmit={search} noValidate aria-label={t('audit.filters')}>
            <Input id="audit-user" label={t('audit.f.user')} value={form.user} onValue={set('user')} error={errors.user} hint={t('audit.h.user')} />
            <Input id="audit-action" label={t('audit.f.action')} value={form.action} onValue={set('action')} error={errors.action} hint={t('audit.h.action')} />
            <Input id="audit-since" type="datetime-local" label={t('audit.f.since')} value={form.since} onValue={set('since')} error={errors.since} />
            <Input id="audit-until" type="datetime-local" label={t('audit.f.until')} value={form.until} onValue={set('until')} error={errors.until} />
            <div class="form-actions">
              <button type="submit" class="button primary" disabled={busy}>
                {t('audit.search')}
              </button>
              <a class="button" id="audit-csv" href={csvHref(applied)} download="mamori-audit.csv">
                {t('audit.csv')}
              </a>
              <button
                type="button"
                class="button"
                id="audit-verify"
                onClick={() =>
                  void api.verifyAudit().then(setVerify, (e: unknown) => {
                    setFailure(e);
                  })
                }
              >
                {t('audit.verify')}
              </button>
            </div>
          </form>
          {verify && (
            <p class={verify.ok ? 'notice' : 'error-panel compact'} role="status" id="audit-verified">
              {verify.ok ? t('audit.verifyOk', { rows: num(verify.rows) }) : t('audit.verifyBad', { problems: (verify.problems ?? []).join('; ') })}
            </p>
          )}
          {failure !== undefined && <ErrorPanel error={failure} what={t('audit.failed')} onRetry={() => search()} />}
          <Card title={t('audit.entries')} id="audit-entries" wide>
            {rows === undefined ? (
              failure === undefined && <Loading />
            ) : rows.length === 0 ? (
              <p class="muted">{t('audit.none')}</p>
            ) : (
              <AuditTable rows={rows} />
            )}
            {next && (
              <button type="button" class="button" id="audit-more" disabled={busy} onClick={more}>
                {t('audit.more')}
              </button>
            )}
          </Card>
        </>
      )}
    </div>
  );
}

function AuditTable({ rows }: { rows: AuditEntry[] }) {
  return (
    <table class="table stack audit">
      <thead>
        <tr>
          <th scope="col" class="num">
            {t('audit.c.seq')}
          </th>
          <th scope="col">{t('audit.c.at')}</th>
          <th scope="col">{t('audit.f.user')}</th>
          <th scope="col">{t('audit.c.source')}</th>
          <th scope="col">{t('audit.f.action')}</th>
          <th scope="col">{t('audit.c.result')}</th>
          <th scope="col">{t('audit.c.detail')}</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((e) => (
          <tr key={e.seq}>
            <td data-label={t('audit.c.seq')} class="num">
              {e.seq}
            </td>
            <td data-label={t('audit.c.at')}>
              <Time at={e.at} />
            </td>
            <td data-label={t('audit.f.user')}>{e.user || '—'}</td>
            <td data-label={t('audit.c.source')}>{e.source || '—'}</td>
            <td data-label={t('audit.f.action')} class="nowrap" lang="en">
              {e.action}
            </td>
            <td data-label={t('audit.c.result')}>{e.result}</td>
            <td data-label={t('audit.c.detail')} class="reason" lang="en">
              {[e.object, e.detail].filter(Boolean).join(' — ') || '—'}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
