// The notification screens in Chromium against a real appliance
// (test/e2e/ui_notify_test.go), a real SMTP server (STARTTLS, AUTH PLAIN)
// and a real webhook receiver that the Go test started: channels made
// through the forms and tried with "send test notification", a rule on an
// event kind, the log filling as the notifications are sent; bad input
// refused on the field; every tab in English and Japanese, light and
// dark, desktop and phone.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertClean, assertFocused, assertNoSideScroll, assertTranslated, env, launch, login, open, shot } from '../harness.mjs';

const smtp = process.env.MAMORI_NOTIFY_SMTP ?? '';
const smtpCA = process.env.MAMORI_NOTIFY_SMTP_CA ?? '';
const hook = process.env.MAMORI_NOTIFY_HOOK ?? '';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** An element by id (the channel form's ids hold dots: mail.server). */
const byId = (page, id) => page.locator(`[id="${id}"]`);

async function tab(page, name) {
  await page.locator(`#notify-tab-${name}`).click();
  await page.waitForFunction(() => !document.querySelector('main .loading'));
}

describe('notifications end to end', () => {
  test('channels, test send, rule, log', async () => {
    const { ctx, page } = await open(browser);
    await login(page);
    await page.goto(`${env.url}/notifications`);
    assert.equal(await page.locator('main h1').innerText(), 'Notifications');
    await page.locator('#notify-channel-form').waitFor();

    // Client checks first, then the appliance's refusal on its field.
    await page.locator('#notify-channel-form button[type=submit]').click();
    await byId(page, 'nch-id-error').waitFor();
    await assertFocused(page, 'nch-id');
    await byId(page, 'nch-id').fill('ops-mail');
    await byId(page, 'nch-name').fill('Operators by mail');
    await byId(page, 'nch-mail.server').fill('no-port');
    await byId(page, 'nch-mail.from').fill('mamori@example.com');
    await byId(page, 'nch-mail.to').fill('ops@example.com, oncall@example.com');
    page.expectFailure(/\/api\/v1\/notify\/channels$/); // the 400 below, on purpose
    await page.locator('#notify-channel-form button[type=submit]').click();
    const refused = await byId(page, 'nch-mail.server-error').innerText();
    assert.match(refused, /SMTP server/, `the refusal names the field: ${refused}`);
    await assertFocused(page, 'nch-mail.server');

    // The real SMTP server with STARTTLS and AUTH PLAIN; the password is a credential.
    await byId(page, 'nch-mail.server').fill(smtp);
    await byId(page, 'nch-mail.username').fill('alerts');
    await byId(page, 'nch-mail.password_credential').fill('smtp-pass');
    await byId(page, 'nch-mail.ca').fill(smtpCA);
    await page.locator('#notify-test').click();
    const result = page.locator('#notify-test-result');
    await result.waitFor();
    assert.match(await result.innerText(), /took the test notification \(key test-[0-9a-f]+\)/);
    await page.evaluate(() => window.scrollTo(0, 0)); // the sticky header at the top of the shot
    await shot(page, 'notify-channel-mail-tested');
    await page.locator('#notify-channel-form button[type=submit]').click();
    await page.locator('#notify-channels td', { hasText: 'ops-mail' }).first().waitFor();

    // A webhook (Alertmanager) through the same form.
    await byId(page, 'nch-id').fill('am');
    await byId(page, 'nch-type').selectOption('webhook');
    await byId(page, 'nch-webhook.url').fill(hook);
    await byId(page, 'nch-webhook.format').selectOption('alertmanager');
    await page.locator('#notify-channel-form button[type=submit]').click();
    await page.locator('#notify-channels td', { hasText: 'alertmanager:' }).first().waitFor();

    // A rule on an appliance event kind, to both channels.
    await tab(page, 'rules');
    await page.locator('#notify-rule-form button[type=submit]').click();
    await byId(page, 'nrule-id-error').waitFor();
    await byId(page, 'nrule-id').fill('ui-events');
    await byId(page, 'nrule-channels-ops-mail').check();
    await byId(page, 'nrule-channels-am').check();
    await byId(page, 'nrule-events').fill('e2e.ui');
    await byId(page, 'nrule-renotify').selectOption('period');
    await page.locator('#notify-rule-form button[type=submit]').click();
    await byId(page, 'nrule-period-error').waitFor(); // a period is needed for "period"
    await byId(page, 'nrule-period').fill('1h');
    await page.locator('#notify-rule-form button[type=submit]').click();
    await page.locator('#notify-rules td', { hasText: 'ui-events' }).first().waitFor();
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot(page, 'notify-rules-made');

    // An event of that kind (posted as a script would) notifies through both.
    const code = await page.evaluate(async () => {
      const r = await fetch('/api/v1/events', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify([{ uid: 'ui-notify-1', kind: 'e2e.ui', severity: 'critical', node: 'db-1', message: 'database db-1 is down' }]),
      });
      return r.status;
    });
    assert.equal(code, 200);
    await tab(page, 'log');
    for (let i = 0; i < 40; i++) {
      if ((await page.locator('#nlog-table tbody tr .badge.ok').count()) >= 2) break;
      await page.waitForTimeout(500);
      await page.locator('#nlog-refresh').click();
    }
    assert.equal(await page.locator('#nlog-table tbody tr', { hasText: 'database db-1 is down' }).count(), 2);
    assert.equal(await page.locator('#nlog-table tbody tr .badge.ok').count(), 2, 'both notifications sent');
    await shot(page, 'notify-log-sent');
    assertClean(page);
    await ctx.close();
  });
});

const variants = ['en', 'ja'].flatMap((lang) => ['light', 'dark'].flatMap((scheme) => ['desktop', 'phone'].map((device) => ({ lang, scheme, device }))));

describe('every tab, language, theme and device', () => {
  for (const v of variants) {
    test(`${v.lang} ${v.scheme} ${v.device}`, async () => {
      const { ctx, page } = await open(browser, v);
      await login(page);
      await page.goto(`${env.url}/notifications`);
      assert.equal(await page.locator('main h1').innerText(), v.lang === 'en' ? 'Notifications' : '通知');
      for (const name of ['channels', 'rules', 'log']) {
        await tab(page, name);
        await page.locator(name === 'log' ? '#notify-log' : `#notify-${name}`).waitFor();
        await assertNoSideScroll(page);
        await assertTranslated(page, v.lang);
        await page.evaluate(() => window.scrollTo(0, 0));
        await shot(page, `notify-${name}-${v.lang}-${v.scheme}-${v.device}`);
      }
      assertClean(page);
      await ctx.close();
    });
  }
});
