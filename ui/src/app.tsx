// The console's screens and how a path picks one. A later issue adds a
// screen by writing it under pages/ and adding a row here: the first-boot
// wizard (/setup) as a public route without the shell, the event console
// (/events), message search, settings and administration inside it.

import type { ComponentType } from 'preact';
import type { Me, PrivilegeFunction } from './api';
import { useEffect } from 'preact/hooks';
import { ErrorPanel } from './components/ErrorPanel';
import { Shell, type NavItem } from './components/Shell';
import { Loading } from './components/bits';
import { lazyPage } from './components/LazyPage';
import { t, type Key } from './i18n';
import { ClusterPage } from './pages/Cluster';
import { Dashboard } from './pages/Dashboard';
import { EventsPage } from './pages/Events';
import { LoginPage } from './pages/Login';
import { NotFound } from './pages/NotFound';
import { SetupPage } from './pages/Setup';
import { navigate, path, query, safeNext } from './router';
import { loadSession, session, toLogin } from './session';

interface Route {
  path: string;
  page: ComponentType;
  title: Key;
  /** Listed in the navigation. */
  nav?: boolean;
  /** Shown without a session and without the shell (login, the wizard). */
  public?: boolean;
  /** Listed only for users whose roles may read this function. */
  reads?: PrivilegeFunction;
}

// The settings, search and administration screens load on first use.
const MessagesPage = lazyPage(() => import('./pages/Messages').then((m) => m.MessagesPage));
const RulesPage = lazyPage(() => import('./pages/Rules').then((m) => m.RulesPage));
const InventoryPage = lazyPage(() => import('./pages/Inventory').then((m) => m.InventoryPage));
const AdminPage = lazyPage(() => import('./pages/Admin').then((m) => m.AdminPage));
const AuditPage = lazyPage(() => import('./pages/Audit').then((m) => m.AuditPage));
// Issue 12, console: the status view and the monitors.
const StatusPage = lazyPage(() => import('./pages/Status').then((m) => m.StatusPage));
const MonitorsPage = lazyPage(() => import('./pages/Monitors').then((m) => m.MonitorsPage));
// Schedule part (issue 12).
const CalendarsPage = lazyPage(() => import('./pages/Calendars').then((m) => m.CalendarsPage));
const MaintenancePage = lazyPage(() => import('./pages/Maintenance').then((m) => m.MaintenancePage));
// notify (issue 12)
const NotificationsPage = lazyPage(() => import('./pages/Notifications').then((m) => m.NotificationsPage));
// issue 12, metrics
const GraphsPage = lazyPage(() => import('./pages/Graphs').then((m) => m.GraphsPage));

const routes: Route[] = [
  { path: '/', page: Dashboard, title: 'nav.dashboard', nav: true },
  { path: '/events', page: EventsPage, title: 'nav.events', nav: true, reads: 'monitor_results' },
  { path: '/messages', page: MessagesPage, title: 'nav.messages', nav: true, reads: 'monitor_results' },
  // Issue 12, console: the status view and the monitors.
  { path: '/status', page: StatusPage, title: 'nav.status', nav: true, reads: 'monitor_results' },
  { path: '/monitors', page: MonitorsPage, title: 'nav.monitors', nav: true, reads: 'monitor_settings' },
  { path: '/rules', page: RulesPage, title: 'nav.rules', nav: true, reads: 'monitor_settings' },
  { path: '/notifications', page: NotificationsPage, title: 'nav.notifications', nav: true, reads: 'notifications' }, // notify (issue 12)
  { path: '/inventory', page: InventoryPage, title: 'nav.inventory', nav: true, reads: 'inventory' },
  // Schedule part (issue 12).
  { path: '/maintenance', page: MaintenancePage, title: 'nav.maintenance', nav: true, reads: 'monitor_settings' },
  { path: '/calendars', page: CalendarsPage, title: 'nav.calendars', nav: true, reads: 'calendars' },
  { path: '/graphs', page: GraphsPage, title: 'nav.graphs', nav: true, reads: 'monitor_results' }, // issue 12, metrics
  // Every user has an account there (own tokens, second factor).
  { path: '/admin', page: AdminPage, title: 'nav.admin', nav: true },
  { path: '/audit', page: AuditPage, title: 'nav.audit', nav: true, reads: 'audit' },
  { path: '/cluster', page: ClusterPage, title: 'nav.cluster', nav: true, reads: 'cluster' },
  { path: '/login', page: LoginPage, title: 'login.title', public: true },
  { path: '/setup', page: SetupPage, title: 'setup.title', public: true },
];

const notFound: Route = { path: '', page: NotFound, title: 'notFound.title' };

/**
 * The navigation for a user: screens their roles cannot read are not
 * offered (GET /api/v1/me lists the privileges; opened by address, such a
 * screen says what is missing).
 */
function navFor(me: Me): NavItem[] {
  const may = (f?: PrivilegeFunction) => !f || !me.privileges || (me.privileges[f] ?? []).includes('read');
  return routes.filter((r) => r.nav && may(r.reads)).map((r) => ({ path: r.path, title: r.title }));
}

function match(p: string): Route {
  const clean = p.length > 1 ? p.replace(/\/+$/, '') : p;
  return routes.find((r) => r.path === clean) ?? notFound;
}

export function App() {
  const route = match(path.value);
  const s = session.value;
  useEffect(() => {
    document.title = `${t(route.title)} · mamori`;
  });
  useEffect(() => {
    // The appliance could not say who we are (a failover): ask again.
    if (s.kind !== 'unavailable') return undefined;
    const id = setTimeout(() => void loadSession(), 10000);
    return () => clearTimeout(id);
  }, [s]);
  useEffect(() => {
    if (s.kind === 'anonymous' && !route.public) toLogin(s.expired);
    if (s.kind === 'user' && route.path === '/login') navigate(safeNext(query.value.get('next')), { replace: true });
  }, [s.kind, route.path]);

  if (route.public) return <route.page />;
  switch (s.kind) {
    case 'unknown':
    case 'anonymous':
      return (
        <div class="splash">
          <Loading />
        </div>
      );
    case 'unavailable':
      // The appliance cannot say who we are right now (a failover): the
      // session is not in question; say so and let the user retry.
      return (
        <div class="splash">
          <ErrorPanel error={s.error} onRetry={() => void loadSession()} />
        </div>
      );
    case 'user':
      return (
        <Shell nav={navFor(s.me)}>
          <route.page />
        </Shell>
      );
  }
}
