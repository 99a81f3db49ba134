import { t } from '../i18n';
import { me } from '../session';
import { formatDateTime, formatInZone, offsetName, relative } from '../time';

/**
 * A moment, in the browser's zone; on hover, in the appliance's zone and
 * in UTC. `ago` adds "(3 minutes ago)".
 */
export function Time({ at, ago }: { at: string | undefined; ago?: boolean }) {
  if (!at) return <span class="muted">{t('common.none')}</span>;
  const d = new Date(at);
  if (Number.isNaN(d.getTime()) || d.getUTCFullYear() <= 1) return <span class="muted">{t('common.none')}</span>;
  const m = me();
  const zone = m?.time_zone || (m?.utc_offset_seconds !== undefined ? offsetName(m.utc_offset_seconds) : undefined);
  const lines = [
    zone
      ? t('time.applianceZone', { zone, time: formatInZone(d, m?.time_zone, m?.utc_offset_seconds) })
      : undefined,
    t('time.utc', { time: d.toISOString() }),
  ].filter(Boolean);
  const time = (
    <time dateTime={at} title={lines.join('\n')}>
      {formatDateTime(d)}
    </time>
  );
  if (!ago) return time;
  return (
    <span class="time-ago">
      {time} <span class="muted">({relative(d)})</span>
    </span>
  );
}
