// Failover without a reload. The console knows both appliances: the one
// that served the page ('' below: the page's own origin) and the peer's
// console origins (POST /api/v1/session/failover, which also gives the
// session as a bearer token: the session cookie is per origin). When the
// appliance it talks to stops answering (or answers 503), it asks each
// appliance's /healthz for its role, once a second, and sends its API calls
// and its live stream to the one that says "active". The peer answers CORS
// for this page's origin only, and the page's CSP names the peer in
// connect-src (api/cors.go). The token lives in memory only.

import { signal } from '@preact/signals';
import type { ApiError, Endpoints } from '../api/client';

/** Where the console's calls go now: '' (the page's appliance) or a peer's origin. */
export const base = signal('');
/** When the console last moved to another appliance. */
export const switchedAt = signal<Date | undefined>(undefined);

let token = '';
let peers: string[] = [];
let probing: Promise<void> | undefined;

/** Remembers the session's bearer token and the peer's console origins. */
export function configureFailover(sessionToken: string, peerOrigins: readonly string[]): void {
  token = sessionToken;
  peers = peerOrigins.filter((o) => o !== location.origin);
}

/** A new session's token (a login, perhaps at the peer after a failover). */
export function setFailoverToken(sessionToken: string): void {
  token = sessionToken;
}

/**
 * Adds the console origins of API addresses the cluster state names (the
 * peer's, the active's), so a pairing changed since login is followed too.
 */
export function learnAddresses(addrs: readonly string[]): void {
  for (const a of addrs) {
    const o = originOf(a);
    if (o && o !== location.origin && !peers.includes(o)) peers.push(o);
  }
}

/** https://host:port as a browser writes the origin (no :443). */
export function originOf(addr: string): string {
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(addr);
  const host = m?.[1]?.toLowerCase();
  const port = m?.[2];
  if (!host || !port || host === '0.0.0.0' || host === '[::]') return '';
  return port === '443' ? `https://${host}` : `https://${host}:${port}`;
}

/** Forgets the token (logout). */
export function resetFailover(): void {
  token = '';
  peers = [];
  base.value = '';
}

/** The headers a call to b needs: the session as a bearer token on another origin. */
export function authHeaders(b: string): Record<string, string> {
  return b !== '' && token ? { Authorization: `Bearer ${token}` } : {};
}

/** The page's calls go where base says, and look for the active when that fails. */
export const failoverEndpoints: Endpoints = {
  bases: () => [base.value],
  headers: authHeaders,
  report: (b: string, problem: ApiError) => {
    if (b === base.value && (problem.unreachable || problem.status === 503)) void findActive();
  },
};

const probeEveryMs = 1000;
const probeForMs = 5 * 60 * 1000;

/**
 * Asks every known appliance for its role until one says active, and sends
 * the console's calls there. One search at a time; it gives up after five
 * minutes (the next failed call starts another).
 */
export function findActive(): Promise<void> {
  if (peers.length === 0) return Promise.resolve();
  probing ??= (async () => {
    try {
      for (const end = Date.now() + probeForMs; Date.now() < end; ) {
        for (const b of [base.value, ...['', ...peers].filter((x) => x !== base.value)]) {
          if ((await roleOf(b)) === 'active') {
            if (base.value !== b) {
              base.value = b;
              switchedAt.value = new Date();
            }
            return;
          }
        }
        await new Promise((r) => setTimeout(r, probeEveryMs));
      }
    } finally {
      probing = undefined;
    }
  })();
  return probing;
}

/** The role /healthz tells a logged-in caller, or undefined. */
async function roleOf(b: string): Promise<string | undefined> {
  try {
    const res = await fetch(`${b}/healthz`, {
      headers: { Accept: 'application/json', ...authHeaders(b) },
      credentials: 'same-origin',
      cache: 'no-store',
      signal: AbortSignal.timeout(2000),
    });
    const body = (await res.json()) as { role?: string };
    return body.role;
  } catch {
    return undefined;
  }
}
