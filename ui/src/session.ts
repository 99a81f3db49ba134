// Who is logged in. The session itself is the HttpOnly cookie
// mamori_session that the login answer sets: the console never holds the
// token. A 401 to any call made with the session ends it here and shows
// the login screen; a 503 ("unavailable", a failover) never does.

import { signal } from '@preact/signals';
import { api, ApiError, client, type LoginRequest, type Me } from './api';
import { configureFailover, resetFailover, setFailoverToken } from './live/failover';
import { navigate, path, query } from './router';

export type Session =
  | { kind: 'unknown' }
  | { kind: 'anonymous'; expired: boolean }
  | { kind: 'user'; me: Me }
  | { kind: 'unavailable'; error: unknown };

export const session = signal<Session>({ kind: 'unknown' });

// Whether this browser logged in and has not logged out: without it the
// console shows the login screen at once instead of asking the appliance
// (a 401 that would only say what we know). Not a secret: the cookie is
// the session.
const hintKey = 'mamori.session';
const hint = {
  get: () => localStorage.getItem(hintKey) === '1',
  set: (on: boolean) => (on ? localStorage.setItem(hintKey, '1') : localStorage.removeItem(hintKey)),
};

/** The logged-in user's details, if any. */
export function me(): Me | undefined {
  const s = session.value;
  return s.kind === 'user' ? s.me : undefined;
}

/** Asks the appliance who we are (the cookie says, if it is there). */
export async function loadSession(): Promise<void> {
  if (!hint.get()) {
    session.value = { kind: 'anonymous', expired: false };
    return;
  }
  try {
    session.value = { kind: 'user', me: await api.me() };
    void prepareFailover();
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      hint.set(false);
      session.value = { kind: 'anonymous', expired: true };
    } else {
      session.value = { kind: 'unavailable', error: e };
    }
  }
}

export async function login(req: LoginRequest): Promise<void> {
  // The answer's token is the session: calls to the peer carry it.
  setFailoverToken((await api.login(req)).token);
  hint.set(true);
  session.value = { kind: 'user', me: await api.me() };
  void prepareFailover();
}

/**
 * Learns the peer's origins and the session as a bearer token, so that the
 * console can go on at the peer when this appliance dies (live/failover.ts).
 * Without them (a single appliance, or the call failed) it stays here.
 */
async function prepareFailover(): Promise<void> {
  try {
    const f = await api.sessionFailover({ retry: false });
    configureFailover(f.token, f.peer_origins ?? []);
  } catch {
    // Not fatal: the console works, it only cannot move.
  }
}

/** The first-boot wizard created the administrator and its session cookie. */
export async function loggedIn(): Promise<void> {
  hint.set(true);
  session.value = { kind: 'user', me: await api.me() };
}

export async function logout(): Promise<void> {
  try {
    await api.logout();
  } finally {
    hint.set(false);
    resetFailover();
    session.value = { kind: 'anonymous', expired: false };
    navigate('/login', { replace: true });
  }
}

/** Sends the user to the login screen, to come back where they were. */
export function toLogin(expired: boolean): void {
  hint.set(false);
  session.value = { kind: 'anonymous', expired };
  if (path.value === '/login') return;
  const here = path.value + (query.value.toString() ? `?${query.value.toString()}` : '');
  navigate(`/login?next=${encodeURIComponent(here)}`, { replace: true });
}

client.onUnauthenticated = () => {
  if (session.value.kind === 'user') toLogin(true);
};
