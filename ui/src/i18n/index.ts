// Every string the console shows comes from a catalogue: en.json and
// ja.json hold the same keys (tests/unit/catalogue.test.mjs fails when
// one lacks a key, and the type below fails the build when ja.json does).
// The language follows the browser's until the user picks one.

import { signal } from '@preact/signals';
import en from './en.json';
import ja from './ja.json';

export type Lang = 'en' | 'ja';
export type Key = keyof typeof en;
export type Params = Record<string, string | number>;

export const languages: readonly Lang[] = ['en', 'ja'];

// ja.json must hold every key of en.json: a missing one is a type error.
const catalogues: Record<Lang, Record<Key, string>> = { en, ja };

const storageKey = 'mamori.lang';

/** The browser's first language that the console speaks, else English. */
export function browserLang(prefs: readonly string[] = navigator.languages): Lang {
  for (const l of prefs) {
    const base = l.toLowerCase().split('-')[0];
    if (base === 'ja' || base === 'en') return base;
  }
  return 'en';
}

function initialLang(): Lang {
  const saved = localStorage.getItem(storageKey);
  return saved === 'en' || saved === 'ja' ? saved : browserLang();
}

/** The language shown; components that call t() re-render when it changes. */
export const lang = signal<Lang>(initialLang());

export function setLang(l: Lang): void {
  localStorage.setItem(storageKey, l);
  lang.value = l;
}

export function isKey(k: string): k is Key {
  return Object.prototype.hasOwnProperty.call(catalogues.en, k);
}

/** The string for key in the current language, with {name} filled in. */
export function t(key: Key, params?: Params): string {
  const s = catalogues[lang.value][key] || catalogues.en[key] || key;
  if (!params) return s;
  return s.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
}

/** The string for a key made at run time (a role, a code), or fallback. */
export function tOr(key: string, fallback: string, params?: Params): string {
  return isKey(key) ? t(key, params) : fallback;
}

/** BCP 47 locale for Intl formatters. */
export function locale(): string {
  return lang.value === 'ja' ? 'ja-JP' : 'en-GB';
}
