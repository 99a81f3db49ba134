import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { t, tOr, type Key } from '../i18n';
import { clusterTopic, healthTopic } from '../live/topics';
import { useTopic } from '../live/topic';
import { LiveBanner } from './LiveBanner';
import { liveConnected, startLive } from '../live/stream';
import { isPlainClick, navigate, path } from '../router';
import { logout, me } from '../session';
import { Prefs } from './Prefs';
import { RoleBadge } from './bits';

export interface NavItem {
  path: string;
  title: Key;
}

/** A link that stays in the page. */
export function Link({ href, children, class: cls }: { href: string; children: ComponentChildren; class?: string }) {
  return (
    <a
      href={href}
      class={cls}
      aria-current={path.value === href ? 'page' : undefined}
      onClick={(e) => {
        if (!isPlainClick(e)) return;
        e.preventDefault();
        navigate(href);
      }}
    >
      {children}
    </a>
  );
}

/** The frame around every screen after login: header, navigation, main. */
export function Shell({ nav, children }: { nav: NavItem[]; children: ComponentChildren }) {
  const mainRef = useRef<HTMLElement>(null);
  // After navigating, focus the new screen for keyboard and screen-reader users.
  useEffect(() => mainRef.current?.focus({ preventScroll: true }), [path.value]);
  // One live stream while a user is in the console.
  useEffect(() => startLive(), []);
  return (
    <div class="shell" data-live={liveConnected.value ? 'on' : 'off'}>
      <a class="skip" href="#main">
        {t('shell.skip')}
      </a>
      <header class="topbar">
        <Link href="/" class="brand">
          <span class="brand-mark" aria-hidden="true" />
          <span>mamori</span>
        </Link>
        <nav class="nav" aria-label={t('shell.navigation')}>
          {nav.map((n) => (
            <Link key={n.path} href={n.path}>
              {t(n.title)}
            </Link>
          ))}
        </nav>
        <ApplianceStatus />
        <UserMenu />
      </header>
      <StandbyBanner />
      <LiveBanner />
      <main id="main" ref={mainRef} tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}

/** This appliance's role and epoch, from the cluster status or, for users who may not read it, /healthz. */
function ApplianceStatus() {
  const c = useTopic(clusterTopic);
  const st = c.data.value;
  // Users who may not read the cluster, or a cluster status that fails:
  // the public /healthz still says who answers and in which role.
  if (!st && c.error.value) return <HealthStatus />;
  return (
    <div class="appliance" title={st ? t('shell.applianceTitle', { node: st.node_id, epoch: st.epoch }) : undefined}>
      <span class="appliance-node">{st?.node_id ?? '…'}</span>
      <RoleBadge role={st?.role} />
      {st && <span class="appliance-epoch">{t('shell.epoch', { epoch: st.epoch })}</span>}
    </div>
  );
}

function HealthStatus() {
  const h = useTopic(healthTopic).data.value;
  return (
    <div class="appliance">
      <span class="appliance-node">{h?.node_id ?? '…'}</span>
      <RoleBadge role={h?.role} />
    </div>
  );
}

/** A standby (or a stale appliance) serving the page says where the active is. */
function StandbyBanner() {
  const st = clusterTopic.data.value;
  if (!st || st.role === 'active') return null;
  const api = st.active_api?.[0];
  return (
    <div class="banner" role="status">
      {t('shell.notActive', { role: tOr(`role.${st.role}`, st.role) })}{' '}
      {api ? (
        <a href={`https://${api}/`}>{t('shell.goToActive', { node: st.active_id ?? api })}</a>
      ) : (
        t('shell.noActiveKnown')
      )}
    </div>
  );
}

function UserMenu() {
  const user = me()?.user;
  return (
    <details class="menu">
      <summary>
        <span class="menu-user">{user}</span>
        <span class="menu-label">{t('shell.menu')}</span>
      </summary>
      <div class="menu-panel">
        <p class="muted">{t('shell.signedInAs', { user: user ?? '' })}</p>
        <Prefs idPrefix="menu" />
        <button type="button" class="button" onClick={() => void logout()}>
          {t('shell.logout')}
        </button>
      </div>
    </details>
  );
}
