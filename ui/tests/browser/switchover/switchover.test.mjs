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
  en: { toPeer: /^Switch over to b$/, toHere: /^Make a active$/, done: (to, from) => new RegExp(`${to} is active, ${from} is standby`) },
  ja: { toPeer: /^b へ切り替える$/, toHere: /^a を稼働系にする$/, done: (to, from) => new RegExp(`${to} が稼働系、${from} が待機系`) },
};

test('cancelled, a switchover changes nothing', async () => {
  const { ctx, page } = await open(browser, { lang: 'en' });
  await login(page);
  await page.goto(`${env.url}/cluster`);
  const go = page.locator('#switchover-go');
  await go.waitFor();
  assert.match(await go.innerText(), words.en.toPeer);
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

for (const [lang, to, from, button] of [
  ['en', 'b', 'a', 'toPeer'],
  ['ja', 'a', 'b', 'toHere'],
]) {
  test(`${lang}: ${from} hands the active role to ${to}`, async () => {
    const { ctx, page } = await open(browser, { lang });
    await login(page);
    await page.goto(`${env.url}/cluster`);
    const go = page.locator('#switchover-go');
    // The screen on appliance a offers what its role allows: hand over
    // (active) or take over (standby).
    await page.waitForFunction(
      (re) => new RegExp(re).test(document.querySelector('#switchover-go')?.textContent ?? ''),
      words[lang][button].source,
      { timeout: 30_000 },
    );
    await assertNoSideScroll(page);
    await shot(page, `switchover-before-${lang}`);
    page.once('dialog', (d) => void d.accept());
    await go.click();
    const done = page.locator('#switchover-done');
    await done.waitFor({ timeout: 60_000 });
    assert.match(await done.innerText(), words[lang].done(to, from));
    await assertTranslated(page, lang);
    await shot(page, `switchover-done-${lang}`);
    assertClean(page);
    await ctx.close();
  });
}
