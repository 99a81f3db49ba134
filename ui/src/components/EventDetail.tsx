import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type EventDetail as Detail } from '../api';
import { t, tOr } from '../i18n';
import { ErrorPanel } from './ErrorPanel';
import { Time } from './Time';
import { KV, Loading, type Row } from './bits';

const maxComment = 4096;

/**
 * One event: every field, who set its state and when, its comments
 * oldest first, and a form to add one (#event-comment; Ctrl+Enter sends).
 * `focusComment` changes when the user asks (the `m` key) to write one.
 */
export function EventDetail({
  id,
  reload,
  focusComment,
  onClose,
  onChanged,
}: {
  id: number;
  /** Changes when the event changed elsewhere (a state change). */
  reload: number;
  focusComment: number;
  onClose: () => void;
  /** A comment was added (the list's count changes). */
  onChanged: () => void;
}) {
  const [ev, setEv] = useState<Detail | undefined>();
  const [error, setError] = useState<unknown>();
  const [tries, setTries] = useState(0);
  useEffect(() => {
    const ctrl = new AbortController();
    setError(undefined);
    api.event(id, { signal: ctrl.signal }).then(setEv, (e: unknown) => {
      if (!ctrl.signal.aborted) setError(e);
    });
    return () => ctrl.abort();
  }, [id, reload, tries]);
  const shown = ev?.id === id ? ev : undefined;
  return (
    <aside class="event-detail" aria-labelledby="event-detail-title">
      <div class="event-detail-head">
        <h2 id="event-detail-title">{t('events.detail.title', { id })}</h2>
        <button type="button" class="button secondary" onClick={onClose}>
          {t('events.detail.close')}
        </button>
      </div>
      {error !== undefined && <ErrorPanel error={error} compact onRetry={() => setTries(tries + 1)} />}
      {!shown && error === undefined && <Loading />}
      {shown && <Fields ev={shown} />}
      {shown && <Comments ev={shown} />}
      {shown && (
        <CommentForm
          id={id}
          focus={focusComment}
          onAdded={() => {
            setTries(tries + 1);
            onChanged();
          }}
        />
      )}
    </aside>
  );
}

function Fields({ ev }: { ev: Detail }) {
  const rows: Row[] = [
    [t('events.field.severity'), <span class={`sev-chip sev-${ev.severity}`}>{tOr(`severity.${ev.severity}`, ev.severity)}</span>],
    [t('events.field.state'), <StateBadge state={ev.state} />],
    [t('events.field.stateBy'), ev.state_by ? <span>{ev.state_by}</span> : <span class="muted">{t('common.none')}</span>],
    [t('events.field.stateAt'), <Time at={ev.state_at} />],
    [t('events.field.at'), <Time at={ev.at} ago />],
    [t('events.field.node'), ev.node],
    [t('events.field.scope'), ev.scope || t('dashboard.applianceScope')],
    [t('events.field.kind'), ev.kind],
    [t('events.field.uid'), <code>{ev.uid}</code>],
  ];
  for (const [k, v] of Object.entries(ev.attrs ?? {})) rows.push([k, v]);
  return (
    <>
      <p class="event-detail-message" lang="en">
        {ev.message}
      </p>
      <KV rows={rows} />
    </>
  );
}

export function StateBadge({ state }: { state: string | undefined }) {
  const s = state ?? 'unconfirmed';
  return <span class={`badge state-${s}`}>{tOr(`events.state.${s}`, s)}</span>;
}

function Comments({ ev }: { ev: Detail }) {
  return (
    <section class="event-comments" aria-labelledby="event-comments-title">
      <h3 id="event-comments-title">{t('events.comments.title', { n: (ev.comment_list ?? []).length })}</h3>
      {(ev.comment_list ?? []).length === 0 ? (
        <p class="muted">{t('events.comments.none')}</p>
      ) : (
        <ol class="comment-list">
          {(ev.comment_list ?? []).map((c) => (
            <li key={c.id}>
              <p class="comment-meta">
                <strong>{c.user}</strong> <Time at={c.at} />
              </p>
              <p class="comment-text">{c.text}</p>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

function CommentForm({ id, focus, onAdded }: { id: number; focus: number; onAdded: () => void }) {
  const [text, setText] = useState('');
  const [invalid, setInvalid] = useState<string | undefined>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const ref = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    if (focus > 0) ref.current?.focus();
  }, [focus]);
  const send = async () => {
    const v = text.trim();
    const label = t('events.comments.label');
    if (!v) return fail(t('form.required', { field: label }));
    if (new TextEncoder().encode(v).length > maxComment) return fail(t('form.tooLong', { field: label, max: maxComment }));
    setInvalid(undefined);
    setBusy(true);
    try {
      await api.commentEvent(id, v);
      setText('');
      setError(undefined);
      onAdded();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const fail = (msg: string) => {
    setInvalid(msg);
    ref.current?.focus();
  };
  return (
    <form
      class="comment-form"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void send();
      }}
    >
      <div class={invalid ? 'field invalid' : 'field'}>
        <label for="event-comment">{t('events.comments.label')}</label>
        <textarea
          id="event-comment"
          ref={ref}
          rows={3}
          value={text}
          aria-invalid={invalid ? true : undefined}
          aria-describedby={invalid ? 'event-comment-error' : 'event-comment-hint'}
          onInput={(e) => setText(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
              e.preventDefault();
              void send();
            }
          }}
        />
        {invalid ? (
          <p id="event-comment-error" class="field-error">
            {invalid}
          </p>
        ) : (
          <p id="event-comment-hint" class="field-hint">
            {t('events.comments.hint')}
          </p>
        )}
      </div>
      {error !== undefined && <ErrorPanel error={error} compact what={t('events.comments.failed')} />}
      <button type="submit" class="button primary" disabled={busy}>
        {t('events.comments.add')}
      </button>
    </form>
  );
}
