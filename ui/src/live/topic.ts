// Live data for screens. A Topic holds the latest value of something on
// the appliance (the cluster status, the event counts) as signals, while
// at least one screen subscribes to it. Today it polls the REST API; the
// server-sent events of issue 11 (item 4) will push into the same topics
// (Topic.push) and screens will not change. Every topic remembers when it
// was last fresh, so a screen can say how old what it shows is.

import { signal } from '@preact/signals';
import { useEffect } from 'preact/hooks';

export class Topic<T> {
  readonly data = signal<T | undefined>(undefined);
  readonly error = signal<unknown>(undefined);
  /** When data was last fresh. */
  readonly updated = signal<Date | undefined>(undefined);
  readonly loading = signal(false);

  private subscribers = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private ctrl: AbortController | undefined;

  constructor(
    readonly name: string,
    private readonly load: (signal: AbortSignal) => Promise<T>,
    private readonly everyMs: number,
  ) {}

  /** Starts keeping the topic fresh; the returned function stops it. */
  subscribe(): () => void {
    if (++this.subscribers === 1) void this.tick();
    return () => {
      if (--this.subscribers === 0) this.stop();
    };
  }

  /** Reads the topic now (after a change the user made, or a retry). */
  refresh(): void {
    if (this.subscribers > 0) void this.tick();
  }

  /** A fresh value from a live transport. */
  push(value: T): void {
    this.data.value = value;
    this.error.value = undefined;
    this.updated.value = new Date();
  }

  private async tick(): Promise<void> {
    this.stop();
    const ctrl = new AbortController();
    this.ctrl = ctrl;
    this.loading.value = true;
    try {
      this.push(await this.load(ctrl.signal));
    } catch (e) {
      if (ctrl.signal.aborted) return;
      // Keep what was shown: it is marked stale by `updated`, not erased.
      this.error.value = e;
    } finally {
      if (this.ctrl === ctrl) {
        this.loading.value = false;
        this.timer = setTimeout(() => void this.tick(), this.everyMs);
      }
    }
  }

  private stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.ctrl?.abort();
    this.ctrl = undefined;
    this.loading.value = false;
  }
}

/** Subscribes the calling component to t while it is mounted. */
export function useTopic<T>(t: Topic<T>): Topic<T> {
  useEffect(() => t.subscribe(), [t]);
  return t;
}
