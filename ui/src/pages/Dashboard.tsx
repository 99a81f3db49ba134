import { ApiError, type ClusterStatus } from '../api';
import { EventsChart } from '../charts/EventsChart';
import { ErrorPanel } from '../components/ErrorPanel';
import { Freshness } from '../components/Freshness';
import { Link } from '../components/Shell';
import { Time } from '../components/Time';
import { Card, KV, Loading, RoleBadge, YesNo, num } from '../components/bits';
import { t } from '../i18n';
import { useTopic } from '../live/topic';
import { clusterTopic, eventsTopic, severities, type EventSummary } from '../live/topics';

/** What matters first: who is active, whether the pair is healthy, what happened. */
export function Dashboard() {
  return (
    <div class="page">
      <h1>{t('dashboard.title')}</h1>
      <div class="grid">
        <ClusterCards />
        <EventCards />
      </div>
    </div>
  );
}

function ClusterCards() {
  const topic = useTopic(clusterTopic);
  const st = topic.data.value;
  const err = topic.error.value;
  if (!st) {
    return (
      <Card title={t('dashboard.appliances')} wide>
        {err instanceof ApiError && err.status === 403 ? (
          <p class="muted">{t('dashboard.clusterForbidden')}</p>
        ) : err ? (
          <ErrorPanel error={err} onRetry={() => topic.refresh()} />
        ) : (
          <Loading />
        )}
      </Card>
    );
  }
  return (
    <>
      <Card title={t('dashboard.appliances')} id="appliances">
        <Freshness topic={topic} />
        <ActiveLine st={st} />
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
      </Card>
      <Card title={t('dashboard.lastFailover')} id="failover">
        {st.last_failover ? (
          <>
            <p class="big">
              <Time at={st.last_failover.at} ago />
            </p>
            <p class="message">{st.last_failover.message}</p>
          </>
        ) : (
          <p class="muted">{t('dashboard.noFailover')}</p>
        )}
      </Card>
      <Card title={t('dashboard.replication')} id="replication">
        <p class="big">
          {st.paired ? (
            st.lag_entries === 0 ? (
              <span class="badge ok">{t('dashboard.inStep')}</span>
            ) : (
              <span class="badge warn">{t('dashboard.lagEntries', { n: num(st.lag_entries) })}</span>
            )
          ) : (
            <span class="muted">{t('cluster.unpaired')}</span>
          )}
        </p>
        <KV
          rows={[
            [t('cluster.appliedIndex'), num(st.store.applied_index)],
            [t('cluster.peerAppliedIndex'), st.peer ? num(st.peer.applied_index) : t('common.none')],
          ]}
        />
      </Card>
    </>
  );
}

/** "Active: a" in large type, or that none is known. */
function ActiveLine({ st }: { st: ClusterStatus }) {
  return (
    <p class="big">
      {st.active_id ? t('dashboard.activeIs', { node: st.active_id }) : <span class="badge bad">{t('dashboard.noActive')}</span>}
    </p>
  );
}

function EventCards() {
  const topic = useTopic(eventsTopic);
  const s = topic.data.value;
  const err = topic.error.value;
  if (!s) {
    return (
      <Card title={t('dashboard.events')} wide>
        {err instanceof ApiError && err.status === 403 ? (
          <p class="muted">{t('dashboard.eventsForbidden')}</p>
        ) : err ? (
          <ErrorPanel error={err} onRetry={() => topic.refresh()} />
        ) : (
          <Loading />
        )}
      </Card>
    );
  }
  return (
    <>
      <Card title={t('dashboard.events')} id="events">
        <Freshness topic={topic} />
        <SeverityCounts s={s} />
        <p class="muted small">
          {s.truncated ? t('dashboard.countedFirst', { n: num(s.total) }) : t('dashboard.counted', { n: num(s.total) })}
        </p>
      </Card>
      <Card title={t('dashboard.perHour')} id="per-hour" wide>
        <EventsChart summary={s} />
      </Card>
      <Card title={t('dashboard.scopes')} id="scopes">
        {s.byScope.length === 0 ? (
          <p class="muted">{t('dashboard.noEvents')}</p>
        ) : (
          <table class="table compact-table">
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
        )}
      </Card>
      <Card title={t('dashboard.latest')} id="latest" wide>
        {s.latest.length === 0 ? (
          <p class="muted">{t('dashboard.noEvents')}</p>
        ) : (
          <ul class="event-list">
            {s.latest.map((ev) => (
              <li key={ev.uid} class={`sev-${ev.severity}`}>
                <span class={`sev-chip sev-${ev.severity}`}>{t(`severity.${ev.severity}`)}</span>
                <Time at={ev.at} />
                <span class="event-node">{ev.node}</span>
                <span class="event-message">{ev.message}</span>
              </li>
            ))}
          </ul>
        )}
      </Card>
    </>
  );
}

function SeverityCounts({ s }: { s: EventSummary }) {
  return (
    <ul class="counts">
      {severities.map((sev) => (
        <li key={sev} class={`count sev-${sev}`}>
          <span class="count-n">{num(s.bySeverity[sev])}</span>
          <span class="count-label">{t(`severity.${sev}`)}</span>
        </li>
      ))}
    </ul>
  );
}
