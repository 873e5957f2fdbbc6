import { useState, type FormEvent } from 'react';
import { roleAtLeast, type ApiKey, type AuditEntry, type Page, type Role, type User } from '../lib/api.js';
import { humanise } from '../lib/errors.js';
import { ago, dateTime } from '../lib/format.js';
import { useDesk, useNow, useRemote } from '../lib/hooks.js';

const ROLES: readonly Role[] = ['viewer', 'trader', 'admin'];

export function AdminPage() {
  const { session } = useDesk();
  const isAdmin = roleAtLeast(session.role, 'admin');
  return (
    <div className="page">
      <h1>Admin</h1>
      {isAdmin ? <Users /> : null}
      <ApiKeys />
      {isAdmin ? <Audit /> : <p className="muted">Users and the audit log are for admins.</p>}
    </div>
  );
}

function Users() {
  const { session } = useDesk();
  const users = useRemote((current) => current.request<{ items: User[] }>('GET', '/api/v1/users'), []);
  const [form, setForm] = useState({ username: '', password: '', role: 'viewer' as Role });
  const [message, setMessage] = useState<string | undefined>();
  const create = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    try {
      await session.request('POST', '/api/v1/users', form);
      setMessage(`User ${form.username} created.`);
      setForm({ username: '', password: '', role: 'viewer' });
      users.reload();
    } catch (error) {
      setMessage(humanise(error));
    }
  };
  return (
    <section className="panel" aria-label="Users">
      <h2>Users</h2>
      {users.error ? <p className="field-error">{users.error}</p> : null}
      <table className="grid" data-testid="users-table">
        <thead>
          <tr>
            <th>User</th>
            <th>Role</th>
            <th>Created</th>
            <th>State</th>
          </tr>
        </thead>
        <tbody>
          {(users.data?.items ?? []).map((user) => (
            <tr key={user.id} data-user={user.username}>
              <td>{user.username}</td>
              <td>{user.role}</td>
              <td>{dateTime(user.createdAtMs)}</td>
              <td>{user.disabled ? 'disabled' : 'active'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <form className="filters" onSubmit={(event) => void create(event)} aria-label="New user">
        <label>
          User <input value={form.username} onChange={(event) => setForm({ ...form, username: event.target.value })} size={12} />
        </label>
        <label>
          Password{' '}
          <input
            type="password"
            value={form.password}
            onChange={(event) => setForm({ ...form, password: event.target.value })}
            size={12}
            autoComplete="new-password"
          />
        </label>
        <label>
          Role{' '}
          <select value={form.role} onChange={(event) => setForm({ ...form, role: event.target.value as Role })}>
            {ROLES.map((role) => (
              <option key={role}>{role}</option>
            ))}
          </select>
        </label>
        <button type="submit">Create user</button>
        {message ? (
          <span className="small" role="status" data-testid="user-message">
            {message}
          </span>
        ) : null}
      </form>
    </section>
  );
}

function ApiKeys() {
  const { session } = useDesk();
  const keys = useRemote((current) => current.request<{ items: ApiKey[] }>('GET', '/api/v1/api-keys'), []);
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('viewer');
  const [shown, setShown] = useState<string | undefined>();
  const [message, setMessage] = useState<string | undefined>();
  const create = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    setMessage(undefined);
    try {
      const created = await session.call((client) => client.createApiKey({ name, role }));
      setShown(created.key);
      setName('');
      keys.reload();
    } catch (error) {
      setMessage(humanise(error));
    }
  };
  const revoke = async (key: ApiKey): Promise<void> => {
    try {
      await session.request('DELETE', `/api/v1/api-keys/${encodeURIComponent(key.id)}`);
      setMessage(`Key ${key.name} revoked.`);
      keys.reload();
    } catch (error) {
      setMessage(humanise(error));
    }
  };
  return (
    <section className="panel" aria-label="API keys">
      <h2>API keys</h2>
      {shown ? (
        <div className="banner banner-info" role="status" data-testid="new-key">
          New key (shown only now — copy it): <code className="mono">{shown}</code>{' '}
          <button type="button" onClick={() => setShown(undefined)}>
            Done
          </button>
        </div>
      ) : null}
      {keys.error ? <p className="field-error">{keys.error}</p> : null}
      <table className="grid" data-testid="keys-table">
        <thead>
          <tr>
            <th>Name</th>
            <th>Role</th>
            <th>Created</th>
            <th>Last used</th>
            <th>State</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(keys.data?.items ?? []).map((key) => (
            <tr key={key.id} data-key={key.name} data-revoked={String(key.revokedAtMs !== null)}>
              <td>{key.name}</td>
              <td>{key.role}</td>
              <td>{dateTime(key.createdAtMs)}</td>
              <td>{dateTime(key.lastUsedAtMs)}</td>
              <td>{key.revokedAtMs === null ? 'active' : `revoked ${dateTime(key.revokedAtMs)}`}</td>
              <td>
                {key.revokedAtMs === null ? (
                  <button type="button" className="danger" onClick={() => void revoke(key)}>
                    Revoke
                  </button>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form className="filters" onSubmit={(event) => void create(event)} aria-label="New API key">
        <label>
          Name <input value={name} onChange={(event) => setName(event.target.value)} size={14} />
        </label>
        <label>
          Role{' '}
          <select value={role} onChange={(event) => setRole(event.target.value as Role)}>
            {ROLES.map((option) => (
              <option key={option}>{option}</option>
            ))}
          </select>
        </label>
        <button type="submit">Create key</button>
        {message ? <span className="small">{message}</span> : null}
      </form>
    </section>
  );
}

/** How often the newest page of the audit log is fetched again (the stream does not carry the audit log). */
const AUDIT_REFRESH_MS = 3_000;

function Audit() {
  const now = useNow();
  const [action, setAction] = useState('');
  const [actor, setActor] = useState('');
  const [applied, setApplied] = useState({ action: '', actor: '' });
  const [cursors, setCursors] = useState<readonly (string | undefined)[]>([undefined]);
  const cursor = cursors[cursors.length - 1];
  const audit = useRemote(
    (session) => {
      const query = new URLSearchParams({ limit: '25' });
      if (applied.action) query.set('action', applied.action);
      if (applied.actor) query.set('actor', applied.actor);
      if (cursor) query.set('cursor', cursor);
      return session.request<Page<AuditEntry>>('GET', `/api/v1/audit?${query.toString()}`);
    },
    [applied, cursor],
    // the newest page refreshes by itself; an older page (a cursor) does not change
    cursor === undefined ? AUDIT_REFRESH_MS : undefined,
  );
  return (
    <section className="panel" aria-label="Audit log" data-testid="audit" data-loaded-at={audit.loadedAtMs ?? ''}>
      <div className="panel-head">
        <h2>Audit log</h2>
        <span className="small muted" data-testid="audit-refresh">
          {cursor === undefined ? `newest first · refreshes every ${AUDIT_REFRESH_MS / 1000} s` : 'an older page · not refreshed'}
          {audit.loadedAtMs === undefined ? '' : ` · updated ${ago(audit.loadedAtMs, now)}`}{' '}
          <button type="button" onClick={audit.reload}>
            Refresh
          </button>
        </span>
      </div>
      <form
        className="filters"
        onSubmit={(event) => {
          event.preventDefault();
          setApplied({ action: action.trim(), actor: actor.trim() });
          setCursors([undefined]);
        }}
      >
        <label>
          Action <input value={action} onChange={(event) => setAction(event.target.value)} placeholder="order.place" size={14} />
        </label>
        <label>
          Who <input value={actor} onChange={(event) => setActor(event.target.value)} placeholder="user:admin" size={14} />
        </label>
        <button type="submit">Apply</button>
      </form>
      {audit.error ? <p className="field-error">{audit.error}</p> : null}
      <table className="grid" data-testid="audit-table">
        <thead>
          <tr>
            <th>Time</th>
            <th>Who</th>
            <th>Action</th>
            <th>Target</th>
            <th>Outcome</th>
            <th>From</th>
            <th>Details</th>
          </tr>
        </thead>
        <tbody>
          {(audit.data?.items ?? []).map((entry) => (
            <tr key={entry.seq}>
              <td>{dateTime(entry.atMs)}</td>
              <td>{entry.actor}</td>
              <td className="mono">{entry.action}</td>
              <td className="mono">{entry.target ?? ''}</td>
              <td className={entry.outcome === 'ok' ? 'up' : 'down'}>{entry.outcome}</td>
              <td className="mono">{entry.ip}</td>
              <td className="small mono">{entry.details ? JSON.stringify(entry.details) : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <nav className="pager" aria-label="Audit pages">
        <button type="button" disabled={cursors.length === 1} onClick={() => setCursors(cursors.slice(0, -1))}>
          ← Newer
        </button>
        <button type="button" disabled={!audit.data?.nextCursor} onClick={() => setCursors([...cursors, audit.data?.nextCursor ?? undefined])}>
          Older →
        </button>
      </nav>
    </section>
  );
}
