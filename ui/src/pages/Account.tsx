// The caller's own API tokens (listed, made, revoked; a secret shown once)
// and second factor (TOTP enrolment: the secret and otpauth URI as text),
// on the administration screen for every user, whatever their roles.

import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, type TokenInfo, type TotpEnrolment } from '../api';
import { ErrorPanel } from '../components/ErrorPanel';
import { Input } from '../components/Inputs';
import { Time } from '../components/Time';
import { Card, Loading } from '../components/bits';
import { focusFirst, required, tooLong, type Errors } from '../forms';
import { t } from '../i18n';
import { me } from '../session';

type TKey = 'name' | 'days';

export function TokenForm() {
  const [name, setName] = useState('');
  const [days, setDays] = useState('30');
  const [errors, setErrors] = useState<Errors<TKey>>({});
  const [failure, setFailure] = useState<unknown>(undefined);
  const [secret, setSecret] = useState('');
  const [busy, setBusy] = useState(false);
  const [tokens, setTokens] = useState<TokenInfo[] | undefined>(undefined);
  const [listErr, setListErr] = useState<unknown>(undefined);
  const load = async () => {
    setListErr(undefined);
    try {
      setTokens((await api.tokens()).tokens);
    } catch (e) {
      setListErr(e);
    }
  };
  useEffect(() => void load(), []);
  const revoke = async (tk: TokenInfo) => {
    if (!confirm(t('admin.t.confirmRevoke', { name: tk.name || tk.id.slice(0, 8) }))) return;
    setFailure(undefined);
    try {
      await api.revokeToken(tk.id);
      await load();
    } catch (e) {
      setFailure(e);
    }
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    setFailure(undefined);
    setSecret('');
    const errs: Errors<TKey> = {};
    const n = required(t('admin.t.name'), name) ?? tooLong(t('admin.t.name'), name, 128);
    if (n) errs.name = n;
    if (!/^\d{1,3}$/.test(days.trim()) || Number(days) < 1 || Number(days) > 366) errs.days = t('form.range', { field: t('admin.t.days'), min: 1, max: 366 });
    setErrors(errs);
    if (focusFirst('token', ['name', 'days'], errs)) return;
    setBusy(true);
    try {
      const a = await api.newToken({ name: name.trim(), ttl_seconds: Number(days) * 86400 });
      setSecret(a.token);
      setName('');
      await load();
    } catch (err) {
      setFailure(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card title={t('admin.tokens')} id="token-form">
      <p class="muted small">{t('admin.t.help', { user: me()?.user ?? '' })}</p>
      {failure !== undefined && <ErrorPanel error={failure} what={t('admin.t.failed')} compact />}
      {secret && (
        <div class="secret-once" role="status">
          <p>{t('admin.t.once')}</p>
          <code id="token-secret" class="wrap">
            {secret}
          </code>
        </div>
      )}
      {listErr !== undefined ? (
        <ErrorPanel error={listErr} what={t('admin.t.listFailed')} compact onRetry={() => void load()} />
      ) : !tokens ? (
        <Loading />
      ) : tokens.length === 0 ? (
        <p class="muted">{t('admin.t.none')}</p>
      ) : (
        <ul class="token-list" id="token-list">
          {tokens.map((tk) => (
            <li key={tk.id}>
              <span>
                <strong>{tk.name || '—'}</strong>{' '}
                <span class="muted small">
                  {t('admin.t.expires')} <Time at={tk.expires_at} />
                </span>
              </span>
              <button type="button" class="button small danger" onClick={() => void revoke(tk)}>
                {t('admin.t.revoke')}
              </button>
            </li>
          ))}
        </ul>
      )}
      <form onSubmit={submit} noValidate aria-label={t('admin.tokens')}>
        <Input id="token-name" label={t('admin.t.name')} value={name} onValue={setName} error={errors.name} />
        <Input id="token-days" label={t('admin.t.days')} value={days} onValue={setDays} error={errors.days} />
        <div class="form-actions">
          <button type="submit" class="button primary" disabled={busy}>
            {t('admin.t.create')}
          </button>
        </div>
      </form>
    </Card>
  );
}

type OKey = 'password' | 'current' | 'code';

export function TotpForm() {
  const [password, setPassword] = useState('');
  const [current, setCurrent] = useState('');
  const [code, setCode] = useState('');
  const [enrol, setEnrol] = useState<TotpEnrolment | undefined>(undefined);
  const [errors, setErrors] = useState<Errors<OKey>>({});
  const [failure, setFailure] = useState<unknown>(undefined);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);
  const six = (label: string, v: string, optional: boolean) =>
    optional && !v ? undefined : /^\d{6}$/.test(v.trim()) ? undefined : t('login.totpInvalid', { field: label });
  const start = async (e: Event) => {
    e.preventDefault();
    setFailure(undefined);
    const errs: Errors<OKey> = {};
    const p = required(t('admin.o.password'), password);
    if (p) errs.password = p;
    const c = six(t('admin.o.current'), current, true);
    if (c) errs.current = c;
    setErrors(errs);
    if (focusFirst('totp', ['password', 'current'], errs)) return;
    setBusy(true);
    try {
      setEnrol(await api.enrolTOTP({ password, ...(current ? { totp: current.trim() } : {}) }));
      setPassword('');
      setCurrent('');
    } catch (err) {
      if (err instanceof ApiError && err.status === 403) setErrors({ password: t('admin.o.wrong', { field: t('admin.o.password') }) });
      else setFailure(err);
    } finally {
      setBusy(false);
    }
  };
  const confirm = async (e: Event) => {
    e.preventDefault();
    setFailure(undefined);
    const c = six(t('admin.o.code'), code, false);
    setErrors(c ? { code: c } : {});
    if (c) {
      focusFirst('totp', ['code'], { code: c });
      return;
    }
    setBusy(true);
    try {
      await api.confirmTOTP(code.trim());
      setDone(true);
      setEnrol(undefined);
    } catch (err) {
      if (err instanceof ApiError && err.status === 400) setErrors({ code: t('admin.o.wrong', { field: t('admin.o.code') }) });
      else setFailure(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card title={t('admin.totp')} id="totp-form">
      {failure !== undefined && <ErrorPanel error={failure} what={t('admin.o.failed')} compact />}
      {done && (
        <p class="notice" role="status">
          {t('admin.o.enabled')}
        </p>
      )}
      {!enrol ? (
        <form onSubmit={start} noValidate aria-label={t('admin.totp')}>
          <p class="muted small">{t('admin.o.help')}</p>
          <Input id="totp-password" type="password" label={t('admin.o.password')} value={password} onValue={setPassword} error={errors.password} />
          <Input id="totp-current" label={t('admin.o.current')} value={current} onValue={setCurrent} error={errors.current} hint={t('admin.o.currentHint')} />
          <div class="form-actions">
            <button type="submit" class="button primary" disabled={busy}>
              {t('admin.o.start')}
            </button>
          </div>
        </form>
      ) : (
        <form onSubmit={confirm} noValidate aria-label={t('admin.totp')}>
          <div class="secret-once">
            <p>{t('admin.o.scan')}</p>
            <p>
              {t('admin.o.secret')} <code id="totp-secret">{enrol.secret}</code>
            </p>
            <code id="totp-uri" class="wrap">
              {enrol.otpauth_uri}
            </code>
          </div>
          <Input id="totp-code" label={t('admin.o.code')} value={code} onValue={setCode} error={errors.code} />
          <div class="form-actions">
            <button type="submit" class="button primary" disabled={busy}>
              {t('admin.o.confirm')}
            </button>
          </div>
        </form>
      )}
    </Card>
  );
}
