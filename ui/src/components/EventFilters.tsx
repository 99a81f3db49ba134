import { useEffect, useState } from 'preact/hooks';
import type { EventFilter } from '../live/eventList';
import { t } from '../i18n';
import { navigate } from '../router';

/** The filters the console keeps in the URL's query, by parameter. */
export const filterParams = ['severity', 'state', 'scope', 'node', 'kind', 'q', 'since', 'until'] as const;

/** The filter the URL's query names. */
export function filterFromQuery(q: URLSearchParams): EventFilter {
  const f: Record<string, string> = {};
  for (const k of filterParams) {
    const v = q.get(k);
    if (v !== null && v !== '') f[k] = v;
  }
  return f as EventFilter;
}

function toQuery(f: Record<string, string>): string {
  const q = new URLSearchParams();
  for (const k of filterParams) if (f[k]) q.set(k, f[k]);
  const s = q.toString();
  return s ? `/events?${s}` : '/events';
}

/** An RFC 3339 time as the value of a datetime-local input (browser's zone). */
function toLocalInput(rfc: string | undefined): string {
  if (!rfc) return '';
  const d = new Date(rfc);
  if (Number.isNaN(d.getTime())) return '';
  const local = new Date(d.getTime() - d.getTimezoneOffset() * 60000);
  return local.toISOString().slice(0, 16);
}

function fromLocalInput(v: string): string {
  if (!v) return '';
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? 'invalid' : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

type Draft = Record<(typeof filterParams)[number], string>;

/**
 * The filter bar: priority and state apply at once; the text fields and
 * times on Enter or "Apply". Everything lives in the URL, so a filtered
 * view can be bookmarked and shared. The search field is #events-q (the
 * `/` key focuses it).
 */
export function EventFilters({ filter }: { filter: EventFilter }) {
  const fromFilter = (): Draft => ({
    severity: filter.severity ?? '',
    state: filter.state ?? '',
    scope: filter.scope ?? '',
    node: filter.node ?? '',
    kind: filter.kind ?? '',
    q: filter.q ?? '',
    since: toLocalInput(filter.since),
    until: toLocalInput(filter.until),
  });
  const [d, setD] = useState<Draft>(fromFilter);
  const [error, setError] = useState<string | undefined>();
  const narrow = useNarrow();
  useEffect(() => setD(fromFilter()), [JSON.stringify(filter)]);

  const apply = (next: Draft) => {
    const since = fromLocalInput(next.since);
    const until = fromLocalInput(next.until);
    if (since === 'invalid' || until === 'invalid') {
      setError(t('events.filter.badTime', { field: t(since === 'invalid' ? 'events.filter.since' : 'events.filter.until') }));
      return;
    }
    if (since && until && since >= until) {
      setError(t('events.filter.untilBeforeSince', { field: t('events.filter.until') }));
      document.getElementById('events-until')?.focus();
      return;
    }
    setError(undefined);
    navigate(toQuery({ ...next, since, until }), { replace: true });
  };
  const set = (k: keyof Draft, now = false) => (e: { currentTarget: HTMLInputElement | HTMLSelectElement }) => {
    const next = { ...d, [k]: e.currentTarget.value };
    setD(next);
    if (now) apply(next);
  };
  const text = (k: 'scope' | 'node' | 'kind', label: string) => (
    <div class="field">
      <label for={`events-${k}`}>{label}</label>
      <input id={`events-${k}`} type="text" value={d[k]} onInput={set(k)} autoCapitalize="none" spellcheck={false} maxLength={256} />
    </div>
  );
  const form = (
    <form
      class="event-filters"
      role="search"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        apply(d);
      }}
    >
      <div class="field events-search">
        <label for="events-q">{t('events.filter.text')}</label>
        <input id="events-q" type="search" value={d.q} onInput={set('q')} maxLength={256} />
      </div>
      <div class="field">
        <label for="events-severity">{t('events.filter.severity')}</label>
        <select id="events-severity" value={d.severity} onChange={set('severity', true)}>
          <option value="">{t('events.filter.any')}</option>
          <option value="critical">{t('severity.critical')}</option>
          <option value="unknown">{t('severity.unknown')}</option>
          <option value="critical,unknown,warning">{t('events.filter.warningOrWorse')}</option>
          <option value="warning">{t('severity.warning')}</option>
          <option value="info">{t('severity.info')}</option>
        </select>
      </div>
      <div class="field">
        <label for="events-state">{t('events.filter.state')}</label>
        <select id="events-state" value={d.state} onChange={set('state', true)}>
          <option value="">{t('events.filter.any')}</option>
          <option value="unconfirmed,confirming">{t('events.filter.open')}</option>
          <option value="unconfirmed">{t('events.state.unconfirmed')}</option>
          <option value="confirming">{t('events.state.confirming')}</option>
          <option value="confirmed">{t('events.state.confirmed')}</option>
        </select>
      </div>
      <details class="more-filters" open={Boolean(d.scope || d.node || d.kind || d.since || d.until)}>
        <summary>{t('events.filter.more')}</summary>
        <div class="more-filters-body">
          {text('scope', t('events.field.scope'))}
          {text('node', t('events.field.node'))}
          {text('kind', t('events.field.kind'))}
          <div class="field">
            <label for="events-since">{t('events.filter.since')}</label>
            <input id="events-since" type="datetime-local" value={d.since} onInput={set('since')} />
          </div>
          <div class={error ? 'field invalid' : 'field'}>
            <label for="events-until">{t('events.filter.until')}</label>
            <input
              id="events-until"
              type="datetime-local"
              value={d.until}
              onInput={set('until')}
              aria-invalid={error ? true : undefined}
              aria-describedby={error ? 'events-until-error' : undefined}
            />
          </div>
        </div>
      </details>
      <div class="filter-actions">
        <button type="submit" class="button">
          {t('events.filter.apply')}
        </button>
        <button type="button" class="button secondary" onClick={() => navigate('/events', { replace: true })}>
          {t('events.filter.clear')}
        </button>
      </div>
      {error && (
        <p id="events-until-error" class="field-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
  if (!narrow) return form;
  // On a phone the list comes first: the filters fold into one line that
  // says how many apply.
  const active = filterParams.filter((k) => filter[k]).length;
  return (
    <details class="filters-box">
      <summary>{active > 0 ? t('events.filter.titleN', { n: active }) : t('events.filter.title')}</summary>
      {form}
    </details>
  );
}

const phone = '(max-width: 640px)';

/** Whether the screen is a phone's width, kept up to date. */
function useNarrow(): boolean {
  const [narrow, setNarrow] = useState(() => window.matchMedia(phone).matches);
  useEffect(() => {
    const mq = window.matchMedia(phone);
    const on = () => setNarrow(mq.matches);
    mq.addEventListener('change', on);
    return () => mq.removeEventListener('change', on);
  }, []);
  return narrow;
}
