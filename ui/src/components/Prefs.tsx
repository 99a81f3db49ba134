import { languages, lang, setLang, t, type Lang } from '../i18n';
import { contrast, setContrast, setTheme, theme, themes, type Theme } from '../prefs';

/** Theme, contrast and language: in the header menu and on the login screen. */
export function Prefs({ idPrefix }: { idPrefix: string }) {
  return (
    <div class="prefs">
      <div class="pref">
        <label for={`${idPrefix}-theme`}>{t('prefs.theme')}</label>
        <select id={`${idPrefix}-theme`} value={theme.value} onChange={(e) => setTheme(e.currentTarget.value as Theme)}>
          {themes.map((th) => (
            <option key={th} value={th}>
              {t(`prefs.theme.${th}`)}
            </option>
          ))}
        </select>
      </div>
      <div class="pref">
        <label for={`${idPrefix}-lang`}>{t('prefs.language')}</label>
        <select id={`${idPrefix}-lang`} value={lang.value} onChange={(e) => setLang(e.currentTarget.value as Lang)}>
          {languages.map((l) => (
            <option key={l} value={l} lang={l}>
              {t(`prefs.language.${l}`)}
            </option>
          ))}
        </select>
      </div>
      <div class="pref check">
        <input
          id={`${idPrefix}-contrast`}
          type="checkbox"
          checked={contrast.value === 'high'}
          onChange={(e) => setContrast(e.currentTarget.checked ? 'high' : 'normal')}
        />
        <label for={`${idPrefix}-contrast`}>{t('prefs.highContrast')}</label>
      </div>
    </div>
  );
}
