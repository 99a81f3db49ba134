// A line sent with logger (util-linux) to both appliances of the pair,
// turned into an event by a monitor rule, appears once in the open event
// console within 2 s. Started by test/e2e/ui_events_test.go, which sets
// MAMORI_UI_SYSLOG to the two appliances' UDP syslog addresses.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { assertClean, env, launch, login, open, shot } from '../harness.mjs';

const run = promisify(execFile);
const targets = (process.env.MAMORI_UI_SYSLOG ?? '').split(' ').filter(Boolean);

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

// No time stamp: the two copies are the same line, as from a sender that
// sends one datagram to each appliance (the pair stores it once).
function logger(target, line) {
  const [host, port] = target.split(':');
  return run('logger', ['-n', host, '-P', port, '-d', '--rfc5424=notime,notq', '-t', 'kernel', line]);
}

test('a line sent to both appliances appears once in the open console within 2 s', async () => {
  assert.equal(targets.length, 2, 'MAMORI_UI_SYSLOG names both appliances');
  const { ctx, page } = await open(browser);
  await login(page);
  await page.goto(`${env.url}/events`);
  await page.locator('.events-empty, .ev-row').first().waitFor();
  const latencies = [];
  for (let i = 0; i < 5; i++) {
    const disk = `sd${Date.now().toString(36)}${i}`;
    const rows = page.locator('.ev-row', { hasText: `disk ${disk} failed` });
    const sent = Date.now();
    await Promise.all(targets.map((tg) => logger(tg, `disk ${disk} failed`)));
    await rows.first().waitFor({ timeout: 10000 });
    const ms = Date.now() - sent;
    latencies.push(ms);
    // the copy from the other appliance never makes a second row
    await page.waitForTimeout(2500);
    assert.equal(await rows.count(), 1, `one row for disk ${disk}`);
    assert.ok(await rows.first().evaluate((el) => el.classList.contains('sev-critical')), 'a critical row');
  }
  console.log(`logger → row painted: ${latencies.join(', ')} ms`);
  await shot(page, 'events-live-en-light-desktop');
  assert.ok(Math.max(...latencies) <= 2000, `every line within 2 s: ${latencies.join(', ')} ms`);
  assertClean(page);
  await ctx.close();
});
