// Live updates over the server-sent-event stream (api/stream.go,
// src/live/stream.ts): an event stored through the API is painted in the
// dashboard's latest events within 2 s while every poll of the event list
// is refused, so only the stream can have brought it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { assertClean, env, launch, login, open, shot } from '../harness.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test('an event stored through the API shows up live within 2 s, without polling', async () => {
  const { ctx, page } = await open(browser);
  const streams = [];
  page.on('request', (r) => {
    if (new URL(r.url()).pathname === '/api/v1/stream') streams.push(r.url());
  });
  await login(page);
  await page.locator('#latest .event-list').waitFor();
  await page.locator('.shell[data-live=on]').waitFor();
  // From now on every read of the event list fails: no poll can paint.
  let polls = 0;
  await page.route(
    (url) => url.pathname === '/api/v1/events',
    (route) => {
      polls++;
      return route.abort();
    },
  );
  page.expectFailure(/\/api\/v1\/events/);
  const uid = `live-${Date.now()}`;
  const message = `live over the stream ${uid}`;
  const start = Date.now();
  const res = await page.request.post(`${env.url}/api/v1/events`, {
    data: { uid, kind: 'test.live', severity: 'warning', node: 'web1', message },
  });
  assert.equal(res.status(), 200, await res.text());
  await page.locator('#latest .event-list').getByText(message).waitFor({ timeout: 2000 });
  const ms = Date.now() - start;
  assert.ok(ms <= 2000, `painted after ${ms} ms`);
  assert.ok(streams.length >= 1, 'no stream was opened');
  console.log(`live event painted ${ms} ms after the POST (polls refused meanwhile: ${polls})`);
  await shot(page, 'live-event');
  assertClean(page);
  await ctx.close();
});

test('without the stream: "not live since" in Japanese, polling goes on, the stream comes back', async () => {
  const { ctx, page } = await open(browser, { lang: 'ja' });
  page.expectFailure(/\/api\/v1\/stream/);
  await page.route('**/api/v1/stream*', (r) => r.abort('connectionrefused'));
  await login(page);
  const banner = page.locator('[data-testid=not-live]');
  await banner.waitFor({ timeout: 15_000 });
  assert.match(await banner.innerText(), /\d\d:\d\d:\d\d からライブ更新が止まっています/);
  // Polling is the fallback: a new event still appears (the summary is read every 15 s).
  const uid = `polled-${Date.now()}`;
  const message = `polled while the stream is down ${uid}`;
  const res = await page.request.post(`${env.url}/api/v1/events`, {
    data: { uid, kind: 'test.live', severity: 'info', node: 'web1', message },
  });
  assert.equal(res.status(), 200, await res.text());
  await page.locator('#latest .event-list').getByText(message).waitFor({ timeout: 25_000 });
  await shot(page, 'live-not-live-ja');
  await page.unroute('**/api/v1/stream*');
  await banner.waitFor({ state: 'detached', timeout: 15_000 });
  await page.locator('.shell[data-live=on]').waitFor();
  assertClean(page);
  await ctx.close();
});
