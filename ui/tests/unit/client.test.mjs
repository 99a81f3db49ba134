// The API client's retry, error and idempotency rules, against a fake
// fetch: src/api/client.ts is compiled with esbuild (from the console's
// packages) and imported.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { before, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ui = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
let ApiClient;
let ApiError;

before(async () => {
  const { transformSync } = await import('esbuild');
  const { code } = transformSync(readFileSync(join(ui, 'src', 'api', 'client.ts'), 'utf8'), { loader: 'ts', format: 'esm' });
  const file = join(mkdtempSync(join(tmpdir(), 'mamori-ui-')), 'client.mjs');
  writeFileSync(file, code);
  ({ ApiClient, ApiError } = await import(pathToFileURL(file).href));
});

/** A fetch that answers from a script and records the requests. */
function fakeFetch(answers) {
  const requests = [];
  const fn = async (url, init) => {
    requests.push({ url, method: init.method, headers: init.headers, body: init.body });
    const a = answers[Math.min(requests.length - 1, answers.length - 1)];
    if (a === 'down') throw new TypeError('Failed to fetch');
    return new Response(a.body === undefined ? '' : JSON.stringify(a.body), {
      status: a.status,
      headers: { 'Content-Type': 'application/json', ...(a.headers ?? {}) },
    });
  };
  return { fn, requests };
}

function client(answers, extra = {}) {
  const f = fakeFetch(answers);
  const delays = [];
  const c = new ApiClient({ fetch: f.fn, sleep: async (ms) => void delays.push(ms), ...extra });
  return { c, requests: f.requests, delays };
}

const unavailable = { status: 503, headers: { 'Retry-After': '2' }, body: { error: 'store re-forming', code: 'unavailable' } };

test('a 503 is retried, never sooner than Retry-After, and the answer returned', async () => {
  const { c, requests, delays } = client([unavailable, unavailable, { status: 200, body: { user: 'op' } }]);
  assert.deepEqual(await c.get('/api/v1/me'), { user: 'op' });
  assert.equal(requests.length, 3);
  assert.equal(delays.length, 2);
  for (const d of delays) assert.ok(d >= 2000, `waited ${d} ms, Retry-After says 2 s`);
});

test('a write keeps one Idempotency-Key across its retries; two writes have two', async () => {
  const { c, requests } = client([{ status: 503, body: { error: 'x', code: 'outcome_unknown' } }, { status: 200, body: {} }]);
  await c.post('/api/v1/events', { uid: 'a' });
  const keys = requests.map((r) => r.headers['Idempotency-Key']);
  assert.ok(keys[0], 'a write carries a key');
  assert.equal(keys[0], keys[1], 'the retry carries the same key');
  assert.equal(requests[0].body, '{"uid":"a"}');
  await c.post('/api/v1/events', { uid: 'b' });
  assert.notEqual(requests[2].headers['Idempotency-Key'], keys[0]);
  const get = client([{ status: 200, body: {} }]);
  await get.c.get('/api/v1/cluster');
  assert.equal(get.requests[0].headers['Idempotency-Key'], undefined, 'reads carry none');
});

test('errors are ApiErrors with status, code and the appliance\'s message; 4xx are not retried', async () => {
  const { c, requests } = client([{ status: 400, body: { error: 'after and limit must be integers', code: 'bad_request' } }]);
  await assert.rejects(c.get('/api/v1/events', { query: { after: 'x', limit: 5, kind: undefined } }), (e) => {
    assert.ok(e instanceof ApiError);
    assert.equal(e.status, 400);
    assert.equal(e.code, 'bad_request');
    assert.equal(e.message, 'after and limit must be integers');
    return true;
  });
  assert.equal(requests.length, 1);
  assert.equal(requests[0].url, '/api/v1/events?after=x&limit=5');
});

test('a 401 ends the session (once, no retry); an anonymous 401 does not', async () => {
  let ended = 0;
  const { c, requests } = client([{ status: 401, body: { error: 'unauthenticated', code: 'unauthenticated' } }], {
    onUnauthenticated: () => ended++,
  });
  await assert.rejects(c.get('/api/v1/me'), { status: 401 });
  assert.equal(ended, 1);
  assert.equal(requests.length, 1);
  await assert.rejects(c.post('/api/v1/login', {}, { anonymous: true, retry: false }), { status: 401 });
  assert.equal(ended, 1);
});

test('no answer is retried on every base, then reported as unreachable', async () => {
  const reported = [];
  const endpoints = { bases: () => ['https://a', 'https://b'], report: (base, e) => reported.push([base, e.code]) };
  const { c, requests } = client(['down'], { endpoints, attempts: 4 });
  await assert.rejects(c.get('/api/v1/cluster'), (e) => e instanceof ApiError && e.unreachable && e.code === 'unreachable');
  assert.deepEqual(requests.map((r) => r.url), ['https://a/api/v1/cluster', 'https://b/api/v1/cluster', 'https://a/api/v1/cluster', 'https://b/api/v1/cluster']);
  assert.deepEqual(reported.map((r) => r[0]), ['https://a', 'https://b', 'https://a'], 'each failed try but the last is reported');
});

test('retry: false answers the first failure; a non-JSON error body still gives an ApiError', async () => {
  const { c, requests } = client([{ status: 502 }]);
  await assert.rejects(c.get('/healthz', { retry: false }), (e) => e instanceof ApiError && e.status === 502 && e.code === 'http_502');
  assert.equal(requests.length, 1);
});

test('backoff doubles from 0.5 s and stops at the cap', async () => {
  const { c, delays } = client([{ status: 503, body: { error: 'x', code: 'unavailable' } }], { attempts: 6, maxDelayMs: 4000 });
  await assert.rejects(c.get('/api/v1/cluster'));
  assert.equal(delays.length, 5);
  const expect = [500, 1000, 2000, 4000, 4000];
  delays.forEach((d, i) => assert.ok(d >= expect[i] * 0.8 - 1 && d <= Math.min(expect[i] * 1.2, 4000) + 1, `delay ${i}: ${d} ms`));
});
