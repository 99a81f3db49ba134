// Inventory: the nodes of the caller's scopes, the scopes they make up,
// the credentials (never their secrets), and forms for a node and a
// credential. A scope is a name nodes, rules, credentials and roles carry:
// it exists while something carries it (GET /api/v1/scopes counts them),
// and a new scope starts with the first node or rule that names it.

import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, type Credential, type InventoryNode, type ScopeUse } from '../api';
import { ErrorPanel } from '../components/ErrorPanel';
import { Input, Select } from '../components/Inputs';
import { Card, Loading } from '../components/bits';
import { badId, focusFirst, refusedField, refusedOn, required, tooLong, type Errors } from '../forms';
import { t } from '../i18n';

interface NodeForm {
  id: string;
  name: string;
  address: string;
  scope: string;
  owner_role: string;
  snmp: string;
  port: string;
  community: string;
  user: string;
  level: string;
  auth_protocol: string;
  auth_credential: string;
  priv_protocol: string;
  priv_credential: string;
}
type NKey = keyof NodeForm;
const nodeOrder: NKey[] = ['id', 'name', 'address', 'scope', 'owner_role', 'snmp', 'port', 'community', 'user', 'level', 'auth_protocol', 'auth_credential', 'priv_protocol', 'priv_credential'];
const blankNode: NodeForm = {
  id: '',
  name: '',
  address: '',
  scope: '',
  owner_role: '',
  snmp: '',
  port: '',
  community: '',
  user: '',
  level: 'authPriv',
  auth_protocol: 'SHA-256',
  auth_credential: '',
  priv_protocol: 'AES',
  priv_credential: '',
};
const nl = (k: NKey) => t(`inventory.f.${k}`);

const hostRE = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
const ipRE = /^(\d{1,3}\.){3}\d{1,3}$|^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*$/;

export function validateNode(f: NodeForm): Errors<NKey> {
  const e: Errors<NKey> = {};
  e.id = badId(nl('id'), f.id);
  e.name = tooLong(nl('name'), f.name, 256);
  const a = f.address.trim();
  e.address = required(nl('address'), a) ?? (ipRE.test(a) || hostRE.test(a) ? undefined : t('inventory.badAddress', { field: nl('address') }));
  e.scope = tooLong(nl('scope'), f.scope, 64);
  e.owner_role = tooLong(nl('owner_role'), f.owner_role, 64);
  if (f.snmp && f.port.trim() && (!/^\d{1,5}$/.test(f.port.trim()) || Number(f.port) < 1 || Number(f.port) > 65535))
    e.port = t('form.range', { field: nl('port'), min: 1, max: 65535 });
  if (f.snmp === '2c') e.community = required(nl('community'), f.community);
  if (f.snmp === '3') {
    e.user = required(nl('user'), f.user) ?? tooLong(nl('user'), f.user, 64);
    if (f.level !== 'noAuthNoPriv') e.auth_credential = required(nl('auth_credential'), f.auth_credential);
    if (f.level === 'authPriv') e.priv_credential = required(nl('priv_credential'), f.priv_credential);
  }
  for (const k of nodeOrder) if (!e[k]) delete e[k];
  return e;
}

function toForm(n: InventoryNode): NodeForm {
  const s = n.snmp;
  return {
    ...blankNode,
    id: n.id,
    name: n.name,
    address: n.address,
    scope: n.scope,
    owner_role: n.owner_role ?? '',
    snmp: s?.version ?? '',
    port: s?.port ? String(s.port) : '',
    community: s?.community_credential ?? '',
    user: s?.user ?? '',
    level: s?.security_level || blankNode.level,
    auth_protocol: s?.auth_protocol || blankNode.auth_protocol,
    auth_credential: s?.auth_credential ?? '',
    priv_protocol: s?.priv_protocol || blankNode.priv_protocol,
    priv_credential: s?.priv_credential ?? '',
  };
}

function toNode(f: NodeForm): InventoryNode {
  const n: InventoryNode = { id: f.id.trim(), name: f.name.trim(), address: f.address.trim(), scope: f.scope.trim() };
  if (f.owner_role.trim()) n.owner_role = f.owner_role.trim();
  if (f.snmp === '2c') n.snmp = { version: '2c', community_credential: f.community.trim() };
  if (f.snmp === '3') {
    n.snmp = { version: '3', user: f.user.trim(), security_level: f.level };
    if (f.level !== 'noAuthNoPriv') Object.assign(n.snmp, { auth_protocol: f.auth_protocol, auth_credential: f.auth_credential.trim() });
    if (f.level === 'authPriv') Object.assign(n.snmp, { priv_protocol: f.priv_protocol, priv_credential: f.priv_credential.trim() });
  }
  if (n.snmp && f.port.trim()) n.snmp.port = Number(f.port.trim());
  return n;
}

