// Client-side routing on the History API: the appliance answers every
// path outside /api/ with index.html, so /cluster can be bookmarked and
// reloaded. Routes are a table in app.tsx.

import { signal } from '@preact/signals';

export const path = signal(location.pathname);
export const query = signal(new URLSearchParams(location.search));

function sync(): void {
  path.value = location.pathname;
  query.value = new URLSearchParams(location.search);
}

window.addEventListener('popstate', sync);

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  if (to === location.pathname + location.search) return;
  if (opts.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  sync();
  window.scrollTo(0, 0);
}

/** A click that should stay in the page (not a new tab or window). */
export function isPlainClick(e: MouseEvent): boolean {
  return e.button === 0 && !e.metaKey && !e.ctrlKey && !e.shiftKey && !e.altKey;
}

/** Where to go after logging in: the page asked for, if it is ours. */
export function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/login') ? next : '/';
}
