// The settings, search and administration screens in Chromium against the
// real pair of TestConsole (test/e2e/ui_test.go, which also seeds two scopes
// through the API: ui_screens_test.go): every screen in English and
// Japanese, light and dark, desktop and phone; bad input on every form
// refused naming the field in the user's language; the forms working end
// to end; and a viewer of scope A who sees nothing of scope B on any screen.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { assertClean, assertFocused, assertNoSideScroll, env, launch, open, shot } from '../harness.mjs';

const viewer = process.env.MAMORI_UI_VIEWER ?? '';
const auditor = process.env.MAMORI_UI_AUDITOR ?? '';
const otherPassword = process.env.MAMORI_UI_OTHER_PASSWORD ?? '';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

async function loginAs(page, user, password) {
  // The auditor may read the audit log and nothing else: the dashboard's
  // calls after login are refused, on purpose.
  if (user === auditor) page.expectFailure(/\/api\/v1\/(cluster|events)/);
  await page.goto(`${env.url}/login`);
  await page.locator('#login-user').fill(user);
  await page.locator('#login-password').fill(password);
  await page.locator('form button[type=submit]').click();
  await page.locator('.shell main h1').waitFor();
}

/** Opens a screen and waits until nothing on it is still loading. */
async function visit(page, path, ready) {
  await page.goto(`${env.url}${path}`);
  await page.locator('.shell main h1').waitFor();
  if (ready) await page.locator(ready).first().waitFor();
  await page.waitForFunction(() => !document.querySelector('main .loading'));
}

/**
 * As the harness's assertTranslated, but a rule template's ${placeholder}
 * is what the user types, not a missing parameter.
 */
async function assertTranslated(page, lang) {
  const text = (await page.locator('body').innerText()).replace(/\$\{\w+\}/g, '');
  assert.doesNotMatch(text, /\{\w+\}|undefined|NaN|\b[a-z]+\.[a-z]+[A-Z]\w*\b/, 'untranslated text');
  assert.equal(await page.getAttribute('html', 'lang'), lang);
  if (lang === 'ja') assert.match(text, /[\u3040-\u30ff\u4e00-\u9fff]/, 'no Japanese text');
}

const screens = [
  // path, element that shows the data arrived, heading (en, ja)
  { name: 'messages', path: '/messages', ready: '#msg-results', h1: ['Message search', 'メッセージ検索'] },
  { name: 'rules', path: '/rules', ready: '#rules-list table', h1: ['Monitor rules', '監視ルール'] },
  { name: 'inventory', path: '/inventory', ready: '#inv-nodes table', h1: ['Inventory', 'インベントリ'] },
  { name: 'admin', path: '/admin', ready: '#admin-users table', h1: ['Administration', '管理'] },
  { name: 'cluster', path: '/cluster', ready: '#recover-title', h1: ['Cluster', 'クラスタ'] },
];

describe('every screen, every language, theme and device', () => {
  for (const lang of ['en', 'ja']) {
    for (const scheme of ['light', 'dark']) {
      for (const device of ['desktop', 'phone']) {
        test(`${lang} ${scheme} ${device}`, async () => {
          const { ctx, page } = await open(browser, { lang, scheme, device });
          await loginAs(page, env.user, env.password);
          for (const s of screens) {
            await visit(page, s.path, s.ready);
            assert.equal(await page.locator('main h1').innerText(), s.h1[lang === 'en' ? 0 : 1]);
            if (s.name === 'messages') {
              // the newest first, and the detail with the raw line
              await page.locator('#msg-results tbody tr').first().waitFor();
              await page.locator('#msg-results tbody tr .linkish').first().click();
              await page.locator('#msg-raw').waitFor();
            }
            await assertNoSideScroll(page);
            await assertTranslated(page, lang);
            await page.evaluate(() => window.scrollTo(0, 0)); // the sticky header at the top of the shot
            await shot(page, `${s.name}-${lang}-${scheme}-${device}`);
          }
          assertClean(page);
          await ctx.close();
          // The audit log is the auditor's.
          const a = await open(browser, { lang, scheme, device });
          await loginAs(a.page, auditor, otherPassword);
          await visit(a.page, '/audit', '#audit-entries table');
          assert.equal(await a.page.locator('main h1').innerText(), lang === 'en' ? 'Audit log' : '監査ログ');
          await assertNoSideScroll(a.page);
          await assertTranslated(a.page, lang);
          await shot(a.page, `audit-${lang}-${scheme}-${device}`);
          assertClean(a.page);
          await a.ctx.close();
        });
      }
    }
  }
});

