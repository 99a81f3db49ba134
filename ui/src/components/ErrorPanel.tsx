import { ApiError } from '../api';
import { t, tOr } from '../i18n';

/** What to tell the user about a failed call, in their language. */
export function describe(e: unknown): { title: string; detail: string | undefined } {
  if (e instanceof ApiError) {
    if (e.unreachable) return { title: t('error.unreachable'), detail: undefined };
    const title = tOr(`error.code.${e.code}`, t('error.http', { status: e.status }));
    // The appliance's own words (English), for the engineer or a ticket.
    return { title, detail: e.message || undefined };
  }
  if (e instanceof Error) return { title: t('error.unexpected'), detail: e.message };
  return { title: t('error.unexpected'), detail: String(e) };
}

/**
 * A failed call, said plainly: what happened in the user's language, the
 * appliance's words beneath (and, first, what could not be done), where the active appliance is when the
 * answer says, and a way to try again. Screens show it in place of what
 * they could not load, so an error never leaves a blank screen.
 */
export function ErrorPanel({ error, onRetry, compact, what }: { error: unknown; onRetry?: () => void; compact?: boolean; what?: string }) {
  const { title, detail } = describe(error);
  const active = error instanceof ApiError ? error.body?.active_api?.[0] : undefined;
  return (
    <div class={compact ? 'error-panel compact' : 'error-panel'} role="alert">
      {what && <p class="error-what">{what}</p>}
      <p class="error-title">{title}</p>
      {detail && (
        <p class="error-detail">
          {t('error.applianceSaid')} <span lang="en">{detail}</span>
        </p>
      )}
      {active && (
        <p>
          {t('error.activeIs')} <a href={`https://${active}/`}>{`https://${active}/`}</a>
        </p>
      )}
      {onRetry && (
        <button type="button" class="button" onClick={onRetry}>
          {t('common.retry')}
        </button>
      )}
    </div>
  );
}
