// The monitor screens in Chromium against the real pair of
// TestConsoleMonitors (test/e2e/ui_monitors_test.go): an HTTP and a ping
// monitor created through the form after "test now", bad input refused on
// its field (by the browser and by the appliance), the status grid showing
// them, turning critical when the real HTTP server stops and info again
// when it listens, a node's rows, the filters and the keyboard; every
// screen in both languages, both themes, desktop and phone; and the
// monitors deleted through the list.
import assert from 'node:assert/strict';
import { after, before, describe, test as nodeTest } from 'node:test';
import { assertClean, assertFocused, assertNoSideScroll, env, launch, login, open as openContext, shot } from '../harness.mjs';

const port = process.env.MAMORI_UI_TARGET_PORT ?? '';
const ctl = process.env.MAMORI_UI_TARGET_CTL ?? '';
const webNode = 'shop-web-01';
const dbNode = 'shop-db-01';
// A check every 2 s, the status read every 5 s, the runner's first round: generous.
const statusWait = 45000;

// MAMORI_UI_ONLY=<words>|<words>: run only the tests whose names hold one
// of them (while working on one screen; NODE_OPTIONS cannot carry
// --test-name-pattern). The first test makes what the others need.
const only = (process.env.MAMORI_UI_ONLY ?? '').split('|').filter(Boolean);
const test = (name, fn) => nodeTest(name, { skip: only.length > 0 && !only.some((w) => name.includes(w)) }, fn);

// The later tests need the monitors the first creates: they fail at once without them.
let created = false;

let browser;
before(async () => {
  assert.ok(port && ctl, 'MAMORI_UI_TARGET_PORT and MAMORI_UI_TARGET_CTL: run through TestConsoleMonitors');
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** As the harness's, but the http kind's help names {{address}}, which the user types. */
async function assertTranslated(page, lang) {
  const text = (await page.locator('body').innerText()).replace(/\{\{\w+\}\}/g, '');
  assert.doesNotMatch(text, /\{\w+\}|undefined|NaN|\b[a-z]+\.[a-z]+[A-Z]\w*\b/, 'untranslated text');
  assert.equal(await page.getAttribute('html', 'lang'), lang);
  if (lang === 'ja') assert.match(text, /[\u3040-\u30ff\u4e00-\u9fff]/, 'no Japanese text');
}

/**
 * A page of the harness. The monitor form asks for the notification rules
 * and calendars to offer them: a build without those parts answers 404, a
 * user who may not read them 403, and the form then takes typed ids.
 */
async function open(b, opts) {
  const r = await openContext(b, opts);
  r.page.expectFailure(/\/api\/v1\/(notify\/rules|calendars)$/);
  return r;
}

/** A full-page screenshot with the sticky header at the top. */
async function snap(page, name) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, name);
}

async function target(action) {
  const res = await fetch(`${ctl}/${action}`, { method: 'POST' });
  assert.equal(res.status, 200, `target ${action}: ${await res.text()}`);
}

async function visit(page, path, ready) {
  await page.goto(`${env.url}${path}`);
  await page.locator('.shell main h1').waitFor();
  if (ready) await page.locator(ready).first().waitFor({ timeout: statusWait });
  await page.waitForFunction(() => !document.querySelector('main .loading'));
}

const cell = (page, monitor, node, priority) =>
  page.locator(`.status-grid tr:has(.node-button[data-node="${node}"]) td.cell[data-monitor~="${monitor}"]${priority ? `[data-priority="${priority}"]` : ''}`);

async function errorOf(page, id, word) {
  const e = page.locator(`#${id}-error`);
  await e.waitFor();
  const text = await e.innerText();
  assert.ok(text.includes(word), `${id}: "${text}" does not name "${word}"`);
}

/** Fills the form's common fields for a monitor of kind on the web node. */
async function fillBasics(page, { id, name, kind }) {
  await page.locator('#mon-kind').selectOption(kind);
  await page.locator('#mon-id').fill(id);
  await page.locator('#mon-name').fill(name);
  await page.locator('#mon-node').fill(webNode);
  await page.locator('#mon-interval').fill('2s');
  await page.locator('#mon-timeout').fill('1s');
}

async function testNow(page, priority, node = webNode) {
  // The previous answer goes when the new test starts: wait for that, not to read the old one.
  const old = await page.$('#mon-test .test-result');
  await page.locator('#mon-test-now').click();
  if (old) await page.waitForFunction((el) => !el.isConnected, old);
  const result = page.locator(`#mon-test .test-result[data-node="${node}"]`);
  await result.waitFor({ timeout: 20000 });
  assert.equal(await result.getAttribute('data-priority'), priority, await result.innerText());
  return result;
}

