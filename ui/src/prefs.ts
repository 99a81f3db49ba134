// Display preferences, kept in this browser (localStorage): the colour
// theme (light, dark, or the system's) and a high-contrast variant of
// either. They apply as data attributes on <html>; styles/theme.css does
// the rest, so no style is ever set inline.

import { effect, signal } from '@preact/signals';

export type Theme = 'system' | 'light' | 'dark';
export type Contrast = 'normal' | 'high';

export const themes: readonly Theme[] = ['system', 'light', 'dark'];

const themeKey = 'mamori.theme';
const contrastKey = 'mamori.contrast';

function saved<T extends string>(key: string, allowed: readonly T[], fallback: T): T {
  const v = localStorage.getItem(key);
  return allowed.find((a) => a === v) ?? fallback;
}

export const theme = signal<Theme>(saved(themeKey, themes, 'system'));
export const contrast = signal<Contrast>(saved(contrastKey, ['normal', 'high'] as const, 'normal'));

/** The theme in effect: the system's when theme is 'system'. */
const dark = matchMedia('(prefers-color-scheme: dark)');
export const systemDark = signal(dark.matches);
dark.addEventListener('change', () => {
  systemDark.value = dark.matches;
});

export function effectiveTheme(): 'light' | 'dark' {
  const t = theme.value;
  return t === 'system' ? (systemDark.value ? 'dark' : 'light') : t;
}

export function setTheme(t: Theme): void {
  localStorage.setItem(themeKey, t);
  theme.value = t;
}

export function setContrast(c: Contrast): void {
  localStorage.setItem(contrastKey, c);
  contrast.value = c;
}

/** Keeps <html>'s attributes in step with the preferences. */
export function applyPrefs(root: HTMLElement = document.documentElement): () => void {
  return effect(() => {
    root.dataset.theme = effectiveTheme();
    root.dataset.contrast = contrast.value;
  });
}
