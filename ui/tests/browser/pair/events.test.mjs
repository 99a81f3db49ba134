// The event console in Chromium against TestConsole's pair: confirm and
// comment with the mouse, the same without it (keyboard only), a bulk
// confirm of 500 events audited in one row, the filter's bad input, and
// screenshots in both languages, light and dark, desktop and phone.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { request } from 'playwright-core';
import { assertClean, assertFocused, assertNoSideScroll, assertTranslated, env, launch, login, open } from '../harness.mjs';

let browser;
let rest; // the REST API as the operator (a bearer token), for seeding and checking
before(async () => {
  browser = await launch();
  rest = await apiAs(env.user, env.password);
});
after(async () => {
  await rest?.dispose();
  await browser?.close();
});

/** A request context on the REST API logged in as user. */
async function apiAs(user, password) {
  const anon = await request.newContext({ baseURL: env.url, ignoreHTTPSErrors: true });
  const res = await anon.post('/api/v1/login', { data: { user, password } });
  assert.equal(res.status(), 200, `login as ${user}: ${await res.text()}`);
  const { token } = await res.json();
  await anon.dispose();
  return request.newContext({ baseURL: env.url, ignoreHTTPSErrors: true, extraHTTPHeaders: { Authorization: `Bearer ${token}` } });
}

async function call(ctx, method, path, data) {
  const res = await ctx.fetch(path, { method, data });
  assert.ok(res.ok(), `${method} ${path}: HTTP ${res.status()} ${await res.text()}`);
  return res.json();
}

/** Stores n events of a kind of their own; returns the kind. */
async function postEvents(n, label, sev = 'warning') {
  const kind = `${label}-${Date.now()}`;
  const evs = Array.from({ length: n }, (_, i) => ({ kind, severity: sev, node: `web${i % 7}`, scope: 'system-a', message: `${label} check failed (${i})` }));
  await call(rest, 'POST', '/api/v1/events', evs);
  return kind;
}

async function listKind(kind) {
  const out = await call(rest, 'GET', `/api/v1/events?kind=${kind}&limit=10000`);
  return out.events;
}

/** A screenshot of what the screen shows (the list is long: a full page says little). */
async function view(page, name) {
  await page.evaluate(() => document.fonts.ready);
  await page.screenshot({ path: join(env.artifacts, `${name}.png`) });
}

async function openEvents(page, query = '') {
  await page.goto(`${env.url}/events${query}`);
  await page.locator('.ev-row').first().waitFor();
}

