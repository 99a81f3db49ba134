// Planned switchover from the cluster screen against a real pair (started
// by test/e2e/ui_switchover_test.go): cancelled, it changes nothing; on
// the active it hands the role to the standby; on the standby (the same
// appliance a moment later) it takes the role back. English, then
// Japanese. Screenshots go to $MAMORI_UI_ARTIFACTS.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { assertClean, assertNoSideScroll, assertTranslated, env, launch, login, open, shot } from '../harness.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const words = {
  en: { toPeer: 'Switch over to b', toHere: 'Make a active', done: (to, from) => new RegExp(`${to} is active, ${from} is standby`) },
  ja: { toPeer: 'b へ切り替える', toHere: 'a をアクティブにする', done: (to, from) => new RegExp(`${to} がアクティブ、${from} がスタンバイ`) },
};

/** Waits until the switchover button says label (the screen follows the roles), then clicks it and accepts. */
async function switchOver(page, label) {
  await page.waitForFunction((l) => document.querySelector('#switchover-go')?.textContent === l, label, { timeout: 30_000 });
  page.once('dialog', (d) => void d.accept());
  await page.locator('#switchover-go').click();
}

test('cancelled, a switchover changes nothing', async () => {
  const { ctx, page } = await open(browser, { lang: 'en' });
  await login(page);
  await page.goto(`${env.url}/cluster`);
  const go = page.locator('#switchover-go');
  await go.waitFor();
  assert.equal(await go.innerText(), words.en.toPeer);
  let asked = 0;
  page.on('request', (r) => {
    if (r.url().endsWith('/api/v1/cluster/switchover')) asked++;
  });
  page.once('dialog', (d) => void d.dismiss());
  await go.click();
  await page.waitForTimeout(500);
  assert.equal(asked, 0, 'no request after cancelling');
  assert.equal(await page.locator('#switchover-done').count(), 0);
  assertClean(page);
  await ctx.close();
});

// On appliance a: hand the role to b (a is then standby, and the same
// screen offers to take it back), then take it back.
for (const lang of ['en', 'ja']) {
  test(`${lang}: a hands the active role to b, then takes it back from the standby side`, async () => {
    const { ctx, page } = await open(browser, { lang });
    await login(page);
    await page.goto(`${env.url}/cluster`);
    await switchOver(page, words[lang].toPeer);
    const done = page.locator('#switchover-done');
    await page.waitForFunction((re) => new RegExp(re).test(document.querySelector('#switchover-done')?.textContent ?? ''), words[lang].done('b', 'a').source, {
      timeout: 60_000,
    });
    await assertNoSideScroll(page);
    await assertTranslated(page, lang);
    await shot(page, `switchover-done-${lang}`);
    await switchOver(page, words[lang].toHere);
    await page.waitForFunction((re) => new RegExp(re).test(document.querySelector('#switchover-done')?.textContent ?? ''), words[lang].done('a', 'b').source, {
      timeout: 60_000,
    });
    assert.match(await done.innerText(), words[lang].done('a', 'b'));
    await shot(page, `switchover-back-${lang}`);
    assertClean(page);
    await ctx.close();
  });
}
