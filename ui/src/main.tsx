// Entry point: styles, preferences, the session, then the app. Nothing
// here is inline in index.html, which the CSP (script-src 'self';
// style-src 'self') would refuse.

import { effect } from '@preact/signals';
import { render } from 'preact';
import { App } from './app';
import { lang } from './i18n';
import { applyPrefs } from './prefs';
import { loadSession } from './session';
import './styles/base.css';
import './styles/theme.css';
import './styles/layout.css';

applyPrefs();
effect(() => {
  document.documentElement.lang = lang.value;
});
void loadSession();

const root = document.getElementById('app');
if (root) render(<App />, root);
