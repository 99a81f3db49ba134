// The console through a kill -9 of the appliance serving it (started by
// test/e2e/ui_failover_test.go, which kills on POST $MAMORI_UI_CONTROL/kill
// and stores events on POST /event): the "not live" banner shows, the page
// moves to the other appliance once it is active, shows an event stored
// after the kill, and never reloads.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { assertClean, env, launch, login, open, shot } from '../harness.mjs';

const control = process.env.MAMORI_UI_CONTROL;
let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

async function act(path, body) {
  const res = await fetch(control + path, { method: 'POST', body: body ? JSON.stringify(body) : undefined });
  assert.ok(res.ok, `control ${path}: HTTP ${res.status} ${await res.text()}`);
}

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test('kill -9 of the serving appliance: banner, move to the new active, a new event, no reload', async () => {
  assert.ok(control, 'MAMORI_UI_CONTROL is not set');
  const { ctx, page } = await open(browser);
  const streams = [];
  page.on('request', (r) => {
    if (r.url().includes('/api/v1/stream')) streams.push(r.url());
  });
  await login(page);
  await page.locator('#latest .event-list').waitFor();
  // The stream is open before the kill.
  await page.locator('.shell[data-live=on]').waitFor();
  assert.ok(streams.some((u) => u.startsWith(env.url)), 'no stream opened on the serving appliance');
  let navigations = 0;
  page.on('framenavigated', (f) => {
    if (f === page.mainFrame()) navigations++;
  });
  await page.evaluate(() => {
    window.__sameDocument = 'still here';
  });
  // Everything sent to the dead appliance fails from now on, on purpose.
  page.expectFailure(new RegExp(`^${escape(env.url)}/`));
  // The other appliance answers /healthz with 503 until it is active: the
  // console asks it there before it moves (seen when it was slow to take over).
  page.expectFailure(new RegExp(`^${escape(env.peerUrl)}/healthz$`));

  await act('/kill');
  const banner = page.locator('[data-testid=not-live]');
  await banner.waitFor({ timeout: 30_000 });
  assert.match(await banner.innerText(), /Not live since \d\d:\d\d:\d\d/);
  await shot(page, 'failover-not-live');

  const uid = `after-kill-${Date.now()}`;
  const message = `posted after the kill ${uid}`;
  await act('/event', { uid, kind: 'test.failover', severity: 'critical', node: 'web1', message });
  await page.locator('#latest .event-list').getByText(message).waitFor({ timeout: 60_000 });
  await page.locator('[data-testid=moved]').waitFor();
  assert.match(await page.locator('[data-testid=moved]').innerText(), new RegExp(escape(env.peerUrl)));
  await banner.waitFor({ state: 'detached', timeout: 30_000 });
  await page.locator('.shell[data-live=on]').waitFor();
  assert.ok(streams.some((u) => u.startsWith(env.peerUrl)), 'the stream did not move to the other appliance');
  assert.equal(navigations, 0, 'the page navigated');
  assert.equal(await page.evaluate(() => window.__sameDocument), 'still here', 'the page was reloaded');
  await shot(page, 'failover-moved');
  assertClean(page);
  await ctx.close();
});
