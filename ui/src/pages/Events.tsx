import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type Event, type EventState } from '../api';
import { ErrorPanel } from '../components/ErrorPanel';
import { EventDetail, StateBadge } from '../components/EventDetail';
import { EventFilters, filterFromQuery } from '../components/EventFilters';
import { Freshness } from '../components/Freshness';
import { Time } from '../components/Time';
import { Loading } from '../components/bits';
import { t, tOr } from '../i18n';
import { mergeNewest, newestEvents, olderEvents, type EventFilter } from '../live/eventList';
import { useTopic } from '../live/topic';
import { query } from '../router';
import { me } from '../session';
import '../styles/events.css';

/** What a bulk action applies to: the rows chosen, or every event the filter matches. */
type Target = { ids: number[] } | { filter: EventFilter; upTo: number };

/**
 * The event console: the newest events first, live; priority colours and
 * states; choose rows (checkbox, Shift-click for a range, Ctrl-click to
 * add one) and confirm them at once; a detail pane with the comments.
 * Everything works from the keyboard (`?` lists the keys).
 */
export function EventsPage() {
  const filter = filterFromQuery(query.value);
  const key = JSON.stringify(filter);
  const topic = useTopic(newestEvents(filter));
  const page = topic.data.value;
  const [rows, setRows] = useState<Event[]>([]);
  const [older, setOlder] = useState<{ more: boolean } | undefined>();
  const [loadingMore, setLoadingMore] = useState(false);
  // The current row and the anchor of a Shift range, by event id: new
  // events arriving on top do not move them.
  // Keys come faster than renders: handlers read and write the latest
  // current row and selection through refs, the render reads the state.
  const [curId, setCurIdState] = useState<number | undefined>();
  const [sel, setSelState] = useState<ReadonlySet<number>>(new Set());
  const curRef = useRef<number | undefined>(undefined);
  const selRef = useRef<ReadonlySet<number>>(sel);
  const setCurId = (id: number | undefined) => {
    curRef.current = id;
    setCurIdState(id);
  };
  const setSel = (s: ReadonlySet<number>) => {
    selRef.current = s;
    setSelState(s);
  };
  const [anchorId, setAnchorId] = useState<number | undefined>();
  const [allMatching, setAllMatching] = useState(false);
  /** How many events "all matching" is, once the appliance has said. */
  const [matchCount, setMatchCount] = useState<number | undefined>();
  const [open, setOpen] = useState<number | undefined>();
  const [help, setHelp] = useState(false);
  const [focusComment, setFocusComment] = useState(0);
  const [reload, setReload] = useState(0);
  const [status, setStatus] = useState<string | undefined>();
  const [actionError, setActionError] = useState<unknown>();
  const listRef = useRef<HTMLUListElement>(null);

  // A new filter starts a new list.
  useEffect(() => {
    setRows(page?.events ?? []);
    setOlder(undefined);
    setSel(new Set());
    setAllMatching(false);
    setCurId(undefined);
  }, [key]);
  useEffect(() => {
    if (page) setRows((r) => mergeNewest(r, page.events ?? [], !page.more && !older));
  }, [page]);
  const more = older ? older.more : Boolean(page?.more);

  const indexOf = (id: number | undefined) => Math.max(0, rows.findIndex((e) => e.id === id));
  const current = rows[indexOf(curId)];
  /** The current row as the handlers see it (after keys not yet rendered). */
  const curNow = () => indexOf(curRef.current);
  const setCur = (i: number) => setCurId(rows[i]?.id);
  const setAnchor = (i: number) => setAnchorId(rows[i]?.id);
  useEffect(() => {
    if (current?.id !== undefined) document.getElementById(`ev-${current.id}`)?.scrollIntoView({ block: 'nearest' });
  }, [current?.id]);

  const loadMore = async () => {
    const last = rows[rows.length - 1]?.id;
    if (last === undefined) return;
    setLoadingMore(true);
    try {
      const res = await olderEvents(filter, last);
      setRows((r) => [...r, ...(res.events ?? []).filter((e) => (e.id ?? 0) < last)]);
      setOlder({ more: Boolean(res.more) });
      setActionError(undefined);
    } catch (e) {
      setActionError(e);
    } finally {
      setLoadingMore(false);
    }
  };

  const idAt = (i: number) => rows[i]?.id ?? 0;
  const toggle = (id: number) => {
    const s = new Set(selRef.current);
    if (s.has(id)) s.delete(id);
    else s.add(id);
    setSel(s);
    setAllMatching(false);
  };
  const selectRange = (from: number, to: number) => {
    const s = new Set(selRef.current);
    for (let i = Math.min(from, to); i <= Math.max(from, to); i++) s.add(idAt(i));
    setSel(s);
    setAllMatching(false);
  };
  /** A click on a row: Shift extends from the last row chosen, Ctrl adds or removes one, a plain click opens it. */
  const clickRow = (e: MouseEvent, i: number, onCheckbox: boolean) => {
    if (e.shiftKey) {
      e.preventDefault();
      selectRange(indexOf(anchorId), i);
    } else if (e.ctrlKey || e.metaKey || onCheckbox) {
      toggle(idAt(i));
      setAnchor(i);
    } else {
      setOpen(idAt(i));
      setAnchor(i);
    }
    setCur(i);
  };

  const target = (): Target | undefined => {
    if (allMatching) return { filter, upTo: rows[0]?.id ?? 0 };
    if (selRef.current.size > 0) return { ids: [...selRef.current] };
    const id = rows[curNow()]?.id;
    return id !== undefined ? { ids: [id] } : undefined;
  };
  const setState = async (state: EventState) => {
    const tg = target();
    if (!tg) return;
    setStatus(undefined);
    try {
      const res =
        'ids' in tg
          ? await api.setEventState({ state, ids: tg.ids })
          : await api.setEventState({ state, filter: { ...(tg.filter as Record<string, string>), before: String(tg.upTo + 1) } });
      const chosen = 'ids' in tg ? new Set(tg.ids) : undefined;
      const now = new Date().toISOString();
      const user = me()?.user;
      const keep = filter.state ? filter.state.split(',').includes(state) : true;
      const changed = (e: Event) => (!chosen || chosen.has(e.id ?? 0) ? { ...e, state, state_by: user, state_at: now } : e);
      setRows((rs) => rs.map(changed).filter((e) => keep || e.state !== state));
      setStatus(t('events.bulk.done', { n: res.changed, state: tOr(`events.state.${state}`, state) }));
      setActionError(undefined);
      setSel(new Set());
      setAllMatching(false);
      setReload(reload + 1);
      topic.refresh();
    } catch (e) {
      setActionError(e);
    }
  };

  const onKey = (e: KeyboardEvent) => {
    const el = e.target as HTMLElement | null;
    // Keys are the user's text in a field, but not on a checkbox or a button.
    const typing =
      el &&
      (el.tagName === 'TEXTAREA' ||
        el.tagName === 'SELECT' ||
        el.isContentEditable ||
        (el.tagName === 'INPUT' && !['checkbox', 'radio', 'button', 'submit'].includes((el as HTMLInputElement).type)));
    if (e.key === 'Escape') {
      if (typing) el.blur();
      else if (help) setHelp(false);
      else setOpen(undefined);
      return;
    }
    if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
    const last = rows.length - 1;
    const cur = curNow();
    const current = rows[cur];
    switch (e.key) {
      case 'j':
        setCur(Math.min(cur + 1, last));
        break;
      case 'k':
        setCur(Math.max(cur - 1, 0));
        break;
      case 'x':
        if (current?.id !== undefined) toggle(current.id);
        setAnchor(cur);
        break;
      case 'c':
        void setState('confirmed');
        break;
      case 'i':
        void setState('confirming');
        break;
      case 'u':
        void setState('unconfirmed');
        break;
      case '/':
        document.getElementById('events-q')?.focus();
        break;
      case '?':
        setHelp(!help);
        break;
      case 'Enter':
        if (el?.tagName === 'BUTTON' || el?.tagName === 'A') return;
        if (current?.id !== undefined) setOpen(current.id);
        break;
      case 'm':
        if (current?.id !== undefined) {
          setOpen(current.id);
          setFocusComment(focusComment + 1);
        }
        break;
      default:
        return;
    }
    e.preventDefault();
  };
  useEffect(() => {
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  const allLoadedSelected = rows.length > 0 && rows.every((e) => sel.has(e.id ?? 0));
  const count = !allMatching
    ? t('events.bulk.selected', { n: sel.size })
    : matchCount === undefined
      ? t('events.bulk.allMatching')
      : t('events.bulk.allMatchingN', { n: matchCount });
  const selectAllMatching = () => {
    setAllMatching(true);
    setMatchCount(undefined);
    api.countEvents({ ...filter, before: (rows[0]?.id ?? 0) + 1 }).then(
      (c) => setMatchCount(c.count),
      () => undefined, // the label stays without the number
    );
  };
  return (
    <div class="page events-page">
      <div class="events-title">
        <h1>{t('events.title')}</h1>
        <button type="button" class="button secondary help-button" onClick={() => setHelp(!help)} aria-expanded={help}>
          {t('events.help.button')}
        </button>
      </div>
      <EventFilters filter={filter} />
      <Freshness topic={topic} />
      <div class="events-toolbar" role="toolbar" aria-label={t('events.bulk.label')}>
        <label class="select-all">
          <input
            type="checkbox"
            checked={allLoadedSelected || allMatching}
            onChange={() => {
              setSel(allLoadedSelected ? new Set() : new Set(rows.map((e) => e.id ?? 0)));
              setAllMatching(false);
            }}
          />
          <span>{count}</span>
        </label>
        {allLoadedSelected && more && !allMatching && (
          <button type="button" class="button link" onClick={selectAllMatching}>
            {t('events.bulk.selectAllMatching')}
          </button>
        )}
        <div class="bulk-actions">
          <button type="button" class="button primary" onClick={() => void setState('confirmed')} disabled={!target()}>
            {t('events.action.confirm')}
          </button>
          <button type="button" class="button" onClick={() => void setState('confirming')} disabled={!target()}>
            {t('events.action.confirming')}
          </button>
          <button type="button" class="button" onClick={() => void setState('unconfirmed')} disabled={!target()}>
            {t('events.action.unconfirm')}
          </button>
        </div>
        <p class="bulk-status" role="status">
          {status ?? ''}
        </p>
      </div>
      {actionError !== undefined && <ErrorPanel error={actionError} what={t('events.actionFailed')} />}
      <div class={open !== undefined ? 'events-layout with-detail' : 'events-layout'}>
        <div class="events-list-wrap">
          {!page && topic.error.value !== undefined && rows.length === 0 ? (
            <ErrorPanel error={topic.error.value} what={t('events.loadFailed')} onRetry={() => topic.refresh()} />
          ) : !page && rows.length === 0 ? (
            <Loading />
          ) : rows.length === 0 ? (
            <p class="muted events-empty">{t('events.empty')}</p>
          ) : (
            <ul class="events-list" ref={listRef} aria-label={t('events.listLabel')}>
              {rows.map((e, i) => (
                <EventRow
                  key={e.id}
                  ev={e}
                  selected={allMatching || sel.has(e.id ?? 0)}
                  current={e === current}
                  opened={e.id === open}
                  onClick={(m, onCheckbox) => clickRow(m, i, onCheckbox)}
                />
              ))}
            </ul>
          )}
          {more && rows.length > 0 && (
            <button type="button" class="button load-more" disabled={loadingMore} onClick={() => void loadMore()}>
              {loadingMore ? t('common.loading') : t('events.loadMore')}
            </button>
          )}
        </div>
        {open !== undefined && (
          <EventDetail
            id={open}
            reload={reload}
            focusComment={focusComment}
            onClose={() => setOpen(undefined)}
            onChanged={() => {
              setRows((r) => r.map((e) => (e.id === open ? { ...e, comments: (e.comments ?? 0) + 1 } : e)));
              topic.refresh();
            }}
          />
        )}
      </div>
      {help && <KeyHelp onClose={() => setHelp(false)} />}
    </div>
  );
}

function EventRow({
  ev,
  selected,
  current,
  opened,
  onClick,
}: {
  ev: Event;
  selected: boolean;
  current: boolean;
  opened: boolean;
  onClick: (e: MouseEvent, onCheckbox: boolean) => void;
}) {
  const classes = ['ev-row', `sev-${ev.severity}`, selected ? 'selected' : '', current ? 'current' : '', opened ? 'opened' : '']
    .filter(Boolean)
    .join(' ');
  return (
    <li id={`ev-${ev.id}`} class={classes} data-id={ev.id} data-state={ev.state} aria-current={current ? 'true' : undefined}>
      <input
        type="checkbox"
        class="ev-check"
        checked={selected}
        aria-label={t('events.select', { id: ev.id ?? 0 })}
        onClick={(e) => {
          e.stopPropagation();
          onClick(e, true);
        }}
      />
      <span class={`sev-chip sev-${ev.severity}`}>{tOr(`severity.${ev.severity}`, ev.severity)}</span>
      <StateBadge state={ev.state} />
      <span class="ev-time">
        <Time at={ev.at} />
      </span>
      <span class="ev-node">{ev.node}</span>
      <button type="button" class="ev-open" onClick={(e) => onClick(e, false)}>
        <span class="ev-msg" lang="en">
          {ev.message}
        </span>
        {(ev.comments ?? 0) > 0 && <span class="ev-comments">{t('events.commentCount', { n: ev.comments ?? 0 })}</span>}
      </button>
    </li>
  );
}

const keys: [string, Parameters<typeof t>[0]][] = [
  ['j', 'events.help.down'],
  ['k', 'events.help.up'],
  ['x', 'events.help.select'],
  ['c', 'events.help.confirm'],
  ['i', 'events.help.confirming'],
  ['u', 'events.help.unconfirm'],
  ['Enter', 'events.help.open'],
  ['m', 'events.help.comment'],
  ['/', 'events.help.search'],
  ['?', 'events.help.help'],
  ['Esc', 'events.help.close'],
];

function KeyHelp({ onClose }: { onClose: () => void }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return (
    <div class="key-help" role="dialog" aria-modal="true" aria-labelledby="key-help-title" tabIndex={-1} ref={ref}>
      <div class="key-help-panel">
        <h2 id="key-help-title">{t('events.help.title')}</h2>
        <dl>
          {keys.map(([k, what]) => (
            <div key={k}>
              <dt>
                <kbd>{k}</kbd>
              </dt>
              <dd>{t(what)}</dd>
            </div>
          ))}
        </dl>
        <p class="muted">{t('events.help.mouse')}</p>
        <button type="button" class="button" onClick={onClose}>
          {t('events.detail.close')}
        </button>
      </div>
    </div>
  );
}
