import { useState } from 'preact/hooks';
import { ApiError, api, type ClusterStatus, type PathStatus, type Role, type SwitchoverReport } from '../api';
import { ErrorPanel } from '../components/ErrorPanel';
import { Freshness } from '../components/Freshness';
import { Time } from '../components/Time';
import { Card, KV, Loading, RoleBadge, YesNo, bytes, num, type Row } from '../components/bits';
import { t, tOr } from '../i18n';
import { useTopic } from '../live/topic';
import { clusterTopic } from '../live/topics';

/** Both appliances, every heartbeat path, the witness, replication, and what to do when something is wrong. */
export function ClusterPage() {
  const topic = useTopic(clusterTopic);
  const st = topic.data.value;
  const err = topic.error.value;
  return (
    <div class="page">
      <h1>{t('cluster.title')}</h1>
      {!st ? (
        err instanceof ApiError && err.status === 403 ? (
          <p class="muted">{t('dashboard.clusterForbidden')}</p>
        ) : err ? (
          <ErrorPanel error={err} what={t('dashboard.clusterFailed')} onRetry={() => topic.refresh()} />
        ) : (
          <Loading />
        )
      ) : (
        <>
          <Freshness topic={topic} />
          <Advice st={st} />
          <div class="grid">
            <ThisAppliance st={st} />
            <Peer st={st} />
            <Witness st={st} />
            <Paths st={st} />
            <Replication st={st} />
            <Receive st={st} />
            <OldStores st={st} />
            <Switchover st={st} onDone={() => topic.refresh()} />
            <Recover st={st} />
          </div>
        </>
      )}
    </div>
  );
}

function reasonOf(st: ClusterStatus): string {
  return st.reason || t('common.none');
}

/** What the operator should do, when the roles say something is wrong. */
function Advice({ st }: { st: ClusterStatus }) {
  const items: { role: Role; node: string; here: boolean }[] = [];
  if (['stale', 'fenced', 'recovering'].includes(st.role)) items.push({ role: st.role, node: st.node_id, here: true });
  if (st.peer?.role && ['stale', 'fenced', 'recovering'].includes(st.peer.role))
    items.push({ role: st.peer.role, node: st.peer.id, here: false });
  return (
    <>
      {!st.paired && (
        <section class="advice info" aria-labelledby="advice-title">
          <h2 id="advice-title">{t('cluster.advice.unpairedTitle')}</h2>
          <p>{t('cluster.advice.unpaired')}</p>
          <pre class="command">mamori pair init</pre>
        </section>
      )}
      {items.map((it) => (
        <section class="advice warn" key={it.node} aria-labelledby={`advice-${it.node}`}>
          <h2 id={`advice-${it.node}`}>{t('cluster.advice.title', { node: it.node, role: t(`role.${it.role}`) })}</h2>
          {it.role === 'stale' && (
            <>
              <p>{t('cluster.advice.stale')}</p>
              <p>{t(it.here ? 'cluster.advice.runHere' : 'cluster.advice.runThere', { node: it.node })}</p>
              <pre class="command">mamori recover</pre>
              <p class="muted">{t('cluster.advice.staleKeeps')}</p>
            </>
          )}
          {it.role === 'fenced' && <p>{t('cluster.advice.fenced')}</p>}
          {it.role === 'recovering' && <p>{t('cluster.advice.recovering')}</p>}
        </section>
      ))}
    </>
  );
}

function ThisAppliance({ st }: { st: ClusterStatus }) {
  return (
    <Card title={t('cluster.thisAppliance')} id="self">
      <KV
        rows={[
          [t('cluster.node'), st.node_id],
          [t('cluster.role'), <RoleBadge role={st.role} />],
          [t('cluster.reason'), <span class="reason" lang="en">{reasonOf(st)}</span>],
          [t('cluster.since'), <Time at={st.since} ago />],
          [t('cluster.epoch'), num(st.epoch)],
          [t('cluster.mode'), t(st.mode === 'witness' ? 'cluster.mode.witness' : 'cluster.mode.pairOnly')],
          [t('cluster.active'), st.active_id ?? t('common.none')],
          [t('cluster.autoRecover'), st.auto_recover ? t('cluster.autoRecover.on') : t('cluster.autoRecover.off')],
          ...(st.hold_until ? [[t('cluster.holdUntil'), <Time at={st.hold_until} />] as Row] : []),
          ...(st.yielded ? [[t('cluster.yielded'), st.yielded] as Row] : []),
          [t('cluster.activeWork'), st.active_work?.length ? <Chips items={st.active_work} /> : t('common.none')],
        ]}
      />
    </Card>
  );
}

/** Names (of work, of members) that wrap between names, never inside one. */
function Chips({ items }: { items: string[] }) {
  return (
    <span class="chips">
      {items.map((i) => (
        <code key={i}>{i}</code>
      ))}
    </span>
  );
}