const fields = {
  en: {
    until: 'Until', id: 'Rule ID', pattern: 'Message pattern', address: 'Address', secret: 'Secret', user: 'User name',
    privileges: 'Privileges', days: 'Valid for', password: 'Your password', refused: 'refused', port: 'SNMP port',
  },
  ja: {
    until: '終了日時', id: 'ルールID', pattern: 'メッセージのパターン', address: 'アドレス', secret: 'シークレット', user: 'ユーザー名',
    privileges: '権限', days: '有効期間', password: '現在のパスワード', refused: '拒否', port: 'SNMPポート',
  },
};

async function errorOf(page, id, word) {
  const e = page.locator(`#${id}-error`);
  await e.waitFor();
  const text = await e.innerText();
  assert.ok(text.includes(word), `${id}: "${text}" does not name "${word}"`);
  return text;
}

describe('bad input is refused on every form, naming the field in the user\'s language', () => {
  for (const lang of ['en', 'ja']) {
    test(lang, async () => {
      const w = fields[lang];
      const { ctx, page } = await open(browser, { lang });
      await loginAs(page, env.user, env.password);

      await visit(page, '/messages', '#msg-results');
      await page.locator('#msg-since').fill('2026-11-24T10:00');
      await page.locator('#msg-until').fill('2026-11-24T09:00');
      await page.locator('form.filters button[type=submit]').click();
      await errorOf(page, 'msg-until', w.until);
      await assertFocused(page, 'msg-until');

      await visit(page, '/rules', '#rules-list table');
      await page.locator('#rule-form button[type=submit]').click();
      await errorOf(page, 'rule-id', w.id);
      await page.locator('#rule-id').fill('ui-bad-rule');
      await page.locator('#rule-name').fill('bad rule');
      await page.locator('#rule-pattern').fill('disk (full');
      await page.locator('#rule-form button[type=submit]').click();
      await errorOf(page, 'rule-pattern', w.pattern);
      // Valid in the browser, refused by the appliance (RE2 has no look-behind):
      // its refusal lands on the field it names.
      await page.locator('#rule-pattern').fill('(?<=disk) full');
      page.expectFailure(/\/api\/v1\/rules$/);
      await page.locator('#rule-form button[type=submit]').click();
      const said = await errorOf(page, 'rule-pattern', w.pattern);
      assert.ok(said.includes(w.refused), said);
      await shot(page, `rules-refused-${lang}`);

      await visit(page, '/inventory', '#inv-nodes table');
      await page.locator('#node-id').fill('ui-bad-node');
      await page.locator('#node-address').fill('not an address!');
      await page.locator('#node-form button[type=submit]').click();
      await errorOf(page, 'node-address', w.address);
      await page.locator('#node-snmp').selectOption('2c');
      await page.locator('#node-port').fill('70000');
      await page.locator('#node-form button[type=submit]').click();
      await errorOf(page, 'node-port', w.port);
      await page.locator('#cred-name').fill('ui-bad-cred');
      await page.locator('#cred-form button[type=submit]').click();
      await errorOf(page, 'cred-secret', w.secret);
      await shot(page, `inventory-refused-${lang}`);

      await visit(page, '/admin', '#admin-users table');
      await page.locator('#user-form button[type=submit]').click();
      await errorOf(page, 'user-user', w.user);
      await page.locator('#role-name').fill('ui-bad-role');
      await page.locator('#role-all').check();
      await page.locator('#role-form button[type=submit]').click();
      await errorOf(page, 'role-privileges', w.privileges);
      await page.locator('#token-name').fill('x');
      await page.locator('#token-days').fill('0');
      await page.locator('#token-form button[type=submit]').click();
      await errorOf(page, 'token-days', w.days);
      await page.locator('#totp-form button[type=submit]').click();
      await errorOf(page, 'totp-password', w.password);
      await shot(page, `admin-refused-${lang}`);
      assertClean(page);
      await ctx.close();

      const a = await open(browser, { lang });
      await loginAs(a.page, auditor, otherPassword);
      await visit(a.page, '/audit', '#audit-entries table');
      await a.page.locator('#audit-since').fill('2026-11-24T10:00');
      await a.page.locator('#audit-until').fill('2026-11-24T09:00');
      await a.page.locator('form.filters button[type=submit]').click();
      await errorOf(a.page, 'audit-until', w.until);
      assertClean(a.page);
      await a.ctx.close();
    });
  }
});

