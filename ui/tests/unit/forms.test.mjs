// The settings forms' shared checks (src/forms.ts): Go regular expressions
// as far as the browser can tell, ids as the appliance accepts them, times,
// and which field an appliance's refusal names. src/forms.ts is bundled
// with esbuild (from the console's packages) and imported, with the
// catalogue in English.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { before, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ui = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
let forms;
let ApiError;

before(async () => {
  // What the catalogue module reads when it loads.
  globalThis.localStorage ??= { getItem: () => 'en', setItem: () => undefined };
  const { build } = await import('esbuild');
  const entry = `export * from ${JSON.stringify(join(ui, 'src', 'forms.ts'))}; export { ApiError } from ${JSON.stringify(join(ui, 'src', 'api', 'client.ts'))};`;
  const out = await build({ stdin: { contents: entry, resolveDir: ui, loader: 'ts' }, bundle: true, format: 'esm', write: false, platform: 'neutral', logLevel: 'silent' });
  const file = join(mkdtempSync(join(tmpdir(), 'mamori-ui-')), 'forms.mjs');
  writeFileSync(file, out.outputFiles[0].text);
  ({ ApiError, ...forms } = await import(pathToFileURL(file).href));
});

test('regular expressions: Go flags and named groups pass, broken ones are named', () => {
  for (const ok of ['(?i)disk.*full', '(?P<dev>sd[a-z])', '^kernel: ', '']) assert.equal(forms.badRegexp('Pattern', ok), undefined, ok);
  for (const bad of ['disk (full', '[a-', '*x']) assert.match(forms.badRegexp('Pattern', bad) ?? '', /^Pattern: /, bad);
});

test('ids, lists and times', () => {
  assert.equal(forms.badId('Rule ID', 'disk-full_1.a'), undefined);
  assert.match(forms.badId('Rule ID', '') ?? '', /^Rule ID: enter a value/);
  assert.match(forms.badId('Rule ID', 'has space') ?? '', /^Rule ID: use 1 to 64/);
  assert.match(forms.badId('Rule ID', 'x'.repeat(65)) ?? '', /^Rule ID: /);
  assert.deepEqual(forms.splitList(' a, b,,c '), ['a', 'b', 'c']);
  assert.equal(forms.rfc3339(''), undefined);
  assert.equal(forms.rfc3339('nonsense'), undefined);
  assert.match(forms.rfc3339('2026-11-24T09:00') ?? '', /^2026-11-2\dT\d\d:00:00Z$/);
});

test('a refusal lands on the field it names, the earliest named', () => {
  const fields = { id: 'id', name: 'name', pattern: 'pattern', community_credential: 'community' };
  const refusal = (status, msg) => new ApiError(status, 'bad_request', msg);
  const cases = [
    [400, 'invalid rule: pattern: error parsing regexp: missing closing )', 'pattern'],
    [400, 'invalid: snmp: version 2c needs community_credential', 'community'],
    [400, 'invalid rule: name: required (the pattern is fine)', 'name'],
    [400, 'bad request body: unexpected EOF', undefined],
    [403, 'pattern: forbidden', undefined], // not a field's fault
    [400, 'patterns: at most 4', undefined], // a whole word only
  ];
  for (const [status, msg, want] of cases) assert.equal(forms.refusedField(refusal(status, msg), fields), want, msg);
  assert.equal(forms.refusedField(new Error('pattern'), fields), undefined);
  assert.equal(forms.refusedOn('Message pattern', refusal(400, 'invalid rule: pattern: x')), 'Message pattern: the appliance refused it: invalid rule: pattern: x');
});
