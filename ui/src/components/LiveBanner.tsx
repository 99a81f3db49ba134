import { useEffect, useState } from 'preact/hooks';
import { t } from '../i18n';
import { base } from '../live/failover';
import { live } from '../live/stream';
import { formatDateTime } from '../time';

/** How long the stream may take to open before the banner shows. */
const graceMs = 4000;

/**
 * "Not live since HH:MM:SS" while the live stream is down (after a short
 * grace at start), and, after a failover, which appliance the console now
 * talks to.
 */
export function LiveBanner() {
  const s = live.value;
  const [, tick] = useState(0);
  // Re-render once the grace has passed, even if nothing else changes.
  useEffect(() => {
    const id = setTimeout(() => tick((n) => n + 1), graceMs + 100);
    return () => clearTimeout(id);
  }, [s.started]);
  const down = !s.connected && !s.refused && Date.now() - (s.lastLive ?? s.started).getTime() > graceMs;
  const since = formatDateTime(s.lastLive ?? s.started).slice(11);
  return (
    <>
      {down && (
        <div class="banner banner-live" role="status" data-testid="not-live">
          {t('live.notLiveSince', { time: since })}
        </div>
      )}
      {base.value !== '' && (
        <div class="banner banner-moved" role="status" data-testid="moved">
          {t('live.movedTo', { origin: base.value })}
        </div>
      )}
    </>
  );
}
