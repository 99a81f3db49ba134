// The message catalogues are complete and the screens speak only through
// them: run with `node --test tests/unit/` (make ui-unit; no packages needed).
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ui = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const src = join(ui, 'src');
const catalogues = {
  en: JSON.parse(readFileSync(join(src, 'i18n', 'en.json'), 'utf8')),
  ja: JSON.parse(readFileSync(join(src, 'i18n', 'ja.json'), 'utf8')),
};

function sources(dir = src) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return /\.(ts|tsx)$/.test(name) ? [p] : [];
  });
}

const placeholders = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

test('every key is in both languages, with text and the same placeholders', () => {
  const problems = [];
  for (const [a, b] of [['en', 'ja'], ['ja', 'en']]) {
    for (const key of Object.keys(catalogues[a])) {
      if (!(key in catalogues[b])) problems.push(`${key}: in ${a}.json, missing from ${b}.json`);
    }
  }
  for (const [l, cat] of Object.entries(catalogues)) {
    for (const [key, text] of Object.entries(cat)) {
      if (typeof text !== 'string' || !text.trim()) problems.push(`${key}: empty in ${l}.json`);
    }
  }
  for (const key of Object.keys(catalogues.en)) {
    if (key in catalogues.ja && placeholders(catalogues.en[key]).join() !== placeholders(catalogues.ja[key]).join()) {
      problems.push(`${key}: placeholders differ: en {${placeholders(catalogues.en[key])}} ja {${placeholders(catalogues.ja[key])}}`);
    }
  }
  assert.deepEqual(problems, []);
});

test('Japanese strings are translated, not copied from English', () => {
  // Names, units and codes may be the same in both; prose may not.
  const same = Object.keys(catalogues.en).filter(
    (k) => catalogues.en[k] === catalogues.ja[k] && /[a-z]{4,}\s+[a-z]{3,}/i.test(catalogues.en[k]),
  );
  assert.deepEqual(same, []);
});

test('every key the code names exists, and every key is used', () => {
  const used = new Set();
  const prefixes = new Set();
  const missing = [];
  for (const file of sources()) {
    const text = readFileSync(file, 'utf8');
    // t('a.b'), tOr('a.b', …), title: 'a.b' in route tables
    for (const m of text.matchAll(/\b(?:t|tOr)\(\s*'([\w.]+)'|\btitle: '([\w.]+)'/g)) {
      const key = m[1] ?? m[2];
      used.add(key);
      if (!(key in catalogues.en)) missing.push(`${relative(ui, file)}: ${key}`);
    }
    // t(cond ? 'a.b' : 'a.c'): any quoted key counts as used
    for (const m of text.matchAll(/'([\w]+\.[\w.]+)'/g)) used.add(m[1]);
    // t(`role.${role}`): every key under the prefix counts as used
    for (const m of text.matchAll(/\b(?:t|tOr)\(\s*`([\w.]+)\$\{/g)) prefixes.add(m[1]);
  }
  assert.deepEqual(missing, [], 'keys used in code but missing from en.json');
  const unused = Object.keys(catalogues.en).filter((k) => !used.has(k) && ![...prefixes].some((p) => k.startsWith(p)));
  assert.deepEqual(unused, [], 'keys in the catalogues that no code uses');
});

test('screens show no literal text outside the catalogues', () => {
  // JSX text between tags, and user-visible attributes given as literals.
  // Brand and product names and symbols are allowed.
  const allowed = new Set(['mamori', 'mamori recover', 'mamori pair init', 'mamori switchover', '—', '…']);
  const found = [];
  for (const file of sources().filter((f) => f.endsWith('.tsx'))) {
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, i) => {
      const where = `${relative(ui, file)}:${i + 1}`;
      // (not after "=": an arrow function's type, `() => Promise<T>`)
      for (const m of line.matchAll(/(?<!=)>([^<>{}]*[\p{L}][^<>{}]*)</gu)) {
        const text = m[1].trim();
        if (text && !allowed.has(text) && !/=>|&&|\|\||[=;()]/.test(m[1])) found.push(`${where}: ${text}`);
      }
      // text on its own line between JSX tags
      const own = line.trim();
      if (/^[\p{L}][^<>{}=;()'"`:]*$/u.test(own) && !/^(return|const|let|import|export|if|else|case|default|type|interface)\b/.test(own)) {
        const prev = lines[i - 1]?.trim() ?? '';
        if (prev.endsWith('>') && !allowed.has(own)) found.push(`${where}: ${own}`);
      }
      for (const m of line.matchAll(/\b(title|placeholder|aria-label|alt|label)="([^"]*\p{L}[^"]*)"/gu)) {
        found.push(`${where}: ${m[1]}="${m[2]}"`);
      }
    });
  }
  assert.deepEqual(found, []);
});
