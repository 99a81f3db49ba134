// Administration: users, roles with their privileges per function and
// the scopes that bound them; and, for everyone, their own API tokens and
// second factor (TOTP, in Account.tsx).

import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, type AccessRole, type UserInfo } from '../api';
import { ErrorPanel } from '../components/ErrorPanel';
import { Check, Input } from '../components/Inputs';
import { Card, Loading } from '../components/bits';
import { focusFirst, refusedField, refusedOn, required, splitList, type Errors } from '../forms';
import { TokenForm, TotpForm } from './Account';
import { t } from '../i18n';
import { me } from '../session';

export const functions = ['inventory', 'monitor_settings', 'monitor_results', 'jobs', 'calendars', 'notifications', 'users', 'cluster', 'audit'] as const;
export const actions = ['read', 'add', 'modify', 'execute', 'approve'] as const;
// As the appliance checks user and role names.
const nameRE = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

export function AdminPage() {
  const [users, setUsers] = useState<UserInfo[] | undefined>(undefined);
  const [roles, setRoles] = useState<AccessRole[] | undefined>(undefined);
  const [failure, setFailure] = useState<unknown>(undefined);
  const [done, setDone] = useState('');
  const load = async () => {
    setFailure(undefined);
    try {
      const [u, r] = await Promise.all([api.users(), api.roles()]);
      setUsers(u.users);
      setRoles(r.roles);
    } catch (e) {
      setFailure(e);
    }
  };
  useEffect(() => void load(), []);
  const [removeErr, setRemoveErr] = useState<unknown>(undefined);
  const remove = async (u: string) => {
    if (!confirm(t('admin.confirmRemove', { user: u }))) return;
    setRemoveErr(undefined);
    try {
      await api.deleteUser(u);
      saved(t('admin.userRemoved', { user: u }));
    } catch (e) {
      setRemoveErr(e);
    }
  };
  const forbidden = failure instanceof ApiError && failure.status === 403;
  const saved = (msg: string) => {
    setDone(msg);
    void load();
  };
  return (
    <div class="page">
      <h1>{t('admin.title')}</h1>
      {done && (
        <p class="notice" role="status">
          {done}
        </p>
      )}
      <div class="grid">
        {forbidden ? (
          <Card title={t('admin.users')} id="admin-users" wide>
            <p class="muted">{t('admin.forbidden')}</p>
          </Card>
        ) : failure !== undefined ? (
          <Card title={t('admin.users')} id="admin-users" wide>
            <ErrorPanel error={failure} what={t('admin.loadFailed')} onRetry={() => void load()} />
          </Card>
        ) : !users || !roles ? (
          <Loading />
        ) : (
          <>
            <Card title={t('admin.users')} id="admin-users" wide>
              {removeErr !== undefined && <ErrorPanel error={removeErr} what={t('admin.removeFailed')} compact />}
              <UserTable users={users} onRemove={(u) => void remove(u)} />
            </Card>
            <Card title={t('admin.roles')} id="admin-roles" wide>
              <RoleTable roles={roles} />
            </Card>
            <UserForm roles={roles} onSaved={(u) => saved(t('admin.userSaved', { user: u }))} />
            <RoleForm onSaved={(r) => saved(t('admin.roleSaved', { role: r }))} />
          </>
        )}
        <TokenForm />
        <TotpForm />
      </div>
    </div>
  );
}