/** RFC 6238 code of a base32 secret (what an authenticator app shows). */
function totp(secret, at = Date.now()) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secret.replace(/=+$/, '')) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 30000)));
  const h = createHmac('sha1', key).update(counter).digest();
  const o = h[h.length - 1] & 15;
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1e6).padStart(6, '0');
}

test('the forms work end to end: rule, node, credential, role, user, token, TOTP, search, audit export', async () => {
  const { ctx, page } = await open(browser);
  await loginAs(page, env.user, env.password);

  // A rule: saved, listed, edited, deleted.
  await visit(page, '/rules', '#rules-list table');
  await page.locator('#rule-id').fill('ui-made-rule');
  await page.locator('#rule-name').fill('made in the browser');
  await page.locator('#rule-pattern').fill('(?i)made-in-browser');
  await page.locator('#rule-form button[type=submit]').click();
  await page.locator('#rules-list td', { hasText: 'made in the browser' }).waitFor();
  await page.locator('#rules-list tr', { hasText: 'ui-made-rule' }).getByRole('button', { name: 'Edit' }).click();
  await page.waitForFunction(() => document.getElementById('rule-pattern')?.value === '(?i)made-in-browser'); // the rule in the form
  await page.locator('#rule-name').fill('made and edited');
  await page.locator('#rule-form button[type=submit]').click();
  await page.locator('#rules-list td', { hasText: 'made and edited' }).waitFor();
  page.once('dialog', (d) => void d.accept());
  await page.locator('#rules-list tr', { hasText: 'ui-made-rule' }).getByRole('button', { name: 'Delete' }).click();
  await page.locator('.notice', { hasText: 'ui-made-rule' }).waitFor();
  await page.locator('#rules-list tr', { hasText: 'ui-made-rule' }).waitFor({ state: 'detached' });

  // A node in a new scope, and a credential.
  await visit(page, '/inventory', '#inv-nodes table');
  await page.locator('#node-id').fill('ui-made-node');
  await page.locator('#node-name').fill('made node');
  await page.locator('#node-address').fill('192.0.2.77');
  await page.locator('#node-scope').fill('scope-made');
  await page.locator('#node-form button[type=submit]').click();
  await page.locator('#inv-nodes td', { hasText: 'ui-made-node' }).waitFor();
  await page.locator('#inv-scopes td', { hasText: 'scope-made' }).waitFor();
  await page.locator('#inv-nodes tr', { hasText: 'ui-made-node' }).getByRole('button', { name: 'Edit' }).click();
  await page.waitForFunction(() => document.getElementById('node-address')?.value === '192.0.2.77'); // the node in the form
  await page.locator('#node-name').fill('made node, renamed');
  await page.locator('#node-form button[type=submit]').click();
  await page.locator('#inv-nodes td', { hasText: 'made node, renamed' }).waitFor();
  await page.locator('#cred-name').fill('ui-made-cred');
  await page.locator('#cred-secret').fill('s3cret-made');
  await page.locator('#cred-form button[type=submit]').click();
  await page.locator('#inv-creds td', { hasText: 'ui-made-cred' }).waitFor();
  assert.ok(!(await page.content()).includes('s3cret-made'), 'a secret is never shown');

  // A role with scoped privileges, a user with it, and an administrator.
  await visit(page, '/admin', '#admin-users table');
  await page.locator('#role-name').fill('ui_made_role');
  await page.locator('#role-scopes').fill('scope-made');
  await page.locator('#role-privileges').check(); // inventory: read
  await page.locator('#role-p-monitor_results-read').check();
  await page.locator('#role-form button[type=submit]').click();
  await page.locator('#admin-roles td', { hasText: 'ui_made_role' }).waitFor();
  await page.locator('#user-user').fill('ui-made-admin');
  await page.locator('#user-password').fill(otherPassword);
  await page.locator('#user-confirm').fill(otherPassword);
  await page.locator('#user-form label', { hasText: /^administrator$/ }).click();
  await page.locator('#user-form button[type=submit]').click();
  await page.locator('#admin-users td', { hasText: 'ui-made-admin' }).waitFor();
  // A user removed from the list; one's own user has no remove button.
  await page.locator('#user-user').fill('ui-made-temp');
  await page.locator('#user-password').fill(otherPassword);
  await page.locator('#user-confirm').fill(otherPassword);
  await page.locator('#user-form label', { hasText: /^auditor$/ }).click();
  await page.locator('#user-form button[type=submit]').click();
  const tempRow = page.locator('#admin-users tr', { hasText: 'ui-made-temp' });
  await tempRow.waitFor();
  page.once('dialog', (d) => void d.accept());
  await tempRow.getByRole('button', { name: 'Remove' }).click();
  await tempRow.waitFor({ state: 'detached' });
  assert.equal(await page.locator('#admin-users tr', { hasText: env.user }).getByRole('button', { name: 'Remove' }).count(), 0);
  await page.locator('#token-name').fill('ui-script');
  await page.locator('#token-form button[type=submit]').click();
  const token = (await page.locator('#token-secret').innerText()).trim();
  assert.ok(token.length >= 20, `token ${token}`);

  // The token works as a bearer token.
  const me = await page.evaluate(async (tok) => {
    const r = await fetch('/api/v1/me', { headers: { Authorization: `Bearer ${tok}` }, credentials: 'omit' });
    return r.json();
  }, token);
  assert.equal(me.user, env.user);
  // Listed (never the secret), revoked from the list, and then refused.
  const tokenRow = page.locator('#token-list li', { hasText: 'ui-script' });
  await tokenRow.waitFor();
  assert.ok(!(await page.locator('#token-list').innerText()).includes(token));
  page.once('dialog', (d) => void d.accept());
  await tokenRow.getByRole('button', { name: 'Revoke' }).click();
  await tokenRow.waitFor({ state: 'detached' });
  page.expectFailure(/\/api\/v1\/me$/);
  const after = await page.evaluate(async (tok) => {
    const r = await fetch('/api/v1/me', { headers: { Authorization: `Bearer ${tok}` }, credentials: 'omit' });
    return r.status;
  }, token);
  assert.equal(after, 401, 'a revoked token is refused');

  // Message search: the seeded line with what its sender sent.
  await visit(page, '/messages', '#msg-results');
  await page.locator('#msg-q').fill('alpha-syslog-text');
  await page.locator('form.filters button[type=submit]').click();
  await page.locator('#msg-results tbody tr .linkish', { hasText: 'alpha-syslog-text' }).first().click();
  const detail = await page.locator('#msg-detail').innerText();
  for (const want of ['4242', 'ID47', 'ex@32473', 'alpha-node-01', 'scope-alpha']) assert.ok(detail.includes(want), `detail lacks ${want}:\n${detail}`);
  assert.match(await page.locator('#msg-raw').innerText(), /^<11>1 .* alpha-host app 4242 ID47/);
  await shot(page, 'messages-detail-en');
  await page.getByRole('button', { name: 'Clear filters' }).click();
  await page.locator('#msg-tab-custom').click();
  await page.locator('#msg-results td', { hasText: 'alpha-custom-text' }).waitFor();
  await page.locator('#msg-tab-traps').click();
  await page.locator('#msg-results tbody tr .linkish', { hasText: 'alpha-trap-text' }).first().click();
  assert.match(await page.locator('#msg-raw').innerText(), /alpha-trap-text/, 'the varbinds');
  assert.ok((await page.locator('#msg-detail').innerText()).includes('1.3.6.1.6.3.1.1.5.3'), 'the trap OID');

  // Paging: 60 custom events, 50 on the first page, the rest under "Older", newest first.
  const posted = await page.evaluate(async () => {
    const events = Array.from({ length: 60 }, (_, i) => ({ node: 'alpha-node-01', key: 'paging', message: `page-msg-${String(i).padStart(2, '0')}` }));
    const r = await fetch('/api/v1/custom-events', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ events }) });
    return r.status;
  });
  assert.equal(posted, 202);
  await page.locator('#msg-tab-custom').click();
  await page.locator('#msg-q').fill('page-msg-');
  await page.locator('#msg-what').fill('paging'); // the key
  const rows = page.locator('#msg-results tbody tr');
  for (let tries = 0; ; tries++) {
    await page.locator('form.filters button[type=submit]').click();
    await page.waitForFunction(() => !document.querySelector('main .loading') && !document.querySelector('form.filters button[disabled]'));
    if ((await page.locator('#msg-older').count()) > 0 || tries > 20) break;
    await page.waitForTimeout(500); // the events travel the spool and the receive path
  }
  assert.equal(await rows.count(), 50);
  assert.match(await rows.first().innerText(), /page-msg-59/);
  await page.locator('#msg-older').click();
  await page.locator('#msg-older').waitFor({ state: 'detached' });
  assert.equal(await rows.count(), 60);
  const texts = await rows.allInnerTexts();
  assert.match(texts[59], /page-msg-00/);
  assert.equal(new Set(texts.map((x) => /page-msg-\d+/.exec(x)?.[0])).size, 60, 'no row twice');
  assertClean(page);
  await ctx.close();

  // TOTP enrolment as the new administrator: secret and URI as text, a code confirms it.
  const n = await open(browser, { lang: 'ja' });
  await loginAs(n.page, 'ui-made-admin', otherPassword);
  await visit(n.page, '/admin', '#totp-form');
  await n.page.locator('#totp-password').fill(otherPassword);
  await n.page.locator('#totp-form button[type=submit]').click();
  const secret = (await n.page.locator('#totp-secret').innerText()).trim();
  assert.match(await n.page.locator('#totp-uri').innerText(), /^otpauth:\/\/totp\/mamori:ui-made-admin\?secret=/);
  await shot(n.page, 'admin-totp-ja');
  await n.page.locator('#totp-code').fill(totp(secret));
  await n.page.locator('#totp-form button[type=submit]').click();
  await n.page.locator('#totp-form .notice').waitFor();
  assertClean(n.page);
  await n.ctx.close();

  // The auditor sees what was done, filtered, and exports it as CSV.
  const a = await open(browser);
  await loginAs(a.page, auditor, otherPassword);
  await visit(a.page, '/audit', '#audit-entries table');
  await a.page.locator('#audit-action').fill('/api/v1/rules');
  await a.page.locator('form.filters button[type=submit]').click();
  await a.page.locator('#audit-entries td', { hasText: 'DELETE /api/v1/rules/:id' }).first().waitFor();
  const [download] = await Promise.all([a.page.waitForEvent('download'), a.page.locator('#audit-csv').click()]);
  const csv = readFileSync(await download.path(), 'utf8');
  assert.match(csv, /^seq,at,user,source,user_agent,action,object,result,detail,prev_hash,hash\n/);
  assert.ok(csv.includes('DELETE /api/v1/rules/:id'), 'the export holds the filtered rows');
  assert.ok(!csv.includes('/api/v1/users'), 'and only those');
  await a.page.locator('#audit-verify').click();
  await a.page.locator('#audit-verified.notice').waitFor();
  await shot(a.page, 'audit-filtered-en');
  assertClean(a.page);
  await a.ctx.close();
});

