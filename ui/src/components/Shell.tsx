import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
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

/**
 * The navigation's groups, in order. An item's group comes from its path
 * (navGroupOf); a path not listed there goes to the last group, so a new
 * screen in app.tsx's route table appears without a change here.
 */
type NavGroupId = 'monitoring' | 'settings' | 'administration' | 'other';

const navGroups: { id: NavGroupId; title: Key }[] = [
  { id: 'monitoring', title: 'shell.navGroupMonitoring' },
  { id: 'settings', title: 'shell.navGroupSettings' },
  { id: 'administration', title: 'shell.navGroupAdministration' },
  { id: 'other', title: 'shell.navGroupOther' },
];

const navGroupOf: Record<string, NavGroupId> = {
  '/': 'monitoring',
  '/events': 'monitoring',
  '/status': 'monitoring',
  '/messages': 'monitoring',
  '/graphs': 'monitoring',
  '/monitors': 'settings',
  '/rules': 'settings',
  '/notifications': 'settings',
  '/maintenance': 'settings',
  '/calendars': 'settings',
  '/inventory': 'settings',
  '/admin': 'administration',
  '/audit': 'administration',
  '/cluster': 'administration',
};

/** The items by group, each group in the order the route table lists its items; empty groups left out. */
export function groupNav(nav: NavItem[]): { id: NavGroupId; title: Key; items: NavItem[] }[] {
  return navGroups
    .map((g) => ({ ...g, items: nav.filter((n) => (navGroupOf[n.path] ?? 'other') === g.id) }))
    .filter((g) => g.items.length > 0);
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
          <span class="brand-name">mamori</span>
        </Link>
        <Nav nav={nav} />
        <ApplianceStatus />
        <UserMenu />
      </header>
      <div class="shell-body">
        <StandbyBanner />
        <LiveBanner />
        <main id="main" ref={mainRef} tabIndex={-1}>
          {children}
        </main>
      </div>
    </div>
  );
}

/**
 * The screens, grouped. On a wide screen a sidebar that is always there; on
 * a narrow one a panel under the header behind a disclosure button: opening
 * it moves the focus to the current screen's link (or the first); Escape
 * (focus back on the button), a tap outside, tabbing out of it or following
 * a link closes it.
 */
function Nav({ nav }: { nav: NavItem[] }) {
  const [open, setOpen] = useState(false);
  const navRef = useRef<HTMLElement>(null);
  const buttonRef = useRef<HTMLButtonElement>(null);
  const current = path.value;
  // Closes after navigation (also by the back button or a link elsewhere).
  useEffect(() => setOpen(false), [current]);
  useEffect(() => {
    if (!open) return undefined;
    const panel = navRef.current?.querySelector<HTMLElement>('.nav-panel');
    (panel?.querySelector<HTMLElement>('a[aria-current="page"]') ?? panel?.querySelector<HTMLElement>('a'))?.focus();
    const outside = (e: PointerEvent) => {
      if (!navRef.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('pointerdown', outside);
    return () => document.removeEventListener('pointerdown', outside);
  }, [open]);
  const groups = groupNav(nav);
  return (
    <nav
      class={open ? 'nav open' : 'nav'}
      ref={navRef}
      aria-label={t('shell.navigation')}
      onKeyDown={(e) => {
        if (e.key !== 'Escape' || !open) return;
        e.stopPropagation();
        setOpen(false);
        buttonRef.current?.focus();
      }}
      onFocusOut={(e) => {
        // Tabbing on past the last screen closes the panel too.
        const to = e.relatedTarget as Node | null;
        if (open && to && !navRef.current?.contains(to)) setOpen(false);
      }}
      onClick={(e) => {
        // Following a link (even to the screen already shown) closes the panel.
        if ((e.target as Element).closest?.('a')) setOpen(false);
      }}
    >
      <button
        type="button"
        class="nav-toggle"
        ref={buttonRef}
        aria-expanded={open}
        aria-controls="nav-panel"
        onClick={() => setOpen(!open)}
      >
        <span class="nav-toggle-icon" aria-hidden="true" />
        <span class="nav-toggle-label">{t('shell.navToggle')}</span>
      </button>
      <div class="nav-panel" id="nav-panel">
        {groups.map((g) => (
          <div class="nav-group" key={g.id}>
            <p class="nav-group-title" id={`nav-group-${g.id}`}>
              {t(g.title)}
            </p>
            <ul class="nav-list" aria-labelledby={`nav-group-${g.id}`}>
              {g.items.map((n) => (
                <li key={n.path}>
                  <Link href={n.path}>{t(n.title)}</Link>
                </li>
              ))}
            </ul>
          </div>
        ))}
      </div>
    </nav>
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
