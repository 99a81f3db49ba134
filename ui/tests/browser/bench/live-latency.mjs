// BENCH ui_live_event_latency_ms (test/bench/ui_live_bench_test.go): a
// syslog line sent with `logger` becomes an event through a monitor rule
// and is painted in the event console (/events): the stream says an event
// arrived, the console reads its newest page at once.
// Not a test file: run by the Go benchmark, it prints one JSON line
// {"latencies_ms": [...], "missing": n}. Timed from just before `logger`
// starts to the first animation frame after the row entered the page.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { env, launch, login, open } from '../harness.mjs';

const run = promisify(execFile);
const lines = Number(process.env.MAMORI_BENCH_LINES ?? 100);
const everyMs = Number(process.env.MAMORI_BENCH_EVERY_MS ?? 200);
const [host, port] = (process.env.MAMORI_BENCH_SYSLOG ?? '').split(':');
const tag = `lb${Date.now()}`;

const browser = await launch();
try {
  const { page } = await open(browser);
  await login(page);
  await page.goto(`${env.url}/events`);
  await page.locator('.events-list, .events-empty').first().waitFor();
  await page.locator('.shell[data-live=on]').waitFor();
  await page.evaluate((tag) => {
    const seen = {};
    window.__seen = seen;
    const re = new RegExp(`${tag}-(\\d+)`, 'g');
    new MutationObserver((records) => {
      const found = [];
      for (const r of records) {
        for (const n of r.addedNodes) {
          for (const m of (n.textContent ?? '').matchAll(re)) if (!(m[1] in seen)) found.push(m[1]);
        }
      }
      if (found.length) requestAnimationFrame(() => found.forEach((id) => (seen[id] ??= Date.now())));
    }).observe(document.body, { childList: true, subtree: true, characterData: true });
  }, tag);
  const sent = [];
  for (let i = 0; i < lines; i++) {
    const next = Date.now() + everyMs;
    sent[i] = Date.now();
    await run('logger', ['-n', host, '-P', port, '-d', '--rfc5424=notime,notq', '-t', 'bench', `disk ${tag}-${i} failed`]);
    await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
  }
  // Give the last lines time to arrive.
  const end = Date.now() + 10_000;
  let seen = {};
  while (Date.now() < end) {
    seen = await page.evaluate(() => window.__seen);
    if (Object.keys(seen).length >= lines) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const latencies = [];
  for (let i = 0; i < lines; i++) if (seen[i] !== undefined) latencies.push(seen[i] - sent[i]);
  console.log(JSON.stringify({ latencies_ms: latencies, missing: lines - latencies.length }));
} finally {
  await browser.close();
}
