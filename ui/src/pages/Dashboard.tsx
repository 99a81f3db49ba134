import type { ComponentChildren } from 'preact';
import { ApiError, type ClusterStatus } from '../api';
import { LazyEventsChart } from '../charts/LazyEventsChart';
import { ErrorPanel } from '../components/ErrorPanel';
import { Freshness } from '../components/Freshness';
import { Link } from '../components/Shell';
import { Time } from '../components/Time';
import { Card, KV, Loading, RoleBadge, YesNo, num } from '../components/bits';
import { t } from '../i18n';
import { useTopic, type Topic } from '../live/topic';
import { clusterTopic, eventsTopic, severities, type EventSummary } from '../live/topics';

/**
 * What matters first: who is active and whether the pair is in step, how
 * many events of each severity; then the last day's curve and the latest
 * events. On a phone the cards stack in that order.
 */
export function Dashboard() {
  const cluster = useTopic(clusterTopic);
  const events = useTopic(eventsTopic);
  return (
    <div class="page">
      <h1>{t('dashboard.title')}</h1>
      <Freshness topic={cluster} />
      <TopicError topic={cluster} what={t('dashboard.clusterFailed')} />
      <TopicError topic={events} what={t('dashboard.eventsFailed')} />
      <div class="grid dashboard">
        <Card title={t('dashboard.appliances')} id="appliances">
          <Loaded topic={cluster} forbidden={t('dashboard.clusterForbidden')}>
            {(st) => <Appliances st={st} />}
          </Loaded>
        </Card>
        <Card title={t('dashboard.events')} id="events">
          <Loaded topic={events} forbidden={t('dashboard.eventsForbidden')}>
            {(s) => <SeverityCounts s={s} />}
          </Loaded>
        </Card>
        <Card title={t('dashboard.replication')} id="replication">
          <Loaded topic={cluster}>{(st) => <Replication st={st} />}</Loaded>
        </Card>
        <Card title={t('dashboard.lastFailover')} id="failover">
          <Loaded topic={cluster}>{(st) => <LastFailover st={st} />}</Loaded>
        </Card>
        <Card title={t('dashboard.perHour')} id="per-hour" wide>
          <Loaded topic={events}>{(s) => <LazyEventsChart summary={s} />}</Loaded>
        </Card>
        <Card title={t('dashboard.latest')} id="latest" class="span3">
          <Loaded topic={events}>{(s) => <Latest s={s} />}</Loaded>
        </Card>
        <Card title={t('dashboard.scopes')} id="scopes">
          <Loaded topic={events}>{(s) => <Scopes s={s} />}</Loaded>
        </Card>
      </div>
    </div>
  );
}

/**
 * A topic's content once loaded; until then loading, a refusal in words
 * (the user's roles), or "not available" (TopicError above the cards says
 * why, once) — never an empty card.
 */
function Loaded<T>({ topic, forbidden, children }: { topic: Topic<T>; forbidden?: string; children: (v: T) => ComponentChildren }) {
  const v = topic.data.value;
  if (v !== undefined) return <>{children(v)}</>;
  const err = topic.error.value;
  if (isForbidden(err)) return forbidden ? <p class="muted">{forbidden}</p> : <p class="muted">—</p>;
  if (err) return <p class="muted">{t('dashboard.unavailable')}</p>;
  return <Loading />;
}

/** A topic that could not be read at all: what happened, and a retry. */
function TopicError<T>({ topic, what }: { topic: Topic<T>; what: string }) {
  const err = topic.error.value;
  if (topic.data.value !== undefined || !err || isForbidden(err)) return null;
  return <ErrorPanel error={err} what={what} onRetry={() => topic.refresh()} />;
}

function isForbidden(e: unknown): boolean {
  return e instanceof ApiError && e.status === 403;
}

function Appliances({ st }: { st: ClusterStatus }) {
  return (
    <>
      <p class="big">
        {st.active_id ? t('dashboard.activeIs', { node: st.active_id }) : <span class="badge bad">{t('dashboard.noActive')}</span>}
      </p>
      <KV
        rows={[
          [t('cluster.thisAppliance'), <span>{st.node_id} <RoleBadge role={st.role} /></span>],
          [t('cluster.epoch'), num(st.epoch)],
          [t('cluster.mode'), t(st.mode === 'witness' ? 'cluster.mode.witness' : 'cluster.mode.pairOnly')],
          [
            t('cluster.peer'),
            st.peer ? (
              <span>
                {st.peer.id} <YesNo ok={st.peer.reachable} yes={t('cluster.reachable')} no={t('cluster.unreachable')} />
              </span>
            ) : (
              t('cluster.unpaired')
            ),
          ],
        ]}
      />
      <p>
        <Link href="/cluster">{t('dashboard.clusterDetails')}</Link>
      </p>
    </>
  );
}

function Replication({ st }: { st: ClusterStatus }) {
  return (
    <>
      <p class="big">
        {!st.paired ? (
          <span class="muted">{t('cluster.unpaired')}</span>
        ) : st.lag_entries === 0 ? (
          <span class="badge ok">{t('dashboard.inStep')}</span>
        ) : (
          <span class="badge warn">{t('dashboard.lagEntries', { n: num(st.lag_entries) })}</span>
        )}
      </p>
      <KV
        rows={[
          [t('cluster.appliedIndex'), num(st.store.applied_index)],
          [t('cluster.peerAppliedIndex'), st.peer?.reachable ? num(st.peer.applied_index) : t('common.none')],
        ]}
      />
    </>
  );
}

function LastFailover({ st }: { st: ClusterStatus }) {
  if (!st.last_failover) return <p class="muted">{t('dashboard.noFailover')}</p>;
  return (
    <>
      <p class="big">
        <Time at={st.last_failover.at} ago />
      </p>
      <p class="message">{st.last_failover.message}</p>
    </>
  );
}

function SeverityCounts({ s }: { s: EventSummary }) {
  return (
    <>
      <ul class="counts">
        {severities.map((sev) => (
          <li key={sev} class={`count sev-${sev}`}>
            <span class="count-n">{num(s.bySeverity[sev])}</span>
            <span class="count-label">{t(`severity.${sev}`)}</span>
          </li>
        ))}
      </ul>
      <p class="muted small">
        {s.truncated ? t('dashboard.countedFirst', { n: num(s.total) }) : t('dashboard.counted', { n: num(s.total) })}
      </p>
    </>
  );
}

function Latest({ s }: { s: EventSummary }) {
  if (s.latest.length === 0) return <p class="muted">{t('dashboard.noEvents')}</p>;
  return (
    <ul class="event-list">
      {s.latest.map((ev) => (
        <li key={ev.uid}>
          <span class={`sev-chip sev-${ev.severity}`}>{t(`severity.${ev.severity}`)}</span>
          <Time at={ev.at} />
          <span class="event-text">
            <span class="event-node">{ev.node}</span> <span class="event-message">{ev.message}</span>
          </span>
        </li>
      ))}
    </ul>
  );
}

function Scopes({ s }: { s: EventSummary }) {
  if (s.byScope.length === 0) return <p class="muted">{t('dashboard.noEvents')}</p>;
  return (
    <table class="table">
      <thead>
        <tr>
          <th scope="col">{t('dashboard.scope')}</th>
          <th scope="col" class="num">
            {t('dashboard.count')}
          </th>
        </tr>
      </thead>
      <tbody>
        {s.byScope.slice(0, 8).map(([scope, n]) => (
          <tr key={scope}>
            <td>{scope || <span class="muted">{t('dashboard.applianceScope')}</span>}</td>
            <td class="num">{num(n)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
