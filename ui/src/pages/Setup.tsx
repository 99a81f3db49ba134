// The first-boot wizard (/setup, outside the shell). A fresh appliance has
// no administrator; whoever can read its log or run `mamori setup-token` on
// it gives the setup token, then either creates the administrator and pairs
// a second appliance ("first appliance", SetupFirst.tsx), or joins the pair
// of an appliance already set up ("join", SetupJoin.tsx). A joining
// appliance creates no administrator: its store is replaced by the first
// appliance's, whose administrator is the pair's.

import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, type SetupStatus } from '../api';
import { ErrorPanel } from '../components/ErrorPanel';
import { Field } from '../components/Field';
import { Prefs } from '../components/Prefs';
import { Loading } from '../components/bits';
import { t } from '../i18n';
import { navigate } from '../router';
import { session } from '../session';
import '../styles/setup.css';
import { FirstAppliance } from './SetupFirst';
import { JoinPair } from './SetupJoin';

/** The command that shows the token on the appliance (a command: not translated). */
const tokenCommand = 'mamori setup-token';

type Stage = 'token' | 'choose' | 'first' | 'join';

/** A setup token, as `mamori setup-token` prints it (24 characters, dashes optional). */
export function validateToken(token: string): string | undefined {
  const clean = token.replace(/[\s-]/g, '');
  if (!clean) return t('form.required', { field: t('setup.token') });
  if (!/^[0-9A-Za-z]{24}$/.test(clean)) return t('setup.tokenInvalid', { field: t('setup.token') });
  return undefined;
}

export function SetupPage() {
  const [status, setStatus] = useState<SetupStatus | undefined>(undefined);
  const [loadError, setLoadError] = useState<unknown>(undefined);
  const [stage, setStage] = useState<Stage>('token');
  const [token, setToken] = useState('');

  const load = () => {
    setLoadError(undefined);
    api.setup().then(setStatus, setLoadError);
  };
  useEffect(load, []);

  let body: ComponentChildren;
  if (loadError !== undefined) body = <ErrorPanel error={loadError} onRetry={load} />;
  else if (!status) body = <Loading />;
  else if (stage === 'first') body = <FirstAppliance token={token} status={status} />;
  else if (stage === 'join') body = <JoinPair token={token} />;
  else if (!status.needs_setup) body = <Configured status={status} onPair={() => setStage('first')} />;
  else if (stage === 'token')
    body = (
      <TokenStep
        onDone={(tok) => {
          setToken(tok);
          setStage('choose');
        }}
      />
    );
  else body = <ChooseStep onFirst={() => setStage('first')} onJoin={() => setStage('join')} />;

  return (
    <div class="login-screen setup-screen">
      <main class="login-card setup-card" id="main">
        <h1 class="login-brand">
          <span class="brand-mark" aria-hidden="true" />
          mamori
        </h1>
        <p class="muted">{t('setup.subtitle')}</p>
        {body}
        <details class="login-prefs">
          <summary>{t('prefs.title')}</summary>
          <Prefs idPrefix="setup" />
        </details>
      </main>
    </div>
  );
}

/** The heading of a step: where the user is, and how many steps there are. */
export function StepTitle({ n, title }: { n: number; title: string }) {
  return (
    <>
      <p class="setup-progress muted">{t('setup.step', { n })}</p>
      <h2 class="setup-title" id="setup-step-title">
        {title}
      </h2>
    </>
  );
}

function TokenStep({ onDone }: { onDone: (token: string) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | undefined>(undefined);
  const [failure, setFailure] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setFailure(undefined);
    const err = validateToken(token);
    setError(err);
    if (err) {
      document.getElementById('setup-token')?.focus();
      return;
    }
    setBusy(true);
    try {
      await api.setupToken(token.trim());
      onDone(token.trim());
    } catch (x) {
      setFailure(x);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="setup-step-title">
      <StepTitle n={1} title={t('setup.tokenTitle')} />
      <p>{t('setup.tokenIntro')}</p>
      <pre class="setup-command">{tokenCommand}</pre>
      {failure !== undefined && <ErrorPanel error={failure} compact />}
      <form onSubmit={submit} noValidate aria-label={t('setup.tokenTitle')}>
        <Field id="setup-token" label={t('setup.token')} value={token} onValue={setToken} error={error} hint={t('setup.tokenHint')} verbatim autoFocus autocomplete="off" />
        <button type="submit" class="button primary" disabled={busy}>
          {busy ? t('setup.checking') : t('setup.next')}
        </button>
      </form>
    </section>
  );
}

function ChooseStep({ onFirst, onJoin }: { onFirst: () => void; onJoin: () => void }) {
  return (
    <section aria-labelledby="setup-step-title">
      <StepTitle n={2} title={t('setup.chooseTitle')} />
      <div class="setup-choices">
        <button type="button" class="button primary setup-choice" id="setup-first" onClick={onFirst}>
          <strong>{t('setup.first')}</strong>
          <span>{t('setup.firstHint')}</span>
        </button>
        <button type="button" class="button setup-choice" id="setup-join" onClick={onJoin}>
          <strong>{t('setup.join')}</strong>
          <span>{t('setup.joinHint')}</span>
        </button>
      </div>
    </section>
  );
}

/** An appliance that has its administrator: log in, or pair a second one. */
function Configured({ status, onPair }: { status: SetupStatus; onPair: () => void }) {
  const user = session.value.kind === 'user';
  return (
    <section aria-labelledby="setup-step-title">
      <h2 class="setup-title" id="setup-step-title">
        {t('setup.configuredTitle')}
      </h2>
      <p>{status.paired ? t('setup.configuredPaired', { peer: status.peer_id ?? '' }) : t('setup.configured')}</p>
      <div class="setup-actions">
        {user && !status.paired && (
          <button type="button" class="button" id="setup-pair-more" onClick={onPair}>
            {t('setup.pairSecond')}
          </button>
        )}
        <button type="button" class="button primary" onClick={() => navigate(user ? '/' : '/login')}>
          {user ? t('setup.toDashboard') : t('login.submit')}
        </button>
      </div>
    </section>
  );
}