function UserTable({ users, onRemove }: { users: UserInfo[]; onRemove: (u: string) => void }) {
  const self = me()?.user;
  return (
    <table class="table stack">
      <thead>
        <tr>
          <th scope="col">{t('admin.u.user')}</th>
          <th scope="col">{t('admin.u.roles')}</th>
          <th scope="col">{t('admin.u.state')}</th>
          <th scope="col">{t('rules.actions')}</th>
        </tr>
      </thead>
      <tbody>
        {users.map((u) => (
          <tr key={u.name}>
            <td data-label={t('admin.u.user')}>{u.name}</td>
            <td data-label={t('admin.u.roles')}>{(u.roles ?? []).join(', ') || t('common.none')}</td>
            <td data-label={t('admin.u.state')}>{u.disabled ? t('admin.u.disabled') : t('admin.u.enabled')}</td>
            <td data-label={t('rules.actions')} class="row-actions">
              {u.name === self ? (
                <span class="muted small">{t('admin.you')}</span>
              ) : (
                <button type="button" class="button small danger" onClick={() => onRemove(u.name)}>
                  {t('admin.remove')}
                </button>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function privText(p: Record<string, string[]>): string {
  return Object.entries(p)
    .filter(([, a]) => a.length)
    .map(([f, a]) => `${t(`admin.fn.${f}` as 'admin.fn.users')}: ${a.map((x) => t(`admin.act.${x}` as 'admin.act.read')).join('/')}`)
    .join('; ');
}

function RoleTable({ roles }: { roles: AccessRole[] }) {
  return (
    <table class="table stack">
      <thead>
        <tr>
          <th scope="col">{t('admin.r.name')}</th>
          <th scope="col">{t('admin.r.scopes')}</th>
          <th scope="col">{t('admin.r.privileges')}</th>
        </tr>
      </thead>
      <tbody>
        {roles.map((r) => (
          <tr key={r.name}>
            <td data-label={t('admin.r.name')}>{r.name}</td>
            <td data-label={t('admin.r.scopes')}>{(r.scopes ?? []).map((s) => (s === '*' ? t('admin.allScopes') : s)).join(', ') || t('common.none')}</td>
            <td data-label={t('admin.r.privileges')} class="reason">
              {privText((r.privileges ?? {}) as Record<string, string[]>) || t('common.none')}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

interface UForm {
  user: string;
  password: string;
  confirm: string;
  roles: string[];
}
type UKey = 'user' | 'password' | 'confirm' | 'roles';
const uOrder: UKey[] = ['user', 'password', 'confirm', 'roles'];

export function validateUser(f: UForm): Errors<UKey> {
  const e: Errors<UKey> = {};
  const ul = t('admin.u.user');
  e.user = required(ul, f.user) ?? (nameRE.test(f.user.trim()) ? undefined : t('form.badName', { field: ul }));
  e.password = required(t('admin.u.password'), f.password) ?? (f.password.length < 12 ? t('form.tooShort', { field: t('admin.u.password'), min: 12 }) : undefined);
  if (!e.password && f.confirm !== f.password) e.confirm = t('form.mismatch', { field: t('admin.u.confirm') });
  if (f.roles.length === 0) e.roles = t('form.pickOne', { field: t('admin.u.roles') });
  for (const k of uOrder) if (!e[k]) delete e[k];
  return e;
}

function UserForm({ roles, onSaved }: { roles: AccessRole[]; onSaved: (u: string) => void }) {
  const blank: UForm = { user: '', password: '', confirm: '', roles: [] };
  const [form, setForm] = useState<UForm>(blank);
  const [errors, setErrors] = useState<Errors<UKey>>({});
  const [failure, setFailure] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setFailure(undefined);
    const errs = validateUser(form);
    setErrors(errs);
    if (focusFirst('user', uOrder, errs)) return;
    setBusy(true);
    try {
      await api.createUser({ user: form.user.trim(), password: form.password, roles: form.roles });
      onSaved(form.user.trim());
      setForm(blank);
    } catch (err) {
      const field = refusedField(err, { password: 'password', user: 'user', role: 'roles', roles: 'roles' } as Record<string, UKey>);
      if (field && err instanceof ApiError) setErrors({ [field]: refusedOn(t(`admin.u.${field}`), err) });
      else setFailure(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card title={t('admin.newUser')} id="user-form">
      {failure !== undefined && <ErrorPanel error={failure} what={t('admin.saveFailed')} compact />}
      <form onSubmit={submit} noValidate aria-label={t('admin.newUser')}>
        <Input id="user-user" label={t('admin.u.user')} value={form.user} onValue={(v) => setForm({ ...form, user: v })} error={errors.user} />
        <Input id="user-password" type="password" label={t('admin.u.password')} value={form.password} onValue={(v) => setForm({ ...form, password: v })} error={errors.password} />
        <Input id="user-confirm" type="password" label={t('admin.u.confirm')} value={form.confirm} onValue={(v) => setForm({ ...form, confirm: v })} error={errors.confirm} />
        <fieldset class={errors.roles ? 'checks invalid' : 'checks'} aria-describedby={errors.roles ? 'user-roles-error' : undefined}>
          <legend>{t('admin.u.roles')}</legend>
          {roles.map((r, i) => (
            <Check
              key={r.name}
              id={i === 0 ? 'user-roles' : `user-roles-${i}`}
              label={r.name}
              checked={form.roles.includes(r.name)}
              onChecked={(on) => setForm({ ...form, roles: on ? [...form.roles, r.name] : form.roles.filter((x) => x !== r.name) })}
            />
          ))}
          {errors.roles && (
            <p id="user-roles-error" class="field-error">
              {errors.roles}
            </p>
          )}
        </fieldset>
        <div class="form-actions">
          <button type="submit" class="button primary" disabled={busy}>
            {t('admin.createUser')}
          </button>
        </div>
      </form>
    </Card>
  );
}

interface RForm {
  name: string;
  scopes: string;
  all: boolean;
  privileges: Record<string, string[]>;
}
type RKey = 'name' | 'scopes' | 'privileges';
const rOrder: RKey[] = ['name', 'scopes', 'privileges'];

export function validateRole(f: RForm): Errors<RKey> {
  const e: Errors<RKey> = {};
  const nl = t('admin.r.name');
  e.name = required(nl, f.name) ?? (nameRE.test(f.name.trim()) ? undefined : t('form.badName', { field: nl }));
  if (!f.all) {
    const s = splitList(f.scopes);
    if (s.length === 0) e.scopes = t('admin.r.scopesNeeded', { field: t('admin.r.scopes') });
    else if (s.some((x) => x.length > 64)) e.scopes = t('form.tooLong', { field: t('admin.r.scopes'), max: 64 });
  }
  if (!Object.values(f.privileges).some((a) => a.length)) e.privileges = t('form.pickOne', { field: t('admin.r.privileges') });
  for (const k of rOrder) if (!e[k]) delete e[k];
  return e;
}

function RoleForm({ onSaved }: { onSaved: (r: string) => void }) {
  const blank: RForm = { name: '', scopes: '', all: false, privileges: {} };
  const [form, setForm] = useState<RForm>(blank);
  const [errors, setErrors] = useState<Errors<RKey>>({});
  const [failure, setFailure] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const toggle = (f: string, a: string, on: boolean) => {
    const cur = form.privileges[f] ?? [];
    setForm({ ...form, privileges: { ...form.privileges, [f]: on ? [...cur, a] : cur.filter((x) => x !== a) } });
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    setFailure(undefined);
    const errs = validateRole(form);
    setErrors(errs);
    if (focusFirst('role', rOrder, errs)) return;
    setBusy(true);
    const privileges = Object.fromEntries(Object.entries(form.privileges).filter(([, a]) => a.length));
    try {
      await api.createRole({ name: form.name.trim(), scopes: form.all ? ['*'] : splitList(form.scopes), privileges });
      onSaved(form.name.trim());
      setForm(blank);
    } catch (err) {
      const field = refusedField(err, { name: 'name', scope: 'scopes', scopes: 'scopes', privilege: 'privileges', function: 'privileges', action: 'privileges' } as Record<string, RKey>);
      if (field && err instanceof ApiError) setErrors({ [field]: refusedOn(t(`admin.r.${field}`), err) });
      else setFailure(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card title={t('admin.newRole')} id="role-form" wide>
      {failure !== undefined && <ErrorPanel error={failure} what={t('admin.saveFailed')} compact />}
      <form onSubmit={submit} noValidate aria-label={t('admin.newRole')}>
        <div class="form-grid">
          <Input id="role-name" label={t('admin.r.name')} value={form.name} onValue={(v) => setForm({ ...form, name: v })} error={errors.name} />
          <div>
            <Input
              id="role-scopes"
              label={t('admin.r.scopes')}
              value={form.all ? '' : form.scopes}
              onValue={(v) => setForm({ ...form, scopes: v })}
              error={errors.scopes}
              hint={t('rules.h.list')}
            />
            <Check id="role-all" label={t('admin.allScopes')} checked={form.all} onChecked={(v) => setForm({ ...form, all: v })} />
          </div>
        </div>
        <fieldset class={errors.privileges ? 'checks invalid' : 'checks'}>
          <legend>{t('admin.r.privileges')}</legend>
          <div class="table-scroll">
            <table class="table privs">
              <thead>
                <tr>
                  <th scope="col">{t('admin.r.function')}</th>
                  {actions.map((a) => (
                    <th scope="col" key={a}>
                      {t(`admin.act.${a}`)}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {functions.map((f, fi) => (
                  <tr key={f}>
                    <th scope="row">{t(`admin.fn.${f}`)}</th>
                    {actions.map((a, ai) => (
                      <td key={a}>
                        <input
                          type="checkbox"
                          id={fi === 0 && ai === 0 ? 'role-privileges' : `role-p-${f}-${a}`}
                          aria-label={`${t(`admin.fn.${f}`)}: ${t(`admin.act.${a}`)}`}
                          checked={(form.privileges[f] ?? []).includes(a)}
                          onChange={(e) => toggle(f, a, e.currentTarget.checked)}
                        />
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {errors.privileges && (
            <p id="role-privileges-error" class="field-error">
              {errors.privileges}
            </p>
          )}
        </fieldset>
        <div class="form-actions">
          <button type="submit" class="button primary" disabled={busy}>
            {t('admin.createRole')}
          </button>
        </div>
      </form>
    </Card>
  );
}
