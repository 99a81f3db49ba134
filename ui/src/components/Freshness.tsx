import { t } from '../i18n';
import type { Topic } from '../live/topic';
import { formatDateTime } from '../time';

/**
 * How fresh a topic's data is: nothing while it is, and "not updated
 * since HH:MM:SS" once a read failed, so a view never goes stale silently.
 */
export function Freshness<T>({ topic }: { topic: Topic<T> }) {
  const updated = topic.updated.value;
  if (!topic.error.value || !updated) return null;
  return (
    <p class="stale" role="status">
      {t('live.staleSince', { time: formatDateTime(updated).slice(11) })}
    </p>
  );
}