async function save(page, id) {
  await page.locator('#mon-save').click();
  await page.locator('main .notice').filter({ hasText: id }).waitFor();
  await page.locator(`#mon-list tr[data-monitor="${id}"]`).waitFor();
}

describe('monitors and status', () => {
  test('create an HTTP and a ping monitor through the form with test now', async () => {
    const { ctx, page } = await open(browser, { lang: 'en' });
    await login(page);
    await visit(page, '/monitors', '#mon-form form');
    assert.equal(await page.locator('main h1').innerText(), 'Monitors');

    // HTTP: the form is drawn from the kind's fields.
    await fillBasics(page, { id: 'ui-web', name: 'Shop web', kind: 'http' });
    await page.locator('#mon-p-url').waitFor();
    assert.ok(await page.locator('#mon-p-method').isVisible(), 'a select field of the http kind');
    // The kind's other fields fold into "more settings".
    assert.equal(await page.locator('#mon-p-follow_redirects').isVisible(), false, 'folded');
    await page.locator('#mon-form .more-params summary').click();
    assert.ok(await page.locator('#mon-p-follow_redirects').isVisible(), 'a bool field of the http kind');
    assert.ok(await page.locator('#mon-p-password_credential').isVisible(), 'a credential field of the http kind');
    await page.locator('#mon-p-url').fill(`http://{{address}}:${port}/`);
    await page.locator('#mon-j-failure').selectOption('critical');

    // Bad input the browser sees: an inverted range, named, focused.
    await page.locator('#mon-j-info_min').fill('2000');
    await page.locator('#mon-j-info_max').fill('1000');
    await page.locator('#mon-save').click();
    await errorOf(page, 'mon-j-info_min', 'Info range');
    await assertFocused(page, 'mon-j-info_min');
    await page.locator('#mon-j-info_min').fill('');
    await page.locator('#mon-j-warn_max').fill('3000');

    // Bad input only the appliance knows: a node that does not exist.
    page.expectFailure(/\/api\/v1\/monitors$/);
    await page.locator('#mon-node').fill('no-such-node');
    await page.locator('#mon-save').click();
    await errorOf(page, 'mon-node', 'refused');
    await page.locator('#mon-node').fill(webNode);

    // A pattern for the body (a text item of the numeric http kind): the
    // first that matches decides; tried with test now, then removed.
    await page.locator('#mon-j-add-pattern').click();
    await page.locator('#mon-j-pat-0-match').fill('(?i)SHOP IS');
    await page.locator('#mon-j-pat-0-priority').selectOption('warning');
    const judged = await testNow(page, 'warning');
    assert.match(await judged.locator('tr[data-item="body"]').innerText(), /shop is open[\s\S]*Warning/);
    await page.getByRole('button', { name: 'Remove pattern 1' }).click();

    // Test now: the raw result, the items with values and their judgement.
    const web = await testNow(page, 'info');
    await web.locator('tr[data-item="response_ms"]').waitFor();
    assert.match(await web.locator('tr[data-item="response_ms"]').innerText(), /\d.*ms[\s\S]*Info/);
    assert.match(await web.locator('.test-raw').innerText(), /Raw result/);
    await snap(page, 'monitors-test-http-en');
    await save(page, 'ui-web');

    // Ping, with thresholds per item.
    await fillBasics(page, { id: 'ui-ping', name: 'Shop ping', kind: 'ping' });
    await page.locator('#mon-p-count').fill('2');
    await page.locator('#mon-p-interval').fill('20ms');
    await page.locator('#mon-j-add-item').click();
    await page.locator('#mon-j-item-0-key').fill('rtt_ms');
    await page.locator('#mon-j-item-0-info_max').fill('500');
    await page.locator('#mon-j-item-0-warn_max').fill('2000');
    const ping = await testNow(page, 'info');
    await ping.locator('tr[data-item="rtt_ms"]').waitFor();
    await ping.locator('tr[data-item="loss_pct"]').waitFor();
    await snap(page, 'monitors-test-ping-en');
    await save(page, 'ui-ping');

    // A monitor of a scope: test now runs on each of its nodes (one here).
    await page.locator('#mon-target').selectOption('scope');
    await page.locator('#mon-scope').fill('shop/db');
    await testNow(page, 'info', dbNode);
    assert.equal(await page.locator('#mon-test .test-result').count(), 1, 'the nodes of shop/db only');
    await page.locator('#mon-target').selectOption('node');

    // Calendars the appliance lists are offered by name.
    assert.equal(await page.locator('#mon-calendars option[value="shop-hours"]').count(), 1, 'the seeded calendar is offered');

    // The list shows kind, target, interval, enabled.
    const row = await page.locator('#mon-list tr[data-monitor="ui-web"]').innerText();
    assert.match(row, /Shop web[\s\S]*HTTP[\s\S]*shop-web-01[\s\S]*2s[\s\S]*yes/);
    // and filters by text (kind, name, id, node, scope)
    await page.locator('#mon-filter').fill('PING');
    await page.locator('#mon-list tr[data-monitor="ui-web"]').waitFor({ state: 'detached' });
    assert.equal(await page.locator('#mon-list tr[data-monitor="ui-ping"]').count(), 1);
    await page.locator('#mon-filter').fill('');
    await snap(page, 'monitors-list-en');
    assertClean(page);
    await ctx.close();
    created = true;
  });

  test('the status grid follows the target: info, critical when it stops, info when it returns', async () => {
    assert.ok(created, 'the monitors were not created: see the first test');
    const { ctx, page } = await open(browser, { lang: 'en' });
    await login(page);
    await visit(page, '/status', '.status-grid');
    await cell(page, 'ui-web', webNode, 'info').waitFor({ timeout: statusWait });
    await cell(page, 'ui-ping', webNode, 'info').waitFor({ timeout: statusWait });
    // Every priority the seeded monitors give, and the scope tree.
    await cell(page, 'seed-db-admin', dbNode, 'unknown').waitFor({ timeout: statusWait });
    await cell(page, 'seed-db-slow', dbNode, 'warning').waitFor({ timeout: statusWait });
    await page.locator('.scope-entry[data-scope="shop"]').waitFor();
    await page.locator('.scope-entry[data-scope="shop/web"]').waitFor();
    await snap(page, 'status-info-en');

    await target('stop');
    await cell(page, 'ui-web', webNode, 'critical').waitFor({ timeout: statusWait });
    await snap(page, 'status-critical-en');

    // Drill into the node: its rows with the message; Escape closes it and
    // gives the focus back to the node.
    await page.locator(`.node-button[data-node="${webNode}"]`).click();
    await page.locator('#status-node').waitFor();
    await assertFocused(page, 'status-node-title');
    const rows = await page.locator('#status-node tbody').innerText();
    assert.match(rows, /Shop web[\s\S]*Critical/);
    // A numeric result links to its graph (the metrics part's /graphs).
    const graph = page.locator('#status-node tr:has-text("Shop ping") a[href^="/graphs"]');
    assert.equal(await graph.getAttribute('href'), `/graphs?monitor=ui-ping&node=${webNode}`);
    await snap(page, 'status-node-en');
    await page.keyboard.press('Escape');
    await page.locator('#status-node').waitFor({ state: 'detached' });
    // (the page moves the focus after it paints: wait for it, as assertFocused does)
    await page.waitForFunction((want) => document.activeElement?.getAttribute('data-node') === want, webNode, { timeout: 5000 });

    // Arrow keys move between cells.
    await page.keyboard.press('ArrowRight');
    await page.waitForFunction(() => document.activeElement?.closest('td')?.classList.contains('cell') === true, null, { timeout: 5000 });

    // A column's heading shows only that monitor.
    await page.getByRole('button', { name: 'Show only Shop web' }).click();
    await page.waitForFunction(() => document.querySelectorAll('.status-grid tbody tr').length === 1);
    assert.equal(await page.locator('#status-q').inputValue(), 'Shop web');
    await page.locator('#status-q').fill('');

    // Filters: critical only; a scope.
    await page.locator('#status-f-critical').click();
    await page.waitForFunction(() => location.search.includes('priority=critical'));
    assert.equal(await page.locator('td.cell[data-priority="info"]').count(), 0, 'info cells hidden by the filter');
    await page.locator('#status-f-critical').click();
    await page.locator('.scope-entry[data-scope="shop/db"]').click();
    await page.waitForFunction(() => !document.querySelector(`.node-button[data-node="shop-web-01"]`));
    await page.locator(`.node-button[data-node="${dbNode}"]`).waitFor();
    await page.locator('.scope-entry[data-scope=""]').click();

    await target('start');
    await cell(page, 'ui-web', webNode, 'info').waitFor({ timeout: statusWait });
    await snap(page, 'status-recovered-en');
    assertClean(page);
    await ctx.close();
  });

  for (const lang of ['en', 'ja']) {
    for (const scheme of ['light', 'dark']) {
      for (const device of ['desktop', 'phone']) {
        test(`screens: ${lang} ${scheme} ${device}`, async () => {
          assert.ok(created, 'the monitors were not created: see the first test');
          const { ctx, page } = await open(browser, { lang, scheme, device });
          await login(page);
          await visit(page, '/status', '.status-grid');
          await cell(page, 'ui-web', webNode).waitFor({ timeout: statusWait });
          assert.equal(await page.locator('main h1').innerText(), lang === 'en' ? 'Status' : 'ステータス');
          await assertNoSideScroll(page);
          await assertTranslated(page, lang);
          await snap(page, `status-${lang}-${scheme}-${device}`);
          // A node's rows: a table that becomes label/value lists on a phone.
          await page.locator(`.node-button[data-node="${webNode}"]`).click();
          await page.locator('#status-node tbody tr').first().waitFor();
          await assertNoSideScroll(page);
          await assertTranslated(page, lang);
          await snap(page, `status-node-${lang}-${scheme}-${device}`);
          await visit(page, `/monitors?edit=ui-web`, '#mon-list table');
          // ?edit= opens the monitor with the focus on its name (the status view links there).
          await assertFocused(page, 'mon-name');
          assert.equal(await page.locator('#mon-name').inputValue(), 'Shop web');
          if (device === 'desktop' && scheme === 'light') {
            // Bad input named in the user's language.
            await page.locator('#mon-j-info_min').fill('5000');
            await page.locator('#mon-save').click();
            await errorOf(page, 'mon-j-info_min', lang === 'en' ? 'Info range' : '情報の範囲');
            await page.locator('#mon-j-info_min').fill('');
            await page.locator('#mon-name').focus();
          }
          assert.equal(await page.locator('main h1').innerText(), lang === 'en' ? 'Monitors' : '監視設定');
          await assertNoSideScroll(page);
          await assertTranslated(page, lang);
          await snap(page, `monitors-${lang}-${scheme}-${device}`);
          assertClean(page);
          await ctx.close();
        });
      }
    }
  }

  test('a viewer of the shop scopes sees nothing of another scope, and no form', async () => {
    assert.ok(created, 'the monitors were not created: see the first test');
    const { ctx, page } = await open(browser, { lang: 'en' });
    const viewer = process.env.MAMORI_UI_VIEWER ?? '';
    await page.goto(`${env.url}/login`);
    await page.locator('#login-user').fill(viewer);
    await page.locator('#login-password').fill(env.password);
    await page.locator('form button[type=submit]').click();
    await page.locator('.shell main h1').waitFor();
    await visit(page, '/status', '.status-grid');
    await cell(page, 'ui-web', webNode).waitFor({ timeout: statusWait });
    await visit(page, '/monitors', '#mon-list table');
    for (const path of ['/status', '/monitors']) {
      await visit(page, path, path === '/status' ? '.status-grid' : '#mon-list table');
      const html = await page.content();
      assert.match(html, /shop/, `${path} shows the shop`);
      assert.doesNotMatch(html, /bravo/i, `${path} shows another scope`);
    }
    // A reader gets the list without the form or the buttons the appliance would refuse.
    await page.locator('#mon-list tr[data-monitor="ui-web"]').waitFor();
    assert.equal(await page.locator('#mon-form').count(), 0, 'no form for a reader');
    assert.equal(await page.locator('#mon-list button').count(), 0, 'no edit, test or delete for a reader');
    await snap(page, 'monitors-viewer-en');
    assertClean(page);
    await ctx.close();
  });

  test('delete through the list, with confirmation', async () => {
    assert.ok(created, 'the monitors were not created: see the first test');
    const { ctx, page } = await open(browser, { lang: 'ja' });
    await login(page);
    await visit(page, '/monitors', '#mon-list table');
    for (const [id, name] of [
      ['ui-web', 'Shop web'],
      ['ui-ping', 'Shop ping'],
    ]) {
      // Dismissed first: nothing is deleted.
      page.once('dialog', (d) => void d.dismiss());
      await page.getByRole('button', { name: `${name} を削除` }).click();
      await page.waitForTimeout(300);
      assert.equal(await page.locator(`#mon-list tr[data-monitor="${id}"]`).count(), 1);
      let asked = '';
      page.once('dialog', (d) => {
        asked = d.message();
        void d.accept();
      });
      await page.getByRole('button', { name: `${name} を削除` }).click();
      await page.locator('main .notice').filter({ hasText: id }).waitFor();
      await page.locator(`#mon-list tr[data-monitor="${id}"]`).waitFor({ state: 'detached' });
      assert.match(asked, new RegExp(`${name}.*${id}.*削除しますか`));
    }
    assertClean(page);
    await ctx.close();
  });
});
