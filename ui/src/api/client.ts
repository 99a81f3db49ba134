// The console's only way to the appliance: a fetch wrapper for the public
// REST API. It speaks JSON, turns every error answer into an ApiError
// (status, code, message), retries what the API says is worth retrying
// (503 with Retry-After during a failover, a dropped connection) with
// backoff, and sends an Idempotency-Key with every write so that a retry
// is applied at most once.
//
// Where requests go is an Endpoints strategy: the page's own origin by
// default; src/live/failover.ts knows both appliances' addresses and moves
// to the other one when this one stops answering.

import type { ErrorBody } from './types';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export type Query = Record<string, string | number | boolean | undefined>;

/** A failed call: status 0 when no answer came at all. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly body: ErrorBody | undefined;

  constructor(status: number, code: string, message: string, body?: ErrorBody) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.body = body;
  }

  /** No answer (network down, appliance gone): try again or elsewhere. */
  get unreachable(): boolean {
    return this.status === 0;
  }
}

/** Where API calls go, best first. */
export interface Endpoints {
  /** Origins to try, best first; '' is the page's own origin. */
  bases(): readonly string[];
  /**
   * A base did not answer, or answered that it cannot serve now (503): the
   * strategy may reorder bases() (e.g. towards the error's active_api).
   */
  report(base: string, problem: ApiError): void;
  /** Headers a call to base needs (the session as a bearer token on another origin). */
  headers?(base: string): Record<string, string>;
}

/** Only the appliance that served the page. */
export const sameOrigin: Endpoints = {
  bases: () => [''],
  report: () => undefined,
};

export interface CallOptions {
  query?: Query;
  body?: unknown;
  signal?: AbortSignal;
  /** false: answer the first failure (a login says where to go instead). */
  retry?: boolean;
  /** A 401 is an answer, not a lost session (login). */
  anonymous?: boolean;
  /** A write's key; one is made when absent, and kept across retries. */
  idempotencyKey?: string;
}

export interface ClientOptions {
  endpoints?: Endpoints;
  /** Called on a 401 to a call made with a session: it has ended. */
  onUnauthenticated?: (e: ApiError) => void;
  /** Tries for a retryable failure, the first included. */
  attempts?: number;
  /** Longest wait between tries, in milliseconds. */
  maxDelayMs?: number;
  fetch?: typeof fetch;
  /** Waits between tries (tests record the delays). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Codes the API answers when nothing was done or a retry settles it. */
const retryableStatus = new Set([0, 502, 503, 504]);
const retryableCodes = new Set(['idempotency_key_in_flight']);

export class ApiClient {
  private readonly endpoints: Endpoints;
  private readonly attempts: number;
  private readonly maxDelayMs: number;
  private readonly fetcher: typeof fetch;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  onUnauthenticated: (e: ApiError) => void;

  constructor(opts: ClientOptions = {}) {
    this.endpoints = opts.endpoints ?? sameOrigin;
    this.attempts = opts.attempts ?? 6;
    this.maxDelayMs = opts.maxDelayMs ?? 8000;
    this.fetcher = opts.fetch ?? ((input, init) => fetch(input, init));
    this.sleep = opts.sleep ?? sleep;
    this.onUnauthenticated = opts.onUnauthenticated ?? (() => undefined);
  }

  get<T>(path: string, opts: CallOptions = {}): Promise<T> {
    return this.call<T>('GET', path, opts);
  }

  post<T>(path: string, body: unknown, opts: CallOptions = {}): Promise<T> {
    return this.call<T>('POST', path, { ...opts, body });
  }

  delete<T>(path: string, opts: CallOptions = {}): Promise<T> {
    return this.call<T>('DELETE', path, opts);
  }

  /** One logical call, retried as the answers allow. */
  async call<T>(method: Method, path: string, opts: CallOptions = {}): Promise<T> {
    const write = method !== 'GET';
    const key = write ? (opts.idempotencyKey ?? newKey()) : undefined;
    const tries = opts.retry === false ? 1 : this.attempts;
    let last: ApiError | undefined;
    for (let i = 0; i < tries; i++) {
      const bases = this.endpoints.bases();
      const base = bases[i % bases.length] ?? '';
      try {
        return await this.once<T>(method, base, path, opts, key);
      } catch (e) {
        if (!(e instanceof ApiError)) throw e; // aborted
        last = e;
        if (e.status === 401 && !opts.anonymous) this.onUnauthenticated(e);
        if (!retryable(e) || i === tries - 1) break;
        this.endpoints.report(base, e);
        await this.sleep(this.delay(i, e), opts.signal);
      }
    }
    throw last ?? new ApiError(0, 'unreachable', 'no answer');
  }

  private async once<T>(method: Method, base: string, path: string, opts: CallOptions, key?: string): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    let body: string | undefined;
    if (opts.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(opts.body);
    }
    if (key) headers['Idempotency-Key'] = key;
    Object.assign(headers, this.endpoints.headers?.(base));
    let res: Response;
    try {
      res = await this.fetcher(base + path + queryString(opts.query), {
        method,
        headers,
        body,
        signal: opts.signal,
        credentials: 'same-origin',
        cache: 'no-store',
      });
    } catch (e) {
      if (opts.signal?.aborted) throw e;
      throw new ApiError(0, 'unreachable', e instanceof Error ? e.message : String(e));
    }
    const parsed = await readJSON(res);
    if (res.ok) return parsed as T;
    throw errorOf(res, parsed);
  }

  /** Backoff: 0.5 s doubling to maxDelayMs, never below Retry-After. */
  private delay(attempt: number, e: ApiError): number {
    const backoff = Math.min(500 * 2 ** attempt, this.maxDelayMs);
    const jittered = backoff * (0.8 + Math.random() * 0.4);
    const after = retryAfterMs.get(e) ?? 0;
    return Math.min(Math.max(jittered, after), this.maxDelayMs);
  }
}

/** Retry-After of an error answer, in milliseconds. */
const retryAfterMs = new WeakMap<ApiError, number>();

function retryable(e: ApiError): boolean {
  return retryableStatus.has(e.status) || retryableCodes.has(e.code);
}

function errorOf(res: Response, parsed: unknown): ApiError {
  let err: ApiError;
  if (isErrorBody(parsed)) {
    err = new ApiError(res.status, parsed.code || `http_${res.status}`, parsed.error, parsed);
  } else {
    err = new ApiError(res.status, `http_${res.status}`, res.statusText);
  }
  const ra = Number(res.headers.get('Retry-After'));
  if (Number.isFinite(ra) && ra > 0) retryAfterMs.set(err, ra * 1000);
  return err;
}

async function readJSON(res: Response): Promise<unknown> {
  const text = await res.text().catch(() => '');
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isErrorBody(v: unknown): v is ErrorBody {
  return typeof v === 'object' && v !== null && typeof (v as { error?: unknown }).error === 'string';
}

function queryString(q?: Query): string {
  if (!q) return '';
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v !== undefined && v !== '') p.set(k, String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}

function newKey(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