function Peer({ st }: { st: ClusterStatus }) {
  const p = st.peer;
  return (
    <Card title={t('cluster.peer')} id="peer">
      {!p ? (
        <p class="muted">{t('cluster.unpaired')}</p>
      ) : (
        <KV
          rows={[
            [t('cluster.node'), p.id],
            [t('cluster.reachable'), <YesNo ok={p.reachable} />],
            [t('cluster.role'), p.reachable ? <RoleBadge role={p.role} /> : <span class="muted">{t('common.unknown')}</span>],
            [t('cluster.epoch'), p.reachable ? num(p.epoch) : '—'],
            [t('cluster.version'), p.reachable && p.version ? <code>{p.version}</code> : <span class="muted">{t('common.unknown')}</span>],
            [t('cluster.apiAddrs'), (p.api_addrs ?? []).join(', ') || t('common.none')],
            [t('cluster.clusterAddr'), p.cluster_addr],
          ]}
        />
      )}
    </Card>
  );
}

function Paths({ st }: { st: ClusterStatus }) {
  const paths: PathStatus[] = st.peer?.paths ?? [];
  return (
    <Card title={t('cluster.paths')} id="paths" wide>
      {paths.length === 0 ? (
        <p class="muted">{t('cluster.noPaths')}</p>
      ) : (
        <table class="table stack">
          <thead>
            <tr>
              <th scope="col">{t('cluster.path.addr')}</th>
              <th scope="col">{t('cluster.path.up')}</th>
              <th scope="col" class="num">
                {t('cluster.path.rtt')}
              </th>
              <th scope="col">{t('cluster.path.lastOk')}</th>
              <th scope="col">{t('cluster.path.error')}</th>
            </tr>
          </thead>
          <tbody>
            {paths.map((p) => (
              <tr key={p.addr}>
                <td data-label={t('cluster.path.addr')}>{p.addr}</td>
                <td data-label={t('cluster.path.up')}>
                  <YesNo ok={p.up} yes={t('cluster.path.isUp')} no={t('cluster.path.isDown')} />
                </td>
                <td data-label={t('cluster.path.rtt')} class="num">
                  {p.up ? t('cluster.path.ms', { ms: p.rtt_ms.toFixed(1) }) : '—'}
                </td>
                <td data-label={t('cluster.path.lastOk')}>
                  <Time at={p.last_ok} />
                </td>
                <td data-label={t('cluster.path.error')} class="reason">
                  {p.error || '—'}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Card>
  );
}

function Witness({ st }: { st: ClusterStatus }) {
  const w = st.witness;
  return (
    <Card title={t('cluster.witness')} id="witness">
      {!w ? (
        <p class="muted">{t('cluster.noWitness')}</p>
      ) : (
        <KV
          rows={[
            [t('cluster.mode'), t(w.mode === 'witness' ? 'cluster.mode.witness' : 'cluster.mode.pairOnly')],
            [t('cluster.witness.addresses'), (w.addresses ?? []).join(', ') || t('common.none')],
            [t('cluster.witness.answers'), <YesNo ok={w.ok} />],
            [t('cluster.path.lastOk'), <Time at={w.last_ok} />],
            ...(w.error ? [[t('cluster.path.error'), <span class="reason">{w.error}</span>] as Row] : []),
            ...(w.holder ? [[t('cluster.witness.holder'), `${w.holder} (${t('shell.epoch', { epoch: w.lease_epoch ?? 0 })})`] as Row] : []),
          ]}
        />
      )}
    </Card>
  );
}

function Replication({ st }: { st: ClusterStatus }) {
  const s = st.store;
  return (
    <Card title={t('dashboard.replication')} id="store">
      <KV
        rows={[
          [t('cluster.lag'), st.paired ? t('cluster.lagValue', { n: num(st.lag_entries) }) : '—'],
          [t('cluster.store.open'), <YesNo ok={s.open} />],
          [t('cluster.store.state'), tOr(`raft.${s.raft_state}`, s.raft_state)],
          [t('cluster.appliedIndex'), num(s.applied_index)],
          [t('cluster.commitIndex'), num(s.commit_index)],
          [t('cluster.store.leader'), s.leader_id || t('common.none')],
          [
            t('cluster.store.servers'),
            (s.servers ?? []).map((v) => `${v.id}${v.voter ? '' : ` (${t('cluster.store.nonVoter')})`}`).join(', ') || t('common.none'),
          ],
          [t('cluster.pendingEvents'), num(st.pending_events)],
        ]}
      />
    </Card>
  );
}

function OldStores({ st }: { st: ClusterStatus }) {
  const olds = st.old_stores ?? [];
  return (
    <Card title={t('cluster.oldStores')} id="old-stores" wide={olds.length > 0}>
      <p class="muted small">{t('cluster.oldStoresHelp')}</p>
      {olds.length === 0 ? (
        <p class="muted">{t('cluster.noOldStores')}</p>
      ) : (
        <table class="table stack">
          <thead>
            <tr>
              <th scope="col">{t('cluster.old.name')}</th>
              <th scope="col">{t('cluster.old.setAside')}</th>
              <th scope="col" class="num">
                {t('cluster.old.size')}
              </th>
              <th scope="col">{t('cluster.old.merge')}</th>
            </tr>
          </thead>
          <tbody>
            {olds.map((o) => (
              <tr key={o.name}>
                <td data-label={t('cluster.old.name')} title={o.path}>
                  {o.name}
                </td>
                <td data-label={t('cluster.old.setAside')}>
                  <Time at={o.set_aside_at} />
                </td>
                <td data-label={t('cluster.old.size')} class="num">
                  {bytes(o.bytes)}
                </td>
                <td data-label={t('cluster.old.merge')}>
                  {o.merge ? (
                    <span>
                      {t('cluster.old.merged', { events: num(o.merge.events), audit: num(o.merge.audit) })} <Time at={o.merge.at} />
                      {o.merge.settings?.length ? (
                        <span class="reason"> {t('cluster.old.settingsDiffer', { settings: o.merge.settings.join(', ') })}</span>
                      ) : null}
                    </span>
                  ) : (
                    <span class="badge warn">{t('cluster.old.notMerged')}</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Card>
  );
}

function Receive({ st }: { st: ClusterStatus }) {
  const i = st.ingest;
  if (!i) return null;
  return (
    <Card title={t('cluster.receive')} id="receive">
      <KV
        rows={[
          [t('cluster.receive.target'), i.target === 'local' ? t('cluster.receive.local') : i.target || t('cluster.receive.none')],
          [t('cluster.receive.waiting'), num(i.waiting)],
          [t('cluster.receive.forwarded'), num(i.forwarded)],
          [t('cluster.receive.spool'), bytes(i.spool_bytes)],
          ...(i.last_error ? [[t('cluster.receive.lastError'), <span class="reason">{i.last_error}</span>] as Row] : []),
        ]}
      />
    </Card>
  );
}

/** How to recover, always at hand: what happens by itself and what needs a person. */
/**
 * A planned switchover: the active stops its work, hands the store to the
 * standby and becomes its standby, with nothing lost (before maintenance
 * of the active, or between the halves of a rolling upgrade).
 */
function Switchover({ st, onDone }: { st: ClusterStatus; onDone: () => void }) {
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<SwitchoverReport | undefined>(undefined);
  const [failure, setFailure] = useState<unknown>(undefined);
  const p = st.peer;
  if (!st.paired || !p) return null;
  const toPeer = st.role === 'active' && p.reachable && p.role === 'standby';
  const toHere = st.role === 'standby' && p.reachable && p.role === 'active';
  const go = async () => {
    const confirmText = toPeer ? t('cluster.switchover.confirmToPeer', { peer: p.id }) : t('cluster.switchover.confirmToHere', { node: st.node_id, peer: p.id });
    if (!confirm(confirmText)) return;
    setBusy(true);
    setFailure(undefined);
    setDone(undefined);
    try {
      setDone(await api.switchover());
      onDone();
    } catch (e) {
      setFailure(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card title={t('cluster.switchover.title')} id="switchover" wide>
      <p>{t('cluster.switchover.explain')}</p>
      {toPeer || toHere ? (
        <button type="button" class="button primary" id="switchover-go" disabled={busy} onClick={() => void go()}>
          {busy ? t('cluster.switchover.busy') : toPeer ? t('cluster.switchover.toPeer', { peer: p.id }) : t('cluster.switchover.toHere', { node: st.node_id })}
        </button>
      ) : (
        <p class="muted" id="switchover-not-now">{t('cluster.switchover.notNow')}</p>
      )}
      {done && (
        <p class="notice" role="status" id="switchover-done">
          {t('cluster.switchover.done', { seconds: done.seconds.toFixed(2), to: done.to, from: done.from })}
        </p>
      )}
      {failure !== undefined && <ErrorPanel error={failure} what={t('cluster.switchover.failed')} />}
      <p class="muted">{t('cluster.switchover.cli')}</p>
      <pre class="command">mamori switchover</pre>
    </Card>
  );
}

function Recover({ st }: { st: ClusterStatus }) {
  return (
    <Card title={t('cluster.recover.title')} id="recover" wide>
      <ol class="steps">
        <li>{t('cluster.recover.failover', { mode: st.mode === 'witness' ? t('cluster.mode.witness') : t('cluster.mode.pairOnly') })}</li>
        <li>
          {t('cluster.recover.stale')}
          <pre class="command">mamori recover</pre>
        </li>
        <li>{t(st.auto_recover ? 'cluster.recover.autoOn' : 'cluster.recover.autoOff')}</li>
        <li>{t('cluster.recover.oldStores')}</li>
        <li>{t('cluster.recover.paths')}</li>
      </ol>
    </Card>
  );
}
