// Calendars and maintenance windows in Chromium against a real pair
// (test/e2e/ui_maintenance_test.go seeds node web1 in scope A and checks
// afterwards, through the API, the windows these forms made): a calendar
// with a holiday and its week-grid preview; a quick mute, ended early; a
// weekly, a calendar and a one-off window through the form; bad input
// refused naming the field; both screens in English and Japanese, light
// and dark, desktop and phone.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertClean, assertFocused, assertNoSideScroll, assertTranslated, launch, login, open, shot, env } from '../harness.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** A date in Tokyo (the browser's zone in these tests), days from today, as YYYY-MM-DD. */
const tokyoDate = (days) => new Date(Date.now() + days * 86400e3).toLocaleDateString('sv-SE', { timeZone: 'Asia/Tokyo' });

async function visit(page, path, ready) {
  await page.goto(`${env.url}${path}`);
  await page.locator('.shell main h1').waitFor();
  await page.locator(ready).first().waitFor();
  await page.waitForFunction(() => !document.querySelector('main .loading'));
}

describe('calendars and maintenance windows', () => {
  test('a calendar with a holiday, previewed and saved', async () => {
    const { ctx, page } = await open(browser);
    await login(page);
    await visit(page, '/calendars', '#cal-form');
    await page.locator('#cal-id').fill('office');
    await page.locator('#cal-name').fill('Tokyo office');
    await page.locator('#cal-time_zone').fill('Asia/Tokyo');
    // The preview follows the form: office hours on weekdays.
    await page.locator('#cal-preview .week-row[data-date]').first().waitFor();
    assert.equal(await page.locator('#cal-preview .week-row[data-date]').count(), 7);
    // A holiday tomorrow: closed all day, named in the preview.
    const holiday = tokyoDate(1);
    await page.locator('#cal-add-rule').click();
    await page.locator('#cal-rule-0-name').fill('Foundation Day');
    await page.locator('#cal-rule-0-date').fill(holiday);
    const row = page.locator(`#cal-preview .cal-preview[data-fresh="true"] .week-row[data-date="${holiday}"]`);
    await row.locator('.week-source', { hasText: 'Foundation Day' }).waitFor();
    assert.equal(await row.locator('.week-cell.open').count(), 0, 'the holiday has no open hour');
    // A weekday's hours as typed: 09:00-18:00 is 9 open hours in the grid.
    await page.locator('#cal-week-mon').fill('09:00-18:00');
    await page.locator('#cal-week-tue').fill('9 to 5');
    await page.locator('#cal-preview', { hasText: 'Correct the form' }).waitFor();
    await page.locator('form[aria-label="New calendar"] button[type=submit]').click();
    await page.locator('#cal-week-tue-error').waitFor();
    assert.match(await page.locator('#cal-week-tue-error').innerText(), /Tue/);
    await assertFocused(page, 'cal-week-tue');
    await page.locator('#cal-week-tue').fill('09:00-12:00, 13:00-18:00');
    // The appliance refuses what the browser cannot know: an unknown zone, on its field.
    await page.locator('#cal-time_zone').fill('Tokyo/Somewhere');
    page.expectFailure(/\/api\/v1\/calendars/);
    await page.locator('form[aria-label="New calendar"] button[type=submit]').click();
    await page.locator('#cal-time_zone-error').waitFor();
    await page.locator('#cal-time_zone').fill('Asia/Tokyo');
    await page.locator('#cal-preview .cal-preview[data-fresh="true"]').waitFor();
    const mondays = page.locator('#cal-preview .week-row[data-date]', { has: page.locator('strong', { hasText: /^Mon$/ }) });
    if (holiday !== (await mondays.first().getAttribute('data-date'))) {
      assert.equal(await mondays.first().locator('.week-cell.open').count(), 9, 'Monday 09:00-18:00 is nine open hours');
    }
    assert.ok((await page.locator('.cal-transitions li').count()) > 0, 'next transitions listed');
    // Japan's public holidays, added as rules: fixed ones, Happy Mondays, equinoxes.
    await page.locator('#cal-add-holidays').click();
    await page.locator('#cal-holidays-added', { hasText: 'holiday rules added' }).waitFor();
    const names = await page.locator('input[id^="cal-rule-"][id$="-name"]').evaluateAll((els) => els.map((e) => e.value));
    for (const n of ['元日 New Year\'s Day', '成人の日 Coming of Age Day', '春分の日 Vernal Equinox Day']) assert.ok(names.includes(n), `${n} in ${names}`);
    await page.locator('#cal-preview .cal-preview[data-fresh="true"]').waitFor();
    await page.locator('form[aria-label="New calendar"] button[type=submit]').click();
    await page.locator('.notice', { hasText: 'Calendar office saved' }).waitFor();
    await page.locator('#cal-list tr[data-calendar="office"]').waitFor();
    await shot(page, 'calendars-en-light-desktop');
    assertClean(page);
    await ctx.close();
  });

  test('mute a node for two hours, then end it', async () => {
    const { ctx, page } = await open(browser);
    await login(page);
    await visit(page, '/maintenance', '#maint-mute');
    await page.locator('#mute-submit').click();
    await page.locator('#mute-target-error').waitFor(); // nothing named
    // Another screen links here with the target filled in; the reason is asked.
    await visit(page, '/maintenance?mute=node&target=web1', '#maint-mute');
    assert.equal(await page.locator('#mute-target').inputValue(), 'web1');
    await assertFocused(page, 'mute-reason');
    await page.locator('#mute-duration').selectOption('2');
    await page.locator('#mute-reason').fill('kernel update');
    await page.locator('#mute-submit').click();
    await page.locator('.notice', { hasText: 'web1 is muted until' }).waitFor();
    const row = page.locator('#maint-list tr[data-status="active"]', { hasText: 'mute node web1' });
    await row.waitFor();
    assert.match(await row.innerText(), /kernel update/);
    // A node the appliance does not know is refused on the field.
    page.expectFailure(/\/api\/v1\/maintenance\/mute/);
    await page.locator('#mute-target').fill('no-such-node');
    await page.locator('#mute-reason').fill('x');
    await page.locator('#mute-submit').click();
    await page.locator('main .error-panel, #mute-target-error').first().waitFor();
    await shot(page, 'maintenance-muted-en-light-desktop');
    await row.locator('button', { hasText: 'End now' }).click();
    await page.locator('.notice', { hasText: 'ended' }).waitFor();
    await page.locator('#maint-tab-past').click();
    await page.locator('#maint-list tr[data-status="past"]', { hasText: 'mute node web1' }).waitFor();
    assertClean(page);
    await ctx.close();
  });

  test('a weekly, a calendar and a one-off window through the form', async () => {
    const { ctx, page } = await open(browser);
    await login(page);
    await visit(page, '/maintenance', '#maint-form');
    const save = () => page.locator('form[aria-label="New window"] button[type=submit]').click();
    // Nothing to mute, no times: refused naming the fields.
    await page.locator('#maint-id').fill('upgrade');
    await page.locator('#maint-name').fill('checker upgrade');
    await save();
    await page.locator('#maint-nodes-error').waitFor();
    await assertFocused(page, 'maint-nodes');
    await page.locator('#maint-nodes').fill('web1');
    await page.locator('#maint-from').fill(`${tokyoDate(2)}T12:00`);
    await page.locator('#maint-to').fill(`${tokyoDate(2)}T10:00`);
    await save();
    await page.locator('#maint-to-error').waitFor();
    await page.locator('#maint-to').fill(`${tokyoDate(2)}T14:00`);
    await page.locator('#maint-scope').fill('A');
    await save();
    await page.locator('.notice', { hasText: 'Window upgrade saved' }).waitFor();
    await page.locator('#maint-tab-upcoming').click();
    await page.locator('#maint-list tr[data-window="upgrade"][data-status="upcoming"]').waitFor();

    await page.locator('#maint-kind').selectOption('weekly');
    await page.locator('#maint-id').fill('backup');
    await page.locator('#maint-name').fill('Saturday backups');
    await page.locator('#maint-scope').fill('A');
    await page.locator('#maint-nodes').fill('web1');
    await page.locator('#maint-start').fill('22:00');
    await page.locator('#maint-end').fill('22:00');
    await save();
    await page.locator('#maint-end-error').waitFor(); // an empty window
    await page.locator('#maint-end').fill('02:00');
    await page.locator('#maint-time_zone').fill('America/New_York');
    await save();
    await page.locator('.notice', { hasText: 'Window backup saved' }).waitFor();

    await page.locator('#maint-kind').selectOption('calendar');
    await page.locator('#maint-id').fill('nights');
    await page.locator('#maint-name').fill('batch nights');
    await page.locator('#maint-scope').fill('A');
    await page.locator('#maint-scopes').fill('A');
    await save();
    await page.locator('#maint-calendar-error').waitFor();
    await page.locator('#maint-calendar').selectOption('office');
    await page.locator('#maint-inside').selectOption('outside');
    await save();
    await page.locator('.notice', { hasText: 'Window nights saved' }).waitFor();

    await page.locator('#maint-tab-all').click();
    for (const id of ['upgrade', 'backup', 'nights']) await page.locator(`#maint-list tr[data-window="${id}"]`).waitFor();
    assert.match(await page.locator('#maint-list tr[data-window="backup"]').innerText(), /Sat, 22:00–02:00 \(America\/New_York\)/);
    assert.match(await page.locator('#maint-list tr[data-window="nights"]').innerText(), /Outside the business hours of calendar office/);
    // The calendar a window follows cannot be deleted: the appliance says which window.
    await visit(page, '/calendars', '#cal-list tr[data-calendar="office"]');
    page.once('dialog', (d) => void d.accept());
    page.expectFailure(/\/api\/v1\/calendars\/office/);
    await page.locator('#cal-list tr[data-calendar="office"] button.danger').click();
    await page.locator('main', { hasText: 'maintenance window nights' }).waitFor();
    assertClean(page);
    await ctx.close();
  });
});

describe('both screens in every language, theme and device', () => {
  for (const lang of ['en', 'ja']) {
    for (const scheme of ['light', 'dark']) {
      for (const device of ['desktop', 'phone']) {
        test(`${lang} ${scheme} ${device}`, async () => {
          const { ctx, page } = await open(browser, { lang, scheme, device });
          await login(page);
          await visit(page, '/maintenance', '#maint-list .tabs');
          await page.locator('#maint-tab-all').click();
          await assertNoSideScroll(page);
          await assertTranslated(page, lang);
          await shot(page, `maintenance-${lang}-${scheme}-${device}`);
          await visit(page, '/calendars', '#cal-list table');
          await page.locator('#cal-list tr[data-calendar="office"] button').first().click();
          await page.locator('#cal-preview .cal-preview[data-fresh="true"]').waitFor();
          await assertNoSideScroll(page);
          await assertTranslated(page, lang);
          await shot(page, `calendars-${lang}-${scheme}-${device}`);
          assertClean(page);
          await ctx.close();
        });
      }
    }
  }
});
