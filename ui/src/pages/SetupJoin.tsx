// The wizard's "join" path, on the second appliance: the first appliance's
// address and pairing code; the fingerprint of the CA that appliance
// presents, to compare with the one the first appliance's wizard shows,
// before anything secret is sent; then the join, after which this
// appliance restarts itself as the pair's standby.

import { useEffect, useState } from 'preact/hooks';
import { api, type PairPreview, type SetupStatus } from '../api';
import { ErrorPanel } from '../components/ErrorPanel';
import { Field } from '../components/Field';
import { KV, YesNo } from '../components/bits';
import { t } from '../i18n';
import { StepTitle } from './Setup';

interface JoinForm {
  peer: string;
  code: string;
}

type JoinErrors = Partial<Record<keyof JoinForm, string>>;

/** host:port (an IPv4 address or a name, or [IPv6]:port), and a code as `mamori pair init` or the first appliance shows it. */
export function validateJoin(f: JoinForm): JoinErrors {
  const e: JoinErrors = {};
  const peer = f.peer.trim();
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(peer);
  if (!peer) e.peer = t('form.required', { field: t('setup.peer') });
  else if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) e.peer = t('setup.peerInvalid', { field: t('setup.peer') });
  const code = f.code.replace(/[\s-]/g, '').toUpperCase();
  if (!code) e.code = t('form.required', { field: t('setup.code') });
  else if (!/^[0-9A-HJKMNP-TV-Z]{42}$/.test(code)) e.code = t('setup.codeInvalid', { field: t('setup.code') });
  return e;
}

type Step = { kind: 'form' } | { kind: 'confirm'; preview: PairPreview } | { kind: 'joined'; peerId: string };

export function JoinPair({ token }: { token: string }) {
  const [form, setForm] = useState<JoinForm>({ peer: '', code: '' });
  const [errors, setErrors] = useState<JoinErrors>({});
  const [failure, setFailure] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const [step, setStep] = useState<Step>({ kind: 'form' });
  const set = (k: keyof JoinForm) => (v: string) => setForm({ ...form, [k]: v });
  const req = () => ({ token, peer: form.peer.trim(), code: form.code.trim() });

  const preview = async (e: Event) => {
    e.preventDefault();
    setFailure(undefined);
    const errs = validateJoin(form);
    setErrors(errs);
    const first = (Object.keys(errs) as (keyof JoinForm)[])[0];
    if (first) {
      document.getElementById(`setup-${first}`)?.focus();
      return;
    }
    setBusy(true);
    try {
      setStep({ kind: 'confirm', preview: await api.pairPreview(req()) });
    } catch (x) {
      setFailure(x);
    } finally {
      setBusy(false);
    }
  };

  const join = async (fingerprint: string) => {
    setFailure(undefined);
    setBusy(true);
    try {
      const res = await api.pairJoin({ ...req(), fingerprint });
      setStep({ kind: 'joined', peerId: res.peer_id });
    } catch (x) {
      // Refused (a wrong code): nothing changed; back to the form to correct it.
      setFailure(x);
      setStep({ kind: 'form' });
    } finally {
      setBusy(false);
    }
  };

  if (step.kind === 'joined') return <Joined peerId={step.peerId} peer={form.peer.trim()} />;
  if (step.kind === 'confirm')
    return (
      <section aria-labelledby="setup-step-title">
        <StepTitle n={4} title={t('setup.confirmTitle')} />
        <p>{t('setup.confirmIntro', { peer: step.preview.peer })}</p>
        <p>
          <code id="setup-peer-fingerprint" class="setup-fingerprint">
            {step.preview.fingerprint}
          </code>
        </p>
        <p>{t('setup.confirmAsk')}</p>
        <div class="setup-actions">
          <button type="button" class="button" onClick={() => setStep({ kind: 'form' })} disabled={busy}>
            {t('setup.back')}
          </button>
          <button type="button" class="button primary" id="setup-confirm-join" onClick={() => void join(step.preview.fingerprint)} disabled={busy}>
            {busy ? t('setup.joining') : t('setup.confirmJoin')}
          </button>
        </div>
      </section>
    );
  return (
    <section aria-labelledby="setup-step-title">
      <StepTitle n={3} title={t('setup.joinTitle')} />
      <p>{t('setup.joinIntro')}</p>
      {failure !== undefined && <ErrorPanel error={failure} compact />}
      <form onSubmit={preview} noValidate aria-label={t('setup.joinTitle')}>
        <Field id="setup-peer" label={t('setup.peer')} value={form.peer} onValue={set('peer')} error={errors.peer} hint={t('setup.peerHint')} verbatim autoFocus />
        <Field id="setup-code" label={t('setup.code')} value={form.code} onValue={set('code')} error={errors.code} hint={t('setup.codeHint')} verbatim autocomplete="off" />
        <button type="submit" class="button primary" disabled={busy}>
          {busy ? t('setup.checking') : t('setup.showFingerprint')}
        </button>
      </form>
    </section>
  );
}

/**
 * After the join: this appliance restarts as the standby; wait for it, then
 * send the user to the active. The restarted appliance presents a new
 * certificate (under the pair's CA): a browser that accepted the first one
 * only may refuse it, so the way to the active is offered at once, and a
 * hint appears when this appliance has not answered for a while.
 */
function Joined({ peerId, peer }: { peerId: string; peer: string }) {
  const [st, setSt] = useState<SetupStatus | undefined>(undefined);
  const [silent, setSilent] = useState(0);
  useEffect(() => {
    let stop = false;
    const poll = async () => {
      while (!stop) {
        try {
          setSt(await api.setup({ retry: false }));
          setSilent(0);
        } catch {
          // Restarting: no answer for a moment.
          setSilent((n) => n + 1);
        }
        await new Promise((r) => setTimeout(r, 1000));
      }
    };
    void poll();
    return () => {
      stop = true;
    };
  }, []);
  const restarted = !!st && st.paired && !st.reforming;
  const standby = restarted && st.role === 'standby';
  return (
    <section aria-labelledby="setup-step-title">
      <StepTitle n={5} title={t('setup.joinedTitle')} />
      <p>{t('setup.joinedIntro', { peer: peerId })}</p>
      <ul class="setup-checks" aria-live="polite">
        <li>
          <YesNo ok={true} /> {t('setup.checkPaired', { peer: peerId })}
        </li>
        <li>
          <YesNo ok={restarted} /> {t('setup.checkRestarted')}
        </li>
        <li>
          <YesNo ok={standby} /> {t('setup.checkThisStandby')}
        </li>
      </ul>
      {!standby && silent >= 15 && (
        <p class="notice" role="status">
          {t('setup.certChanged')}
        </p>
      )}
      <KV rows={[[t('setup.activeAt'), <code>{peer}</code>]]} />
      {standby && <p id="setup-joined-done">{t('setup.joinedDone')}</p>}
      <a class={standby ? 'button primary' : 'button'} id="setup-go-active" href={`https://${peer}/`}>
        {t('setup.goToActive', { address: peer })}
      </a>
    </section>
  );
}