describe('a viewer of scope A sees nothing of scope B on any screen', () => {
  // Every name of scope B holds "bravo" (ui_screens_test.go); A's hold "alpha".
  const pages = [
    { path: '/', ready: '.count-n' },
    { path: '/events' },
    { path: '/messages', ready: '#msg-results', tabs: ['syslog', 'traps', 'custom'] },
    { path: '/rules', ready: '#rules-list table', shows: ['alpha disk rule'] },
    { path: '/inventory', ready: '#inv-nodes table', shows: ['alpha-node-01', 'alpha-cred', 'scope-alpha'] },
    { path: '/admin', ready: '#token-form' },
    { path: '/audit' },
    { path: '/cluster', ready: '#recover-title' },
  ];
  test('control: an administrator sees both scopes on the same screens', async () => {
    const { ctx, page } = await open(browser);
    await loginAs(page, env.user, env.password);
    for (const [path, ready, want] of [
      ['/inventory', '#inv-creds table', ['bravo-node-01', 'bravo-cred', 'scope-bravo', 'alpha-node-01']],
      ['/rules', '#rules-list table', ['bravo disk rule', 'alpha disk rule']],
    ]) {
      await visit(page, path, ready);
      const text = await page.locator('main').innerText();
      for (const w of want) assert.ok(text.includes(w), `${path} does not show ${w} to an administrator`);
    }
    await visit(page, '/messages', '#msg-results');
    await page.locator('#msg-q').fill('bravo-syslog-text');
    await page.locator('form.filters button[type=submit]').click();
    await page.locator('#msg-results td', { hasText: 'bravo-syslog-text' }).first().waitFor();
    assertClean(page);
    await ctx.close();
  });
  for (const device of ['desktop', 'phone']) {
    test(device, async () => {
      const { ctx, page } = await open(browser, { device });
      await loginAs(page, viewer, otherPassword);
      // The navigation offers what the viewer's roles may read, not the audit log.
      await page.locator('nav.nav a[href="/events"]').waitFor({ state: 'attached' }); // on a phone, behind the button
      assert.equal(await page.locator('nav.nav a[href="/audit"]').count(), 0, 'the viewer is offered the audit log');
      // Screens the viewer's role does not allow answer 403, on purpose.
      page.expectFailure(/\/api\/v1\/(users|roles|audit)/);
      const seen = [];
      for (const p of pages) {
        await visit(page, p.path, p.ready);
        const check = async (where) => {
          await page.waitForFunction(() => !document.querySelector('main .loading'));
          const html = (await page.content()).toLowerCase();
          seen.push(where);
          assert.ok(!html.includes('bravo'), `${where} shows something of scope B: ${html.slice(Math.max(0, html.indexOf('bravo') - 200), html.indexOf('bravo') + 100)}`);
        };
        for (const tab of p.tabs ?? ['']) {
          if (tab) {
            await page.locator(`#msg-tab-${tab}`).click();
            await page.waitForFunction(() => !document.querySelector('main .loading'));
            if (tab === 'syslog') await page.locator('#msg-results td', { hasText: 'alpha-syslog-text' }).first().waitFor();
            if (tab === 'custom') await page.locator('#msg-results td', { hasText: /alpha-custom-text|page-msg-/ }).first().waitFor();
            if (tab === 'traps') await page.locator('#msg-results td', { hasText: 'alpha-trap-text' }).first().waitFor();
            // Every page of the tab, not only the newest.
            while ((await page.locator('#msg-older').count()) > 0) {
              const n = await page.locator('#msg-results tbody tr').count();
              await page.locator('#msg-older').click();
              await page.waitForFunction((was) => document.querySelectorAll('#msg-results tbody tr').length > was, n);
            }
          }
          await check(`${p.path} ${tab}`);
        }
        const text = await page.locator('main').innerText();
        for (const want of p.shows ?? []) assert.ok(text.includes(want), `${p.path} does not show ${want} (the viewer's own scope)`);
        await shot(page, `scope-viewer${p.path.replace(/\//g, '-') || '-dashboard'}-${device}`);
      }
      // The search for B's text by its words finds nothing either.
      await visit(page, '/messages', '#msg-results');
      await page.locator('#msg-q').fill('bravo-syslog-text');
      await page.locator('form.filters button[type=submit]').click();
      await page.locator('#msg-results .muted').waitFor();
      assert.ok(seen.length >= 10);
      assertClean(page);
      await ctx.close();
    });
  }
});
