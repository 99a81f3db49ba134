// Every error code the API can answer (the ErrorCode enum of the generated
// types, from api/answers.go through the OpenAPI document) has words in
// both catalogues, so ErrorPanel never falls back to "HTTP n" for a code
// the appliance documents.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const read = (p) => readFileSync(new URL(p, import.meta.url), 'utf8');

test('every documented error code has words in en and ja', () => {
  const m = read('../../src/api/types.gen.ts').match(/export type ErrorCode = ([^;]+);/);
  assert.ok(m, 'types.gen.ts declares ErrorCode');
  const codes = [...m[1].matchAll(/'([\w]+)'/g)].map((x) => x[1]);
  assert.ok(codes.length > 10, `only ${codes.length} codes`);
  for (const lang of ['en', 'ja']) {
    const cat = JSON.parse(read(`../../src/i18n/${lang}.json`));
    const missing = codes.filter((c) => !(`error.code.${c}` in cat));
    assert.deepEqual(missing, [], `error codes without a ${lang}.json key error.code.<code>`);
  }
});
