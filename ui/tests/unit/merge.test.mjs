// How the event console's rows follow a fresh newest page
// (src/live/mergeNewest.ts, compiled with esbuild and imported).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { before, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ui = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
let mergeNewest;

before(async () => {
  const { transformSync } = await import('esbuild');
  const { code } = transformSync(readFileSync(join(ui, 'src', 'live', 'mergeNewest.ts'), 'utf8'), { loader: 'ts', format: 'esm' });
  const file = join(mkdtempSync(join(tmpdir(), 'mamori-ui-')), 'merge.mjs');
  writeFileSync(file, code);
  ({ mergeNewest } = await import(pathToFileURL(file).href));
});

const ev = (id, state = 'unconfirmed') => ({ id, uid: `u${id}`, at: '', severity: 'info', kind: 'k', node: 'n', message: 'm', state });
const ids = (rows) => rows.map((e) => e.id);

test('new events go on top; older rows loaded with "load more" stay', () => {
  const rows = [ev(10), ev(9), ev(8), ev(5), ev(4)]; // 5 and 4 from an older page
  const page = [ev(12), ev(11), ev(10), ev(9), ev(8)];
  assert.deepEqual(ids(mergeNewest(rows, page, false)), [12, 11, 10, 9, 8, 5, 4]);
});

test('a row in the page\'s range that left it no longer matches: it goes', () => {
  const rows = [ev(10), ev(9), ev(8), ev(3)];
  assert.deepEqual(ids(mergeNewest(rows, [ev(11), ev(10), ev(8)], false)), [11, 10, 8, 3]);
});

test('the page\'s rows replace the shown ones (a new state)', () => {
  const out = mergeNewest([ev(2), ev(1)], [ev(2, 'confirmed'), ev(1)], false);
  assert.equal(out[0].state, 'confirmed');
});

test('a complete page (no more) is the whole list; an empty one empties it', () => {
  assert.deepEqual(ids(mergeNewest([ev(9), ev(3)], [ev(9)], true)), [9]);
  assert.deepEqual(ids(mergeNewest([ev(9), ev(3)], [], true)), []);
  assert.deepEqual(ids(mergeNewest([ev(9), ev(3)], [], false)), [9, 3]);
});
