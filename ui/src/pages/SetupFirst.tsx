// The wizard's "first appliance" path: create the administrator (logged in
// at once), show the pairing code and the CA fingerprint for the second
// appliance, the HA mode, then the pair coming up; it ends on the dashboard.

import { useEffect, useState } from 'preact/hooks';
import { api, type ClusterStatus, type PairCode, type SetupStatus } from '../api';
import { ErrorPanel } from '../components/ErrorPanel';
import { Field } from '../components/Field';
import { KV, Loading, YesNo } from '../components/bits';
import { t } from '../i18n';
import { navigate } from '../router';
import { loggedIn, session } from '../session';
import { StepTitle } from './Setup';

type Step = 'admin' | 'code' | 'ha' | 'progress';

export function FirstAppliance({ token, status }: { token: string; status: SetupStatus }) {
  // An administrator who comes back to pair a second appliance skips the first step.
  const [step, setStep] = useState<Step>(session.value.kind === 'user' ? 'code' : 'admin');
  switch (step) {
    case 'admin':
      return <AdminStep token={token} onDone={() => setStep('code')} />;
    case 'code':
      return <CodeStep onNext={() => setStep('ha')} />;
    case 'ha':
      return <HAStep status={status} onNext={() => setStep('progress')} />;
    case 'progress':
      return <PairProgress />;
  }
}

interface AdminForm {
  user: string;
  password: string;
  confirm: string;
}

type AdminErrors = Partial<Record<keyof AdminForm, string>>;

/** The appliance's rules (auth.CreateUser, auth.CheckPolicy), said before sending, naming the field. */
export function validateAdmin(f: AdminForm): AdminErrors {
  const e: AdminErrors = {};
  const user = f.user.trim();
  if (!user) e.user = t('form.required', { field: t('setup.user') });
  else if (!/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/.test(user)) e.user = t('setup.userInvalid', { field: t('setup.user') });
  if (!f.password) e.password = t('form.required', { field: t('setup.password') });
  else if ([...f.password].length < 12) e.password = t('setup.passwordShort', { field: t('setup.password'), min: 12 });
  else if (user && f.password.toLowerCase().includes(user.toLowerCase()))
    e.password = t('setup.passwordHasUser', { field: t('setup.password') });
  if (!f.confirm) e.confirm = t('form.required', { field: t('setup.confirm') });
  else if (f.confirm !== f.password) e.confirm = t('setup.confirmMismatch', { field: t('setup.confirm') });
  return e;
}

