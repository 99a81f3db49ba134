// The web console in Chromium against a real pair of mamori appliances
// (started by test/e2e/ui_test.go): login, dashboard and cluster screens
// in English and Japanese, light and dark, desktop and phone; bad input;
// API errors. Screenshots go to $MAMORI_UI_ARTIFACTS.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertClean, assertFocused, assertNoSideScroll, assertTranslated, env, launch, login, open, shot } from '../harness.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const words = {
  en: { user: 'User name', required: 'enter a value', failed: 'is wrong', dashboard: 'Dashboard', cluster: 'Cluster', paths: 'Heartbeat paths' },
  ja: { user: 'ユーザー名', required: '入力してください', failed: '正しくありません', dashboard: 'ダッシュボード', cluster: 'クラスタ', paths: 'ハートビート経路' },
};

describe('login refuses bad input, naming the field, in the user\'s language', () => {
  for (const lang of ['en', 'ja']) {
    test(lang, async () => {
      const { ctx, page } = await open(browser, { lang });
      await page.goto(`${env.url}/`);
      await page.locator('#login-user').waitFor();
      await page.locator('form button[type=submit]').click();
      const userError = page.locator('#login-user-error');
      await userError.waitFor();
      assert.match(await userError.innerText(), new RegExp(words[lang].user));
      assert.match(await userError.innerText(), new RegExp(words[lang].required));
      assert.ok(await page.locator('#login-password-error').isVisible());
      await assertFocused(page, 'login-user', 'focus on the first invalid field');
      await page.locator('#login-user').fill(env.user);
      await page.locator('#login-password').fill('not the password');
      await page.locator('#login-totp').fill('12ab');
      await page.locator('form button[type=submit]').click();
      assert.match(await page.locator('#login-totp-error').innerText(), /6/);
      await page.locator('#login-totp').fill('');
      page.expectFailure(/\/api\/v1\/login$/);
      await page.locator('form button[type=submit]').click();
      await page.getByRole('alert').filter({ hasText: words[lang].failed }).waitFor();
      await assertTranslated(page, lang);
      await shot(page, `login-refused-${lang}`);
      assertClean(page);
      await ctx.close();
    });
  }
});

describe('dashboard and cluster, every language, theme and device', () => {
  for (const lang of ['en', 'ja']) {
    for (const scheme of ['light', 'dark']) {
      for (const device of ['desktop', 'phone']) {
        test(`${lang} ${scheme} ${device}`, async () => {
          const { ctx, page } = await open(browser, { lang, scheme, device });
          await page.goto(`${env.url}/login`);
          await page.locator('#login-user').waitFor();
          await assertNoSideScroll(page);
          await assertTranslated(page, lang);
          await shot(page, `login-${lang}-${scheme}-${device}`);
          await login(page);
          assert.equal(await page.locator('main h1').innerText(), words[lang].dashboard);
          assert.equal(await page.getAttribute('html', 'data-theme'), scheme, 'the system theme is followed');
          // what matters first: the active appliance, counts, the chart
          await page.locator('#appliances-title').waitFor();
          await page.locator('.count-n').first().waitFor();
          await page.locator('.chart canvas').waitFor();
          await page.locator('.appliance .badge.role-active').waitFor();
          await assertNoSideScroll(page);
          await assertTranslated(page, lang);
          await shot(page, `dashboard-${lang}-${scheme}-${device}`);

          if (device === 'phone') {
            // On a phone the screens are behind the navigation's button.
            const toggle = page.locator('nav.nav .nav-toggle');
            assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
            await toggle.click();
            assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
            await page.waitForFunction(() => document.activeElement?.closest('.nav-panel') != null);
            await shot(page, `nav-open-${lang}-${scheme}-${device}`);
          }
          await page.getByRole('link', { name: words[lang].cluster, exact: true }).click();
          await page.locator('#paths-title').waitFor();
          assert.equal(new URL(page.url()).pathname, '/cluster');
          if (device === 'phone') assert.equal(await page.locator('nav.nav .nav-toggle').getAttribute('aria-expanded'), 'false', 'the menu closes after navigation');
          assert.equal(await page.locator('#paths-title').textContent(), words[lang].paths);
          await page.locator('#paths .badge.ok').first().waitFor(); // a heartbeat path is up
          await assertNoSideScroll(page);
          await assertTranslated(page, lang);
          await shot(page, `cluster-${lang}-${scheme}-${device}`);
          assertClean(page);
          await ctx.close();
        });
      }
    }
  }
});

