// The server-sent-event parser of the live transport (src/live/sse.ts),
// compiled with esbuild and fed the way a network delivers: in pieces.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { before, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ui = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
let SseParser;

before(async () => {
  const { transformSync } = await import('esbuild');
  const { code } = transformSync(readFileSync(join(ui, 'src', 'live', 'sse.ts'), 'utf8'), { loader: 'ts', format: 'esm' });
  const file = join(mkdtempSync(join(tmpdir(), 'mamori-ui-')), 'sse.mjs');
  writeFileSync(file, code);
  ({ SseParser } = await import(pathToFileURL(file).href));
});

const stream =
  'event: ready\nid: e0.m0\ndata: {"topics":["events"]}\n\n' +
  ': heartbeat\n\n' +
  'event: event\r\nid: e5.m0\r\ndata: {"uid":"a"}\r\n\r\n' +
  'event: cluster\ndata: {"role":"active"}\n\n' +
  'data: one\ndata: two\n\n';

const want = [
  { event: 'ready', id: 'e0.m0', data: '{"topics":["events"]}' },
  { event: 'event', id: 'e5.m0', data: '{"uid":"a"}' },
  { event: 'cluster', id: undefined, data: '{"role":"active"}' },
  { event: 'message', id: undefined, data: 'one\ntwo' },
];

test('whole stream', () => {
  assert.deepEqual(new SseParser().feed(stream), want);
});

test('every split point', () => {
  for (let i = 0; i <= stream.length; i++) {
    const p = new SseParser();
    const got = [...p.feed(stream.slice(0, i)), ...p.feed(stream.slice(i))];
    assert.deepEqual(got, want, `split at ${i}`);
  }
});

test('an unfinished event is not delivered', () => {
  assert.deepEqual(new SseParser().feed('event: event\nid: e1.m0\ndata: {}\n'), []);
});