describe('event console', () => {
  test('mouse: open, Shift-click a range, confirm, comment', async () => {
    const kind = await postEvents(4, 'mouse');
    const { ctx, page } = await open(browser);
    await login(page);
    await page.getByRole('link', { name: 'Events', exact: true }).click();
    await page.locator('.ev-row').first().waitFor();
    await openEvents(page, `?kind=${kind}`);
    assert.equal(await page.locator('.ev-row').count(), 4);
    const boxes = page.locator('.ev-row .ev-check');
    await boxes.nth(0).click();
    await boxes.nth(2).click({ modifiers: ['Shift'] });
    await page.locator('.ev-row .ev-open').nth(3).click({ modifiers: ['Control'] });
    assert.equal(await page.locator('.ev-row.selected').count(), 4, 'a range of three, then one more with Ctrl');
    await boxes.nth(3).click(); // and off again
    await page.getByRole('button', { name: 'Confirm', exact: true }).click();
    await page.locator('.bulk-status', { hasText: '3 events changed' }).waitFor();
    const evs = await listKind(kind);
    assert.deepEqual(evs.map((e) => e.state).sort(), ['confirmed', 'confirmed', 'confirmed', 'unconfirmed']);
    assert.ok(evs.filter((e) => e.state === 'confirmed').every((e) => e.state_by === env.user && e.state_at));

    await page.locator('.ev-row .ev-open').first().click();
    await page.locator('#event-comment').waitFor();
    await page.getByRole('button', { name: 'Add comment' }).click();
    assert.match(await page.locator('#event-comment-error').innerText(), /Comment: enter a value/);
    await page.locator('#event-comment').fill('replaced the disk; watching');
    await page.getByRole('button', { name: 'Add comment' }).click();
    await page.locator('.comment-list li', { hasText: 'replaced the disk' }).waitFor();
    const id = Number(await page.locator('.ev-row').first().getAttribute('data-id'));
    const d = await call(rest, 'GET', `/api/v1/events/${id}`);
    assert.equal(d.comment_list.length, 1);
    assert.equal(d.comment_list[0].user, env.user);
    await page.locator('.ev-row').first().locator('.ev-comments').waitFor();
    await view(page, 'events-mouse-en-light-desktop');
    assertClean(page);
    await ctx.close();
  });

  test('keyboard only: confirm three events and add a comment', async () => {
    const kind = await postEvents(5, 'keyboard', 'critical');
    const { ctx, page } = await open(browser);
    const kb = page.keyboard;
    // logging in without the mouse too
    await page.goto(`${env.url}/login`);
    await page.locator('#login-user').focus();
    await kb.type(env.user);
    await kb.press('Tab');
    await kb.type(env.password);
    await kb.press('Enter');
    await page.locator('.shell main h1').waitFor();
    await openEvents(page, `?kind=${kind}`);
    await kb.press('?');
    await page.locator('.key-help').waitFor();
    await view(page, 'events-help-en-light-desktop');
    await kb.press('Escape');
    await page.locator('.key-help').waitFor({ state: 'detached' });
    // the current row is the first; select it and the next two
    await kb.press('x');
    await kb.press('j');
    await kb.press('x');
    await kb.press('j');
    await kb.press('x');
    assert.equal(await page.locator('.ev-row.selected').count(), 3);
    await kb.press('c');
    await page.locator('.bulk-status', { hasText: '3 events changed' }).waitFor();
    const evs = await listKind(kind);
    const confirmed = evs.filter((e) => e.state === 'confirmed').map((e) => e.id).sort((a, b) => b - a);
    const newest = evs.map((e) => e.id).sort((a, b) => b - a).slice(0, 3);
    assert.deepEqual(confirmed, newest, 'the three newest (first) rows are confirmed');
    // a comment on the current (third) row: m opens it with the comment box focused
    await kb.press('m');
    await page.locator('#event-comment').waitFor();
    // The box takes the focus once the detail has loaded (an effect after the paint).
    await assertFocused(page, 'event-comment');
    await kb.type('handled from the keyboard');
    await kb.press('Control+Enter');
    await page.locator('.comment-list li', { hasText: 'handled from the keyboard' }).waitFor();
    const d = await call(rest, 'GET', `/api/v1/events/${newest[2]}`);
    assert.deepEqual(d.comment_list.map((c) => c.text), ['handled from the keyboard']);
    // `/` goes to the search field; Escape leaves it, and j moves again
    await kb.press('Escape');
    await kb.press('/');
    await assertFocused(page, 'events-q');
    await view(page, 'events-keyboard-en-light-desktop');
    assertClean(page);
    await ctx.close();
  });

  test('bulk confirm of 500 events: one request, one audit row with the count', async () => {
    const kind = await postEvents(500, 'bulk');
    const { ctx, page } = await open(browser);
    await login(page);
    await openEvents(page, `?kind=${kind}&state=unconfirmed`);
    assert.equal(await page.locator('.ev-row').count(), 100, 'the first page');
    await page.getByRole('button', { name: 'Load older events' }).click();
    await page.locator('.ev-row').nth(199).waitFor();
    assert.equal(await page.locator('.ev-row').count(), 200, 'two pages, no row twice');
    await page.locator('.select-all input').check();
    await page.locator('.select-all', { hasText: '200 selected' }).waitFor();
    await page.getByRole('button', { name: 'Select every event matching the filter' }).click();
    await page.locator('.select-all', { hasText: 'All 500 events matching the filter' }).waitFor();
    const sent = [];
    page.on('request', (r) => {
      if (r.url().endsWith('/api/v1/events/state')) sent.push(r.postDataJSON());
    });
    await page.getByRole('button', { name: 'Confirm', exact: true }).click();
    await page.locator('.bulk-status', { hasText: '500 events changed' }).waitFor();
    assert.equal(sent.length, 1, 'one request');
    assert.equal(sent[0].filter.kind, kind);
    await page.locator('.events-empty').waitFor(); // none unconfirmed are left
    const evs = await listKind(kind);
    assert.equal(evs.filter((e) => e.state === 'confirmed').length, 500);

    // The audit log (read by an auditor: administrators do not read it).
    const auditor = `auditor${Date.now()}`;
    await call(rest, 'POST', '/api/v1/users', { user: auditor, password: env.password, roles: ['auditor'] });
    const aud = await apiAs(auditor, env.password);
    const { entries } = await call(aud, 'GET', `/api/v1/audit?action=${encodeURIComponent('POST /api/v1/events/state')}&limit=10000`);
    const rows = entries.filter((e) => e.action === 'POST /api/v1/events/state' && (e.detail ?? '').includes(kind));
    assert.equal(rows.length, 1, `one audit row for the bulk change: ${JSON.stringify(rows)}`);
    assert.match(rows[0].detail, /500 events changed/);
    assert.equal(rows[0].user, env.user);
    await aud.dispose();
    assertClean(page);
    await ctx.close();
  });
});

