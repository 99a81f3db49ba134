// The live transport: one server-sent-event stream
// (GET /api/v1/stream?topics=events,messages,cluster, api/stream.go) per
// page, read with fetch rather than EventSource because after a failover
// it goes to the other appliance's origin, which needs the session as an
// Authorization header and the last id seen as Last-Event-ID — two headers
// EventSource cannot send. It pushes the cluster state into clusterTopic,
// new events into the dashboard's summary (eventsTopic) and to whoever
// subscribed (onLiveEvent, onLiveMessage, onLiveReset: the event console),
// and keeps `live` (connected, and the last moment it was) for the "not live
// since" banner. The topics keep polling: that is the fallback.

import { computed, signal } from '@preact/signals';
import type { ClusterStatus, Event, SyslogMessage } from '../api';
import { authHeaders, base, findActive, learnAddresses } from './failover';
import { SseParser, type SseEvent } from './sse';
import { addEvent, clusterTopic, eventsTopic } from './topics';
import { session } from '../session';

export interface LiveState {
  /** The stream is open and the appliance speaks on it. */
  connected: boolean;
  /** The last moment the stream was live (anything received). */
  lastLive: Date | undefined;
  /** When the page started wanting a stream. */
  started: Date;
  /** The appliance refused the stream to this user (401/403): polling only, no banner. */
  refused: boolean;
}

export const live = signal<LiveState>({ connected: false, lastLive: undefined, started: new Date(), refused: false });
/** Only whether the stream is up (changes far less often than live). */
export const liveConnected = computed(() => live.value.connected);

type Listener<T> = (v: T) => void;
const eventListeners = new Set<Listener<Event>>();
const messageListeners = new Set<Listener<SyslogMessage>>();
const resetListeners = new Set<Listener<void>>();

/** Calls fn with each new event in the user's scopes; returns the unsubscribe. */
export function onLiveEvent(fn: Listener<Event>): () => void {
  eventListeners.add(fn);
  return () => void eventListeners.delete(fn);
}

/** Calls fn with each new syslog message in the user's scopes. */
export function onLiveMessage(fn: Listener<SyslogMessage>): () => void {
  messageListeners.add(fn);
  return () => void messageListeners.delete(fn);
}

/** Calls fn when the stream could not replay what was missed: reload the lists. */
export function onLiveReset(fn: Listener<void>): () => void {
  resetListeners.add(fn);
  return () => void resetListeners.delete(fn);
}

/** Silence longer than this (two heartbeats) means the stream is dead. */
const silenceMs = 35_000;
const maxDelayMs = 5000;

let users = 0;
let stopCurrent: (() => void) | undefined;

/** Keeps the stream open while at least one caller wants it (the Shell). */
export function startLive(): () => void {
  if (++users === 1) {
    const ctrl = new AbortController();
    stopCurrent = () => ctrl.abort();
    live.value = { ...live.value, started: new Date(), refused: false };
    void run(ctrl.signal);
  }
  return () => {
    if (--users === 0) {
      stopCurrent?.();
      stopCurrent = undefined;
    }
  };
}

/**
 * The topics the user's roles let them read (GET /api/v1/me lists the
 * privileges): asking for more is refused with 403, which the browser
 * reports as an error in its console.
 */
function streamTopics(): string[] {
  const s = session.value;
  if (s.kind !== 'user' || !s.me.privileges) return ['events', 'messages', 'cluster'];
  const reads = (f: 'monitor_results' | 'cluster') => (s.me.privileges?.[f] ?? []).includes('read');
  const out: string[] = [];
  if (reads('monitor_results')) out.push('events', 'messages');
  if (reads('cluster')) out.push('cluster');
  return out;
}

function set(patch: Partial<LiveState>): void {
  live.value = { ...live.value, ...patch };
}

async function run(stop: AbortSignal): Promise<void> {
  let topics = streamTopics();
  if (topics.length === 0) {
    set({ connected: false, refused: true });
    return;
  }
  let lastId: string | undefined;
  let delay = 1000;
  while (!stop.aborted) {
    const b = base.value;
    const ctrl = new AbortController();
    const abort = () => ctrl.abort();
    stop.addEventListener('abort', abort);
    // Moving to the other appliance ends this stream at once.
    const unwatch = base.subscribe((v) => v !== b && ctrl.abort());
    let watchdog = setTimeout(abort, silenceMs);
    try {
      const headers: Record<string, string> = { Accept: 'text/event-stream', ...authHeaders(b) };
      if (lastId) headers['Last-Event-ID'] = lastId;
      const res = await fetch(`${b}/api/v1/stream?topics=${topics.join(',')}`, {
        headers,
        credentials: 'same-origin',
        cache: 'no-store',
        signal: ctrl.signal,
      });
      if (res.status === 403 && topics.length > 1) {
        // The user's roles do not cover every topic: ask for fewer.
        topics = topics.includes('cluster') ? topics.filter((x) => x !== 'cluster') : ['cluster'];
        continue;
      }
      if (res.status === 401 || res.status === 403) {
        // No stream for this user (or the session ended: the next call
        // shows the login screen, and a new Shell starts a new stream).
        set({ connected: false, refused: true });
        return;
      }
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      const parser = new SseParser();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        clearTimeout(watchdog);
        watchdog = setTimeout(abort, silenceMs);
        set({ lastLive: new Date() });
        for (const ev of parser.feed(value)) {
          if (ev.id) lastId = ev.id;
          if (dispatch(ev)) delay = 1000;
        }
      }
    } catch {
      // Gone, refused or silent: below, the search for the active.
    } finally {
      clearTimeout(watchdog);
      unwatch();
      stop.removeEventListener('abort', abort);
    }
    if (stop.aborted) break;
    if (live.value.connected) set({ connected: false });
    if (base.value === b) {
      void findActive();
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, maxDelayMs);
    }
  }
  if (live.value.connected) set({ connected: false });
}

/** Hands one event of the stream on; true when it shows the stream is live. */
function dispatch(ev: SseEvent): boolean {
  switch (ev.event) {
    case 'ready':
      set({ connected: true, lastLive: new Date() });
      return true;
    case 'event': {
      const e = JSON.parse(ev.data) as Event;
      const s = eventsTopic.data.value;
      if (s) eventsTopic.push(addEvent(s, e));
      eventListeners.forEach((fn) => fn(e));
      return true;
    }
    case 'message': {
      const m = JSON.parse(ev.data) as SyslogMessage;
      messageListeners.forEach((fn) => fn(m));
      return true;
    }
    case 'cluster': {
      const st = JSON.parse(ev.data) as ClusterStatus;
      clusterTopic.push(st);
      learnAddresses([...(st.peer?.api_addrs ?? []), ...(st.active_api ?? [])]);
      return true;
    }
    case 'reset':
      eventsTopic.refresh();
      resetListeners.forEach((fn) => fn());
      return true;
    default:
      return false;
  }
}