test('times are in the browser\'s zone, the appliance\'s zone and UTC on hover', async () => {
  const { ctx, page } = await open(browser);
  await login(page);
  await page.goto(`${env.url}/cluster`);
  const since = page.locator('#self time').first();
  await since.waitFor();
  const at = new Date(await since.getAttribute('datetime'));
  const shown = await since.innerText();
  // the context runs in Asia/Tokyo: UTC+9
  const tokyo = new Date(at.getTime() + 9 * 3600e3).toISOString().replace('T', ' ').slice(0, 19);
  assert.ok(shown.startsWith(tokyo), `shown ${shown}, want ${tokyo} (Asia/Tokyo)`);
  const title = await since.getAttribute('title');
  assert.match(title, /Appliance \(.+\): \d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
  assert.match(title, new RegExp(`UTC: ${at.toISOString().slice(0, 19)}`));
  assertClean(page);
  await ctx.close();
});

test('theme, high contrast and language are switched from the menu and kept', async () => {
  const { ctx, page } = await open(browser, { lang: 'en', scheme: 'light' });
  await login(page);
  await page.locator('details.menu summary').click();
  await page.locator('#menu-theme').selectOption('dark');
  await page.locator('#menu-contrast').check();
  await page.locator('#menu-lang').selectOption('ja');
  assert.equal(await page.getAttribute('html', 'data-theme'), 'dark');
  assert.equal(await page.getAttribute('html', 'data-contrast'), 'high');
  await page.reload();
  await page.locator('main h1').waitFor();
  assert.equal(await page.locator('main h1').innerText(), words.ja.dashboard, 'language kept after reload');
  assert.equal(await page.getAttribute('html', 'data-theme'), 'dark', 'theme kept after reload');
  await page.locator('.chart canvas').waitFor();
  await shot(page, 'dashboard-ja-dark-high-contrast-desktop');
  await page.locator('#menu-contrast').evaluate((el) => el.closest('details').open = true);
  await page.locator('#menu-theme').selectOption('light');
  await page.locator('details.menu').evaluate((el) => (el.open = false));
  await page.goto(`${env.url}/cluster`);
  await page.locator('#paths-title').waitFor();
  await shot(page, 'cluster-ja-light-high-contrast-desktop');
  assertClean(page);
  await ctx.close();
});

describe('an API error never leaves a blank screen', () => {
  const said = {
    en: { internal: 'failed to handle the request', unreachable: 'does not answer', retry: 'Try again', notFound: 'No such page' },
    ja: { internal: '要求を処理できませんでした', unreachable: '応答しません', retry: '再試行', notFound: 'ページが見つかりません' },
  };
  for (const lang of ['en', 'ja']) {
    test(lang, async () => {
      const { ctx, page } = await open(browser, { lang });
      await login(page);
      page.expectFailure(/\/api\/v1\/(cluster|events|stream)/);
      // The live stream would bring the cluster state: it fails too.
      await page.route('**/api/v1/stream*', (r) => r.abort('connectionrefused'));
      await page.route('**/api/v1/cluster', (r) =>
        r.fulfill({ status: 500, contentType: 'application/json', body: '{"error":"store exploded","code":"internal"}' }),
      );
      await page.route('**/api/v1/events*', (r) => r.abort('connectionrefused'));
      await page.goto(`${env.url}/`);
      const alerts = page.getByRole('alert');
      await alerts.filter({ hasText: said[lang].internal }).first().waitFor();
      await alerts.filter({ hasText: 'store exploded' }).first().waitFor(); // the appliance's own words
      await alerts.filter({ hasText: said[lang].unreachable }).first().waitFor();
      assert.ok(await page.getByRole('navigation').isVisible(), 'the navigation stays');
      await assertTranslated(page, lang);
      await shot(page, `dashboard-api-errors-${lang}`);
      // the problem goes away: the retry button shows the data
      await page.unroute('**/api/v1/cluster');
      await page.getByRole('button', { name: said[lang].retry }).first().click();
      await page.locator('#appliances .kv').waitFor();
      await page.goto(`${env.url}/no/such/page`);
      await page.getByRole('heading', { name: said[lang].notFound }).waitFor();
      assertClean(page);
      await ctx.close();
    });
  }
});

test('a 503 during a failover is retried and never logs out; a 401 does', async () => {
  const { ctx, page } = await open(browser);
  await login(page);
  page.expectFailure(/\/api\/v1\/(me|cluster|events)/);
  let refused = 0;
  await page.route('**/api/v1/me', (r) => {
    if (refused++ < 2) {
      return r.fulfill({ status: 503, headers: { 'Retry-After': '1' }, contentType: 'application/json',
        body: '{"error":"this appliance cannot check sessions right now","code":"unavailable"}' });
    }
    return r.fallback();
  });
  await page.reload();
  await page.locator('#appliances-title').waitFor();
  assert.equal(refused, 3, 'two 503 answers, then the session');
  await page.unroute('**/api/v1/me');
  // The session ends (logged out elsewhere): the next call answers 401.
  await ctx.clearCookies();
  await page.getByRole('link', { name: 'Cluster', exact: true }).click();
  await page.locator('#login-user').waitFor({ timeout: 15000 });
  assert.match(page.url(), /\/login\?next=%2Fcluster/);
  assert.ok(await page.getByText('Your session has ended').isVisible());
  await page.locator('#login-user').fill(env.user);
  await page.locator('#login-password').fill(env.password);
  await page.locator('form button[type=submit]').click();
  await page.locator('#paths-title').waitFor();
  assert.equal(new URL(page.url()).pathname, '/cluster', 'back where the user was');
  assertClean(page);
  await ctx.close();
});

test('a stale appliance is told how to recover', async () => {
  const { ctx, page } = await open(browser, { lang: 'ja' });
  await login(page);
  await page.route('**/api/v1/cluster', async (r) => {
    const res = await r.fetch();
    const st = await res.json();
    st.role = 'stale';
    st.reason = 'returned with epoch 2 after the peer took over at epoch 3';
    st.active_id = st.peer?.id;
    st.active_api = st.peer?.api_addrs;
    await r.fulfill({ response: res, json: st });
  });
  await page.goto(`${env.url}/cluster`);
  const advice = page.locator('.advice.warn');
  await advice.waitFor();
  assert.match(await advice.innerText(), /mamori recover/);
  assert.match(await advice.innerText(), /要復旧/);
  await page.locator('.banner').waitFor(); // says where the active is
  await shot(page, 'cluster-stale-ja-light-desktop');
  assertClean(page);
  await ctx.close();
});

test('the standby refuses a login and names the active appliance', { skip: !env.peerUrl && 'no peer URL' }, async () => {
  const { ctx, page } = await open(browser, { device: 'phone', scheme: 'dark', lang: 'ja' });
  page.expectFailure(/\/api\/v1\/login$/);
  await page.goto(`${env.peerUrl}/login`);
  await page.locator('#login-user').fill(env.user);
  await page.locator('#login-password').fill(env.password);
  await page.locator('form button[type=submit]').click();
  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.innerText(), /スタンバイ/);
  const link = alert.getByRole('link');
  assert.equal(new URL(await link.getAttribute('href')).host, new URL(env.url).host, 'the link goes to the active');
  await shot(page, 'login-standby-ja-dark-phone');
  assertClean(page);
  await ctx.close();
});

test('pages are served under a strict Content-Security-Policy', async () => {
  const { ctx, page } = await open(browser);
  const res = await page.goto(`${env.url}/cluster`);
  const csp = res.headers()['content-security-policy'];
  assert.match(csp, /script-src 'self'/);
  assert.match(csp, /style-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.equal(res.headers()['cache-control'], 'no-store');
  assertClean(page);
  await ctx.close();
});