test('a viewer of one scope sees only its events, and a refused change is said, not blank', async () => {
  const stamp = Date.now();
  const role = `viewer_a_${stamp}`;
  const user = `viewer${stamp}`;
  await call(rest, 'POST', '/api/v1/roles', { name: role, scopes: ['system-a'], privileges: { monitor_results: ['read'] } });
  await call(rest, 'POST', '/api/v1/users', { user, password: env.password, roles: [role] });
  const { ctx, page } = await open(browser);
  page.expectFailure(/\/api\/v1\/cluster$/); // a viewer may not read it: the header uses /healthz
  await page.goto(`${env.url}/login`);
  await page.locator('#login-user').fill(user);
  await page.locator('#login-password').fill(env.password);
  await page.locator('form button[type=submit]').click();
  await page.locator('.shell main h1').waitFor();
  // The seeded events put db-primary in system-a, web1 and router-tokyo-01 elsewhere.
  await openEvents(page, '?kind=test.ui');
  const nodes = await page.locator('.ev-row .ev-node').allInnerTexts();
  assert.equal(nodes.length, 40, 'the 40 seeded events of system-a');
  assert.deepEqual([...new Set(nodes)], ['db-primary']);
  await page.locator('.ev-row .ev-open').first().click();
  await page.locator('.event-detail .kv').getByText('system-a', { exact: true }).waitFor();
  page.expectFailure(/\/api\/v1\/events\/state$/);
  await page.getByRole('button', { name: 'Confirm', exact: true }).click();
  await page.getByRole('alert').filter({ hasText: 'Your roles do not allow this' }).waitFor();
  assert.equal(await page.locator('.ev-row').count(), 40, 'the list stays');
  await view(page, 'events-viewer-refused-en-light-desktop');
  assertClean(page);
  await ctx.close();
});

const words = {
  en: { title: 'Events', until: 'Until', later: 'must be later' },
  ja: { title: 'イベント', until: '終了日時', later: '開始日時より後' },
};

describe('event console, every language, theme and device', () => {
  for (const lang of ['en', 'ja']) {
    for (const scheme of ['light', 'dark']) {
      for (const device of ['desktop', 'phone']) {
        test(`${lang} ${scheme} ${device}`, async () => {
          const { ctx, page } = await open(browser, { lang, scheme, device });
          await login(page);
          await openEvents(page, '?kind=test.ui'); // the seeded events: every priority
          assert.equal(await page.locator('main h1').innerText(), words[lang].title);
          assert.ok((await page.locator('.ev-row.sev-critical').count()) > 0, 'critical rows are coloured');
          await assertNoSideScroll(page);
          await assertTranslated(page, lang);
          await view(page, `events-${lang}-${scheme}-${device}`);
          await page.locator('.ev-row .ev-open').nth(1).click();
          await page.locator('.event-detail .kv').waitFor();
          await assertNoSideScroll(page);
          await assertTranslated(page, lang);
          await view(page, `events-detail-${lang}-${scheme}-${device}`);
          await page.locator('.event-detail-head button').click();
          if (device === 'desktop') {
            // a range that ends before it starts is refused, naming the field
            if (!(await page.locator('.more-filters').evaluate((d) => d.open))) await page.locator('.more-filters summary').click();
            await page.locator('#events-since').fill('2026-11-02T10:00');
            await page.locator('#events-until').fill('2026-11-01T10:00');
            await page.getByRole('button', { name: lang === 'en' ? 'Apply' : '適用', exact: true }).click();
            const err = await page.locator('#events-until-error').innerText();
            assert.match(err, new RegExp(words[lang].until));
            assert.match(err, new RegExp(words[lang].later));
            assert.equal(new URL(page.url()).search, '?kind=test.ui', 'nothing applied');
          }
          assertClean(page);
          await ctx.close();
        });
      }
    }
  }
});
