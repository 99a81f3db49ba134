// ui_console_first_render_ms: the time from navigating to /events to the
// first rows painted, in Chromium, against an appliance holding 10,000
// events (test/bench/ui_bench_test.go starts it and reads the last line).
// Each run is a fresh page in a logged-in browser (the bundle cached, as
// for an operator coming back); the first, cold run is measured too.
import { launch, login, open } from '../harness.mjs';
import { env } from '../harness.mjs';

const runs = Number(process.env.MAMORI_UI_BENCH_RUNS ?? 7);

// In the page: when the first row is in the DOM, the next frame paints it;
// the time is since the navigation started (performance.now()).
function watchFirstRow() {
  const seen = () => {
    if (!document.querySelector('.ev-row')) return false;
    requestAnimationFrame(() => setTimeout(() => (window.__firstRowsMs = performance.now()), 0));
    return true;
  };
  const obs = new MutationObserver(() => seen() && obs.disconnect());
  document.addEventListener('DOMContentLoaded', () => {
    if (!seen()) obs.observe(document.body, { childList: true, subtree: true });
  });
}

const browser = await launch();
const { ctx, page } = await open(browser);
await login(page);
await ctx.addInitScript(watchFirstRow);
const times = [];
for (let i = 0; i < runs; i++) {
  const p = await ctx.newPage();
  await p.goto(`${env.url}/events`);
  await p.waitForFunction(() => window.__firstRowsMs !== undefined, null, { timeout: 30000 });
  const ms = await p.evaluate(() => window.__firstRowsMs);
  const rows = await p.locator('.ev-row').count();
  if (rows === 0) throw new Error('no rows painted');
  times.push(ms);
  await p.close();
}
await browser.close();
const sorted = [...times].sort((a, b) => a - b);
console.log(`runs (ms): ${times.map((t) => t.toFixed(0)).join(', ')}`);
console.log(`FIRST_RENDER_MS ${sorted[Math.floor(sorted.length / 2)].toFixed(1)} ${sorted[sorted.length - 1].toFixed(1)}`);
