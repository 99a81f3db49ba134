// The first-boot wizard in Chromium against two fresh, running mamori
// appliances (started by test/e2e/ui_wizard_test.go): through the browser
// only, a wrong setup token and a wrong pairing code are refused with a
// clear message and change nothing; then A gets its administrator and
// shows a pairing code, B joins with it after its fingerprint is
// confirmed, and A's wizard ends on the dashboard with the pair up.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { assertClean, assertFocused, assertNoSideScroll, assertTranslated, env, launch, open, shot } from '../harness.mjs';

const wz = {
  tokenA: need('MAMORI_WIZARD_TOKEN_A'),
  tokenB: need('MAMORI_WIZARD_TOKEN_B'),
  /** A's API address as B reaches it (host:port). */
  peerAddr: need('MAMORI_WIZARD_PEER_ADDR'),
};

function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: test/e2e/ui_wizard_test.go starts the appliances and sets it`);
  return v;
}

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** A screenshot of the step in light and in dark (the theme follows the system until chosen). */
async function shots(page, name) {
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme });
    await shot(page, `wizard-${name}-${scheme}`);
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

async function setupStatus(page, url) {
  const r = await page.request.get(`${url}/api/v1/setup`);
  assert.equal(r.status(), 200);
  return r.json();
}

const words = {
  en: { title: 'Setup token', required: 'Setup token: enter a value' },
  ja: { title: 'セットアップトークン', required: 'セットアップトークンを入力してください' },
};

test('the first step, every language, on a phone too; bad input names the field', async () => {
  for (const [lang, scheme, device] of [
    ['en', 'light', 'desktop'],
    ['ja', 'dark', 'desktop'],
    ['ja', 'light', 'phone'],
    ['en', 'dark', 'phone'],
  ]) {
    const { ctx, page } = await open(browser, { lang, scheme, device });
    // A fresh appliance sends the login page to the wizard.
    await page.goto(`${env.url}/`);
    await page.waitForURL(/\/setup$/);
    await page.locator('#setup-step-title').filter({ hasText: words[lang].title }).waitFor();
    await page.locator('form button[type=submit]').click();
    const err = page.locator('#setup-token-error');
    await err.waitFor();
    assert.match(await err.innerText(), new RegExp(words[lang].required.replace(':', ':?')));
    await assertTranslated(page, lang);
    await assertNoSideScroll(page);
    await shot(page, `wizard-token-${lang}-${scheme}-${device}`);
    assertClean(page);
    await ctx.close();
  }
});

test('two fresh appliances pair through the wizards, refusals change nothing', async () => {
  const a = await open(browser, { lang: 'en' });
  const b = await open(browser, { lang: 'en', scheme: 'dark', device: 'phone' });
  const pa = a.page;
  const pb = b.page;

  // A: a wrong setup token is refused, with the reason, and changes nothing.
  await pa.goto(`${env.url}/setup`);
  await pa.locator('#setup-token').fill('ABC');
  await pa.locator('form button[type=submit]').click();
  assert.match(await pa.locator('#setup-token-error').innerText(), /Setup token: enter the 24 letters/);
  await pa.locator('#setup-token').fill('000000-000000-000000-000000');
  pa.expectFailure(/\/api\/v1\/setup\/token$/);
  await pa.locator('form button[type=submit]').click();
  await pa.getByRole('alert').filter({ hasText: 'The setup token is wrong. Nothing was changed.' }).waitFor();
  await shots(pa, '1-token-refused');
  assert.equal((await setupStatus(pa, env.url)).needs_setup, true, 'a wrong token changed something');

  // A: the right token; "first appliance"; the administrator (a mismatch is refused first).
  await pa.locator('#setup-token').fill(wz.tokenA.toLowerCase());
  await pa.locator('form button[type=submit]').click();
  await pa.locator('#setup-first').waitFor();
  await shots(pa, '2-choose');
  await pa.locator('#setup-first').click();
  await pa.locator('#setup-user').fill(env.user);
  await pa.locator('#setup-password').fill(env.password);
  await pa.locator('#setup-confirm').fill(`${env.password}!`);
  await pa.locator('form button[type=submit]').click();
  assert.match(await pa.locator('#setup-confirm-error').innerText(), /Password again: does not match/);
  await assertFocused(pa, 'setup-confirm');
  await shots(pa, '3-admin-refused');
  await pa.locator('#setup-confirm').fill(env.password);
  await pa.locator('form button[type=submit]').click();

  // A: the pairing code, the CA fingerprint and its address.
  const codeEl = pa.locator('#setup-code');
  await codeEl.waitFor();
  const code = (await codeEl.innerText()).trim();
  const fingerprint = (await pa.locator('#setup-fingerprint').innerText()).trim();
  assert.equal((await pa.locator('#setup-peer-address').innerText()).trim(), wz.peerAddr);
  assert.match(fingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  await shots(pa, '4-code');

  // B (a phone, dark): token, "join", the address and a mistyped code.
  await pb.goto(`${env.peerUrl}/`);
  await pb.waitForURL(/\/setup$/);
  await pb.locator('#setup-token').fill(wz.tokenB);
  await pb.locator('form button[type=submit]').click();
  await pb.locator('#setup-join').click();
  await pb.locator('#setup-peer').fill('not an address');
  await pb.locator('#setup-code').fill('short');
  await pb.locator('form button[type=submit]').click();
  assert.match(await pb.locator('#setup-peer-error').innerText(), /Address of the first appliance: enter host:port/);
  assert.match(await pb.locator('#setup-code-error').innerText(), /Pairing code: enter the 42/);
  await assertNoSideScroll(pb);
  await shots(pb, '5-join-invalid-phone');
  // A typo in the secret part: the fingerprint still matches, A refuses the code.
  const wrong = (code[0] === '0' ? '1' : '0') + code.slice(1);
  await pb.locator('#setup-peer').fill(wz.peerAddr);
  await pb.locator('#setup-code').fill(wrong);
  await pb.locator('form button[type=submit]').click();
  await pb.locator('#setup-peer-fingerprint').waitFor();
  assert.equal((await pb.locator('#setup-peer-fingerprint').innerText()).trim(), fingerprint, 'B shows A\'s fingerprint');
  pb.expectFailure(/\/api\/v1\/setup\/pair\/join$/);
  await pb.locator('#setup-confirm-join').click();
  await pb.getByRole('alert').filter({ hasText: 'The pairing code was refused. Nothing was changed on either appliance.' }).waitFor();
  await assertNoSideScroll(pb);
  await shots(pb, '6-code-refused-phone');
  const sb = await setupStatus(pb, env.peerUrl);
  assert.equal(sb.paired, false, 'B is paired after a refused code');
  assert.equal(sb.needs_setup, true, 'B changed after a refused code');
  const sa = await setupStatus(pa, env.url);
  assert.equal(sa.paired, false, 'A is paired after a refused code');

  // B: the right code; the fingerprint is confirmed; B restarts as standby.
  await pb.locator('#setup-code').fill(code);
  await pb.locator('form button[type=submit]').click();
  await pb.locator('#setup-peer-fingerprint').waitFor();
  await shots(pb, '7-confirm-phone');
  // B restarts itself: its answers stop for a moment.
  pb.expectFailure(/\/api\/v1\/setup$/);
  await pb.locator('#setup-confirm-join').click();
  await pb.locator('#setup-joined-done').waitFor({ timeout: 90_000 });
  assert.equal(await pb.locator('#setup-go-active').getAttribute('href'), `https://${wz.peerAddr}/`);
  await assertNoSideScroll(pb);
  await shots(pb, '8-joined-phone');

  // A: the HA mode, then the pair coming up, then the dashboard, logged in.
  await pa.locator('#setup-code-next').click();
  await pa.locator('#setup-ha-mode').waitFor();
  assert.equal((await pa.locator('#setup-ha-mode').innerText()).trim(), 'Pair only');
  await shots(pa, '9-ha');
  await pa.locator('#setup-ha-next').click();
  await pa.locator('#setup-finish', { hasText: 'Go to the dashboard' }).filter({ hasNotText: 'now' }).waitFor({ timeout: 60_000 });
  await shots(pa, '10-progress');
  await pa.locator('#setup-finish').click();
  await pa.locator('.shell main h1').waitFor();
  await pa.waitForURL(`${env.url}/`);
  await shots(pa, '11-dashboard');

  const cl = await pa.request.get(`${env.url}/api/v1/cluster`);
  assert.equal(cl.status(), 200);
  const st = await cl.json();
  assert.equal(st.paired, true);
  assert.equal(st.role, 'active');
  assert.equal(st.peer?.role, 'standby');
  assert.equal((await setupStatus(pa, env.url)).needs_setup, false);
  assert.equal((await setupStatus(pb, env.peerUrl)).needs_setup, false, 'B has the pair\'s administrator');

  assertClean(pa);
  assertClean(pb);
  await a.ctx.close();
  await b.ctx.close();
});