const nodeApiFields: Record<string, NKey> = {
  id: 'id',
  address: 'address',
  name: 'name',
  scope: 'scope',
  owner_role: 'owner_role',
  community_credential: 'community',
  port: 'port',
  user: 'user',
  security_level: 'level',
  auth_protocol: 'auth_protocol',
  auth_credential: 'auth_credential',
  priv_protocol: 'priv_protocol',
  priv_credential: 'priv_credential',
};

export function InventoryPage() {
  const [nodes, setNodes] = useState<InventoryNode[] | undefined>(undefined);
  const [creds, setCreds] = useState<Credential[] | undefined>(undefined);
  const [scopeUses, setScopeUses] = useState<ScopeUse[] | undefined>(undefined);
  const [scopeErr, setScopeErr] = useState<unknown>(undefined);
  const [nodeErr, setNodeErr] = useState<unknown>(undefined);
  const [credErr, setCredErr] = useState<unknown>(undefined);
  const [done, setDone] = useState('');
  const [editing, setEditing] = useState<InventoryNode | undefined>(undefined);

  const load = async () => {
    setNodeErr(undefined);
    setCredErr(undefined);
    setScopeErr(undefined);
    await Promise.all([
      api.scopes().then((a) => setScopeUses(a.scopes), setScopeErr),
      api.nodes().then((a) => setNodes(a.nodes), setNodeErr),
      api.credentials().then((a) => setCreds(a.credentials), setCredErr),
    ]);
  };
  useEffect(() => void load(), []);
  const scopes = (scopeUses ?? []).map((s) => s.name).filter(Boolean);

  return (
    <div class="page">
      <h1>{t('inventory.title')}</h1>
      {done && (
        <p class="notice" role="status">
          {done}
        </p>
      )}
      <div class="grid">
        <Card title={t('inventory.nodes')} id="inv-nodes" wide>
          {nodeErr !== undefined ? (
            <ErrorPanel error={nodeErr} what={t('inventory.loadFailed')} onRetry={() => void load()} />
          ) : !nodes ? (
            <Loading />
          ) : nodes.length === 0 ? (
            <p class="muted">{t('inventory.noNodes')}</p>
          ) : (
            <NodeTable
              nodes={nodes}
              onEdit={(n) => {
                setEditing(n);
                document.getElementById('node-name')?.focus();
              }}
            />
          )}
        </Card>
        <Card title={t('inventory.scopes')} id="inv-scopes">
          <p class="muted small">{t('inventory.scopesHelp')}</p>
          {scopeErr !== undefined ? (
            <ErrorPanel error={scopeErr} what={t('inventory.scopesFailed')} onRetry={() => void load()} />
          ) : !scopeUses ? (
            <Loading />
          ) : (
            <table class="table">
              <thead>
                <tr>
                  <th scope="col">{t('inventory.f.scope')}</th>
                  <th scope="col" class="num">
                    {t('inventory.nodeCount')}
                  </th>
                  <th scope="col" class="num">
                    {t('inventory.ruleCount')}
                  </th>
                  <th scope="col" class="num">
                    {t('inventory.credCount')}
                  </th>
                </tr>
              </thead>
              <tbody>
                {scopeUses.map((s) => (
                  <tr key={s.name}>
                    <td>{s.name || t('inventory.noScope')}</td>
                    <td class="num">{s.nodes}</td>
                    <td class="num">{s.rules}</td>
                    <td class="num">{s.credentials}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Card>
        <Card title={t('inventory.credentials')} id="inv-creds">
          {credErr !== undefined ? (
            <ErrorPanel error={credErr} what={t('inventory.credsFailed')} onRetry={() => void load()} />
          ) : !creds ? (
            <Loading />
          ) : creds.length === 0 ? (
            <p class="muted">{t('inventory.noCreds')}</p>
          ) : (
            <table class="table stack">
              <thead>
                <tr>
                  <th scope="col">{t('inventory.c.name')}</th>
                  <th scope="col">{t('inventory.c.kind')}</th>
                  <th scope="col">{t('inventory.f.scope')}</th>
                </tr>
              </thead>
              <tbody>
                {creds.map((c) => (
                  <tr key={c.name}>
                    <td data-label={t('inventory.c.name')}>{c.name}</td>
                    <td data-label={t('inventory.c.kind')}>{c.kind}</td>
                    <td data-label={t('inventory.f.scope')}>{c.scope || t('inventory.noScope')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Card>
        <NodeFormCard
          scopes={scopes}
          editing={editing}
          onSaved={(id) => {
            setEditing(undefined);
            setDone(t('inventory.nodeSaved', { id }));
            void load();
          }}
        />
        <CredentialFormCard
          onSaved={(name) => {
            setDone(t('inventory.credSaved', { name }));
            void load();
          }}
        />
      </div>
    </div>
  );
}

function NodeTable({ nodes, onEdit }: { nodes: InventoryNode[]; onEdit: (n: InventoryNode) => void }) {
  return (
    <table class="table stack">
      <thead>
        <tr>
          <th scope="col">{t('inventory.f.id')}</th>
          <th scope="col">{t('inventory.f.name')}</th>
          <th scope="col">{t('inventory.f.address')}</th>
          <th scope="col">{t('inventory.f.scope')}</th>
          <th scope="col">{t('inventory.f.snmp')}</th>
          <th scope="col">{t('rules.actions')}</th>
        </tr>
      </thead>
      <tbody>
        {nodes.map((n) => (
          <tr key={n.id}>
            <td data-label={t('inventory.f.id')}>{n.id}</td>
            <td data-label={t('inventory.f.name')}>{n.name || '—'}</td>
            <td data-label={t('inventory.f.address')}>{n.address}</td>
            <td data-label={t('inventory.f.scope')}>{n.scope || t('inventory.noScope')}</td>
            <td data-label={t('inventory.f.snmp')}>{n.snmp ? `v${n.snmp.version}` : '—'}</td>
            <td data-label={t('rules.actions')} class="row-actions">
              <button type="button" class="button small" onClick={() => onEdit(n)}>
                {t('rules.editButton')}
              </button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function NodeFormCard({ scopes, editing, onSaved }: { scopes: string[]; editing: InventoryNode | undefined; onSaved: (id: string) => void }) {
  const [form, setForm] = useState<NodeForm>(blankNode);
  useEffect(() => {
    if (editing) {
      setForm(toForm(editing));
      setErrors({});
    }
  }, [editing]);
  const [errors, setErrors] = useState<Errors<NKey>>({});
  const [failure, setFailure] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const set = (k: NKey) => (v: string) => setForm({ ...form, [k]: v });
  const submit = async (e: Event) => {
    e.preventDefault();
    setFailure(undefined);
    const errs = validateNode(form);
    setErrors(errs);
    if (focusFirst('node', nodeOrder, errs)) return;
    setBusy(true);
    try {
      await api.putNode(toNode(form));
      onSaved(form.id.trim());
      setForm(blankNode);
    } catch (err) {
      const field = refusedField(err, nodeApiFields);
      if (field && err instanceof ApiError) {
        const e2 = { [field]: refusedOn(nl(field), err) };
        setErrors(e2);
        focusFirst('node', nodeOrder, e2);
      } else setFailure(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card title={t('inventory.nodeForm')} id="node-form" wide>
      {failure !== undefined && <ErrorPanel error={failure} what={t('inventory.saveFailed')} compact />}
      <form onSubmit={submit} noValidate aria-label={t('inventory.nodeForm')} class="form-grid">
        <Input id="node-id" label={nl('id')} value={form.id} onValue={set('id')} error={errors.id} hint={t('rules.h.id')} />
        <Input id="node-name" label={nl('name')} value={form.name} onValue={set('name')} error={errors.name} />
        <Input id="node-address" label={nl('address')} value={form.address} onValue={set('address')} error={errors.address} />
        <Input id="node-scope" label={nl('scope')} value={form.scope} onValue={set('scope')} error={errors.scope} list="scope-names" hint={t('inventory.h.scope')} />
        <datalist id="scope-names">
          {scopes.filter(Boolean).map((s) => (
            <option key={s} value={s} />
          ))}
        </datalist>
        <Input id="node-owner_role" label={nl('owner_role')} value={form.owner_role} onValue={set('owner_role')} error={errors.owner_role} />
        <Select
          id="node-snmp"
          label={nl('snmp')}
          value={form.snmp}
          onValue={set('snmp')}
          options={[
            ['', t('inventory.snmp.none')],
            ['2c', 'SNMPv2c'],
            ['3', 'SNMPv3'],
          ]}
        />
        {form.snmp && <Input id="node-port" label={nl('port')} value={form.port} onValue={set('port')} error={errors.port} hint={t('inventory.h.port')} />}
        {form.snmp === '2c' && <Input id="node-community" label={nl('community')} value={form.community} onValue={set('community')} error={errors.community} />}
        {form.snmp === '3' && (
          <>
            <Input id="node-user" label={nl('user')} value={form.user} onValue={set('user')} error={errors.user} />
            <Select
              id="node-level"
              label={nl('level')}
              value={form.level}
              onValue={set('level')}
              options={[
                ['authPriv', 'authPriv'],
                ['authNoPriv', 'authNoPriv'],
                ['noAuthNoPriv', 'noAuthNoPriv'],
              ]}
            />
            {form.level !== 'noAuthNoPriv' && (
              <>
                <Select
                  id="node-auth_protocol"
                  label={nl('auth_protocol')}
                  value={form.auth_protocol}
                  onValue={set('auth_protocol')}
                  options={['SHA', 'SHA-224', 'SHA-256', 'SHA-384', 'SHA-512'].map((p): [string, string] => [p, p])}
                />
                <Input id="node-auth_credential" label={nl('auth_credential')} value={form.auth_credential} onValue={set('auth_credential')} error={errors.auth_credential} />
              </>
            )}
            {form.level === 'authPriv' && (
              <>
                <Select
                  id="node-priv_protocol"
                  label={nl('priv_protocol')}
                  value={form.priv_protocol}
                  onValue={set('priv_protocol')}
                  options={['AES', 'AES-192', 'AES-256'].map((p): [string, string] => [p, p])}
                />
                <Input id="node-priv_credential" label={nl('priv_credential')} value={form.priv_credential} onValue={set('priv_credential')} error={errors.priv_credential} />
              </>
            )}
          </>
        )}
        <div class="form-actions">
          <button type="submit" class="button primary" disabled={busy}>
            {t('inventory.saveNode')}
          </button>
        </div>
      </form>
    </Card>
  );
}

interface CredForm {
  name: string;
  kind: string;
  username: string;
  scope: string;
  secret: string;
}
type CKey = keyof CredForm;
const credOrder: CKey[] = ['name', 'kind', 'username', 'scope', 'secret'];
const blankCred: CredForm = { name: '', kind: 'snmpv3-auth', username: '', scope: '', secret: '' };
const cl = (k: CKey) => t(`inventory.c.${k}`);

export function validateCredential(f: CredForm): Errors<CKey> {
  const e: Errors<CKey> = {};
  e.name = badId(cl('name'), f.name);
  e.scope = tooLong(cl('scope'), f.scope, 64);
  e.username = tooLong(cl('username'), f.username, 256);
  e.secret = required(cl('secret'), f.secret) ?? tooLong(cl('secret'), f.secret, 4096);
  for (const k of credOrder) if (!e[k]) delete e[k];
  return e;
}

function CredentialFormCard({ onSaved }: { onSaved: (name: string) => void }) {
  const [form, setForm] = useState<CredForm>(blankCred);
  const [errors, setErrors] = useState<Errors<CKey>>({});
  const [failure, setFailure] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const set = (k: CKey) => (v: string) => setForm({ ...form, [k]: v });
  const submit = async (e: Event) => {
    e.preventDefault();
    setFailure(undefined);
    const errs = validateCredential(form);
    setErrors(errs);
    if (focusFirst('cred', credOrder, errs)) return;
    setBusy(true);
    try {
      const body = { name: form.name.trim(), kind: form.kind, secret: form.secret, scope: form.scope.trim(), ...(form.username ? { username: form.username } : {}) };
      await api.putCredential(body);
      onSaved(body.name);
      setForm(blankCred);
    } catch (err) {
      const field = refusedField(err, { name: 'name', kind: 'kind', username: 'username', scope: 'scope', secret: 'secret' } as Record<string, CKey>);
      if (field && err instanceof ApiError) setErrors({ [field]: refusedOn(cl(field), err) });
      else setFailure(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card title={t('inventory.credForm')} id="cred-form">
      {failure !== undefined && <ErrorPanel error={failure} what={t('inventory.saveFailed')} compact />}
      <form onSubmit={submit} noValidate aria-label={t('inventory.credForm')}>
        <Input id="cred-name" label={cl('name')} value={form.name} onValue={set('name')} error={errors.name} />
        <Select
          id="cred-kind"
          label={cl('kind')}
          value={form.kind}
          onValue={set('kind')}
          options={['snmpv3-auth', 'snmpv3-priv', 'database', 'smtp', 'password'].map((k): [string, string] => [k, k])}
        />
        <Input id="cred-username" label={cl('username')} value={form.username} onValue={set('username')} error={errors.username} />
        <Input id="cred-scope" label={cl('scope')} value={form.scope} onValue={set('scope')} error={errors.scope} list="scope-names" />
        <Input id="cred-secret" type="password" label={cl('secret')} value={form.secret} onValue={set('secret')} error={errors.secret} hint={t('inventory.h.secret')} />
        <div class="form-actions">
          <button type="submit" class="button primary" disabled={busy}>
            {t('inventory.saveCred')}
          </button>
        </div>
      </form>
    </Card>
  );
}
