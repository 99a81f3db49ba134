// Shared pieces of the browser tests: Debian's Chromium driven by
// playwright-core (never a downloaded browser), a page that fails the test
// on any console error, page error or Content-Security-Policy violation,
// and screenshots saved as artefacts.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const env = {
  url: need('MAMORI_UI_URL'),
  /** The other appliance of the pair (standby), if any. */
  peerUrl: process.env.MAMORI_UI_PEER_URL ?? '',
  user: need('MAMORI_UI_USER'),
  password: need('MAMORI_UI_PASSWORD'),
  artifacts: process.env.MAMORI_UI_ARTIFACTS ?? join(process.cwd(), '..', 'test', 'artifacts', 'ui'),
  chromium: process.env.MAMORI_CHROMIUM ?? '/usr/bin/chromium',
};

function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the browser tests through \`make ui-test\` (test/e2e/ui_test.go starts mamori and sets it)`);
  return v;
}

export const devices = {
  desktop: { viewport: { width: 1366, height: 900 } },
  phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
};

// The flags that work on these machines: no sandbox (root), no GPU, and
// nothing that calls out to Google's hosts (the network is closed).
const flags = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launch() {
  mkdirSync(env.artifacts, { recursive: true });
  // playwright-core gives each launch a fresh, empty profile directory.
  return chromium.launch({ executablePath: env.chromium, headless: true, args: flags });
}

/**
 * A browser context in a language, colour scheme and device, whose pages
 * record every console error, page error and CSP violation. `expect`
 * lists failed requests a test provokes on purpose (a wrong password,
 * an injected 500), as [method, path, status] regexps.
 */
export async function open(browser, { lang = 'en', scheme = 'light', device = 'desktop' } = {}) {
  const ctx = await browser.newContext({
    ...devices[device],
    ignoreHTTPSErrors: true, // the appliance's own certificate
    locale: lang === 'ja' ? 'ja-JP' : 'en-US',
    colorScheme: scheme,
    timezoneId: 'Asia/Tokyo',
  });
  const page = await ctx.newPage();
  const problems = [];
  const expected = [];
  page.expectFailure = (re) => expected.push(re);
  await page.exposeBinding('__cspViolation', (_src, v) => problems.push(`CSP violation: ${v}`));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolation(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error' && m.type() !== 'warning') return;
    const where = m.location()?.url ?? '';
    // Chromium logs every 4xx/5xx answer as "Failed to load resource".
    if (/Failed to load resource/.test(m.text()) && expected.some((re) => re.test(where))) return;
    problems.push(`console ${m.type()}: ${m.text()} (${where})`);
  });
  page.problems = problems;
  return { ctx, page };
}

/** Fails the test if the page saw an error it did not expect. */
export function assertClean(page) {
  assert.deepEqual(page.problems, [], 'console errors, page errors or CSP violations');
}

export async function shot(page, name) {
  await page.evaluate(() => document.fonts.ready);
  await page.screenshot({ path: join(env.artifacts, `${name}.png`), fullPage: true });
}

export async function login(page, url = env.url) {
  await page.goto(`${url}/login`);
  await page.locator('#login-user').fill(env.user);
  await page.locator('#login-password').fill(env.password);
  await page.locator('form button[type=submit]').click();
  await page.locator('.shell main h1').waitFor();
}

/** The page is no wider than the screen (nothing cut off or scrolling sideways). */
export async function assertNoSideScroll(page) {
  const { scroll, width } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    width: window.innerWidth,
  }));
  assert.ok(scroll <= width + 1, `the page is ${scroll}px wide on a ${width}px screen`);
}

/** No catalogue key, placeholder or "undefined" leaks into the text. */
export async function assertTranslated(page, lang) {
  const text = await page.locator('body').innerText();
  assert.doesNotMatch(text, /\{\w+\}|undefined|NaN|\b[a-z]+\.[a-z]+[A-Z]\w*\b/, 'untranslated text');
  assert.equal(await page.getAttribute('html', 'lang'), lang);
  if (lang === 'ja') assert.match(text, /[\u3040-\u30ff\u4e00-\u9fff]/, 'no Japanese text');
}

/**
 * The element with id gets the focus within a few seconds: screens move the
 * focus after they paint (a setTimeout or an effect), so reading
 * document.activeElement at once races them.
 */
export async function assertFocused(page, id, message = `focus on #${id}`) {
  try {
    await page.waitForFunction((want) => document.activeElement?.id === want, id, { timeout: 5000 });
  } catch {
    assert.equal(await page.evaluate(() => document.activeElement?.id), id, message);
  }
}