function AdminStep({ token, onDone }: { token: string; onDone: () => void }) {
  const [form, setForm] = useState<AdminForm>({ user: '', password: '', confirm: '' });
  const [errors, setErrors] = useState<AdminErrors>({});
  const [failure, setFailure] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const set = (k: keyof AdminForm) => (v: string) => setForm({ ...form, [k]: v });
  const submit = async (e: Event) => {
    e.preventDefault();
    setFailure(undefined);
    const errs = validateAdmin(form);
    setErrors(errs);
    const first = (Object.keys(errs) as (keyof AdminForm)[])[0];
    if (first) {
      document.getElementById(`setup-${first}`)?.focus();
      return;
    }
    setBusy(true);
    try {
      await api.setupAdmin({ token, user: form.user.trim(), password: form.password });
      await loggedIn();
      onDone();
    } catch (x) {
      setFailure(x);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="setup-step-title">
      <StepTitle n={3} title={t('setup.adminTitle')} />
      <p>{t('setup.adminIntro')}</p>
      {failure !== undefined && <ErrorPanel error={failure} compact />}
      <form onSubmit={submit} noValidate aria-label={t('setup.adminTitle')}>
        <Field id="setup-user" label={t('setup.user')} value={form.user} onValue={set('user')} error={errors.user} autocomplete="username" verbatim autoFocus />
        <Field
          id="setup-password"
          label={t('setup.password')}
          password
          value={form.password}
          onValue={set('password')}
          error={errors.password}
          hint={t('setup.passwordHint')}
          autocomplete="new-password"
        />
        <Field id="setup-confirm" label={t('setup.confirm')} password value={form.confirm} onValue={set('confirm')} error={errors.confirm} autocomplete="new-password" />
        <button type="submit" class="button primary" disabled={busy}>
          {busy ? t('setup.creating') : t('setup.createAdmin')}
        </button>
      </form>
    </section>
  );
}

function CodeStep({ onNext }: { onNext: () => void }) {
  const [code, setCode] = useState<PairCode | undefined>(undefined);
  const [failure, setFailure] = useState<unknown>(undefined);
  const issue = () => {
    setFailure(undefined);
    api.pairCode().then(setCode, setFailure);
  };
  useEffect(issue, []);
  return (
    <section aria-labelledby="setup-step-title">
      <StepTitle n={4} title={t('setup.codeTitle')} />
      {failure !== undefined ? (
        <ErrorPanel error={failure} onRetry={issue} />
      ) : !code ? (
        <Loading />
      ) : (
        <>
          <p>{t('setup.codeIntro')}</p>
          <KV
            rows={[
              [t('setup.peerAddress'), <code id="setup-peer-address">{code.peer_address}</code>],
              [t('setup.code'), <code id="setup-code" class="setup-secret">{code.code}</code>],
              [t('setup.fingerprint'), <code id="setup-fingerprint" class="setup-fingerprint">{code.ca_fingerprint}</code>],
            ]}
          />
          <ol class="setup-howto">
            <li>{t('setup.codeHow1')}</li>
            <li>{t('setup.codeHow2', { address: code.peer_address ?? '' })}</li>
            <li>{t('setup.codeHow3')}</li>
          </ol>
          <p class="muted">{t('setup.codeExpires', { at: new Date(code.expires).toLocaleString() })}</p>
          <button type="button" class="button primary" id="setup-code-next" onClick={onNext}>
            {t('setup.next')}
          </button>
        </>
      )}
    </section>
  );
}

/** The HA mode this appliance is configured with, and what it will use to decide a failover. */
function HAStep({ status, onNext }: { status: SetupStatus; onNext: () => void }) {
  const witness = status.ha_mode === 'witness';
  return (
    <section aria-labelledby="setup-step-title">
      <StepTitle n={5} title={t('setup.haTitle')} />
      <KV
        rows={[
          [t('setup.haMode'), <strong id="setup-ha-mode">{witness ? t('setup.haWitness') : t('setup.haPairOnly')}</strong>],
          witness
            ? [t('setup.witnessHost'), <code id="setup-witness">{status.witness ?? ''}</code>]
            : [t('setup.witnessAddresses'), <code id="setup-witness">{(status.witness_addresses ?? []).join(', ') || t('common.none')}</code>],
        ]}
      />
      <p>{witness ? t('setup.haWitnessExplain') : t('setup.haPairOnlyExplain')}</p>
      <p class="muted">{t('setup.haChange')}</p>
      <button type="button" class="button primary" id="setup-ha-next" onClick={onNext}>
        {t('setup.next')}
      </button>
    </section>
  );
}

/** The pair coming up: the second appliance joined, answers heartbeats, replicates as standby. */
function PairProgress() {
  const [st, setSt] = useState<ClusterStatus | undefined>(undefined);
  const [failure, setFailure] = useState<unknown>(undefined);
  useEffect(() => {
    let stop = false;
    const poll = async () => {
      while (!stop) {
        try {
          setSt(await api.cluster());
          setFailure(undefined);
        } catch (x) {
          setFailure(x);
        }
        await new Promise((r) => setTimeout(r, 1500));
      }
    };
    void poll();
    return () => {
      stop = true;
    };
  }, []);
  const joined = !!st?.peer;
  const reachable = !!st?.peer?.reachable;
  const standby = st?.peer?.role === 'standby' && st.role === 'active';
  return (
    <section aria-labelledby="setup-step-title">
      <StepTitle n={6} title={t('setup.progressTitle')} />
      <p>{standby ? t('setup.progressDone') : t('setup.progressWaiting')}</p>
      {failure !== undefined && <ErrorPanel error={failure} compact />}
      <ul class="setup-checks" aria-live="polite">
        <li>
          <YesNo ok={joined} /> {t('setup.checkJoined', { peer: st?.peer?.id ?? '—' })}
        </li>
        <li>
          <YesNo ok={reachable} /> {t('setup.checkReachable')}
        </li>
        <li>
          <YesNo ok={standby} /> {t('setup.checkStandby')}
        </li>
      </ul>
      <button type="button" class={standby ? 'button primary' : 'button'} id="setup-finish" onClick={() => navigate('/')}>
        {standby ? t('setup.toDashboard') : t('setup.skipToDashboard')}
      </button>
    </section>
  );
}
