import { useEffect, useState } from 'preact/hooks';
import { api, ApiError } from '../api';
import { ErrorPanel } from '../components/ErrorPanel';
import { Field } from '../components/Field';
import { Prefs } from '../components/Prefs';
import { t, tOr } from '../i18n';
import { navigate } from '../router';
import { login, session } from '../session';

interface Form {
  user: string;
  password: string;
  totp: string;
}

type Errors = Partial<Record<keyof Form, string>>;

/** Every message names its field, in the user's language. */
export function validateLogin(f: Form): Errors {
  const e: Errors = {};
  if (!f.user.trim()) e.user = t('form.required', { field: t('login.user') });
  else if (f.user.length > 128) e.user = t('form.tooLong', { field: t('login.user'), max: 128 });
  if (!f.password) e.password = t('form.required', { field: t('login.password') });
  if (f.totp && !/^\d{6}$/.test(f.totp.trim())) e.totp = t('login.totpInvalid', { field: t('login.totp') });
  return e;
}

export function LoginPage() {
  const [form, setForm] = useState<Form>({ user: '', password: '', totp: '' });
  const [errors, setErrors] = useState<Errors>({});
  const [failure, setFailure] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const s = session.value;
  const set = (k: keyof Form) => (v: string) => setForm({ ...form, [k]: v });
  // A fresh appliance has no one to log in: its first-boot wizard comes first.
  useEffect(() => {
    api.setup({ retry: false }).then(
      (st) => {
        if (st.needs_setup && !st.paired) navigate('/setup', { replace: true });
      },
      () => undefined,
    );
  }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    const errs = validateLogin(form);
    setErrors(errs);
    setFailure(undefined);
    const first = (Object.keys(errs) as (keyof Form)[])[0];
    if (first) {
      document.getElementById(`login-${first}`)?.focus();
      return;
    }
    setBusy(true);
    try {
      await login({ user: form.user.trim(), password: form.password, ...(form.totp ? { totp: form.totp.trim() } : {}) });
    } catch (err) {
      setFailure(err);
      setForm({ ...form, password: '', totp: '' });
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="login-screen">
      <main class="login-card" id="main">
        <h1 class="login-brand">
          <span class="brand-mark" aria-hidden="true" />
          mamori
        </h1>
        <p class="muted">{t('login.subtitle')}</p>
        {s.kind === 'anonymous' && s.expired && (
          <p class="notice" role="status">
            {t('login.expired')}
          </p>
        )}
        {failure !== undefined && <LoginFailure error={failure} />}
        <form onSubmit={submit} noValidate aria-label={t('login.title')}>
          <Field
            id="login-user"
            label={t('login.user')}
            value={form.user}
            onValue={set('user')}
            error={errors.user}
            autocomplete="username"
            verbatim
            autoFocus
          />
          <Field
            id="login-password"
            label={t('login.password')}
            password
            value={form.password}
            onValue={set('password')}
            error={errors.password}
            autocomplete="current-password"
          />
          <Field
            id="login-totp"
            label={t('login.totp')}
            value={form.totp}
            onValue={set('totp')}
            error={errors.totp}
            hint={t('login.totpHint')}
            numeric
            verbatim
            autocomplete="one-time-code"
          />
          <button type="submit" class="button primary" disabled={busy}>
            {busy ? t('login.busy') : t('login.submit')}
          </button>
        </form>
        <details class="login-prefs">
          <summary>{t('prefs.title')}</summary>
          <Prefs idPrefix="login" />
        </details>
      </main>
    </div>
  );
}

/** A refused login says why in the user's words; a wrong password is not an "error". */
function LoginFailure({ error }: { error: unknown }) {
  if (error instanceof ApiError && error.status === 401) {
    return (
      <p class="error-panel compact" role="alert">
        {t('login.failed')}
      </p>
    );
  }
  if (error instanceof ApiError && error.code === 'not_active') {
    const active = error.body?.active_api?.[0];
    return (
      <div class="error-panel compact" role="alert">
        <p>{t('login.notActive', { role: tOr(`role.${error.body?.role ?? ''}`, error.body?.role ?? '') })}</p>
        {active && (
          <p>
            <a href={`https://${active}/login`}>{t('login.goToActive', { address: active })}</a>
          </p>
        )}
      </div>
    );
  }
  return <ErrorPanel error={error} compact />;
}
