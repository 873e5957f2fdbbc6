import { useState, type FormEvent } from 'react';
import { Session } from '../lib/api.js';
import { humanise } from '../lib/errors.js';

export function LoginPage({
  baseUrl,
  onLogin,
  notice,
}: {
  readonly baseUrl: string;
  readonly onLogin: (session: Session) => void;
  readonly notice?: string | undefined;
}) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      onLogin(await Session.login(baseUrl, username.trim(), password));
    } catch (failure) {
      setError(humanise(failure));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="login">
      <form className="panel login-panel" onSubmit={(event) => void submit(event)} aria-label="Log in">
        <h1>
          <span className="brand-mark" aria-hidden="true">
            ◆
          </span>{' '}
          Troupe
        </h1>
        <p className="muted">Paper trading desk · NSE</p>
        {notice ? <div className="banner banner-info">{notice}</div> : null}
        <div className="field">
          <label htmlFor="login-username">User name</label>
          <input
            id="login-username"
            name="username"
            autoComplete="username"
            value={username}
            onChange={(event) => setUsername(event.target.value)}
            autoFocus
            required
          />
        </div>
        <div className="field">
          <label htmlFor="login-password">Password</label>
          <input
            id="login-password"
            name="password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(event) => setPassword(event.target.value)}
            required
          />
        </div>
        {error ? (
          <div className="field-error" role="alert">
            {error}
          </div>
        ) : null}
        <button type="submit" className="primary" disabled={busy || username === '' || password === ''}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
        <p className="muted small">The first admin comes from ADMIN_USER / ADMIN_PASSWORD, or a generated password printed once in the server log.</p>
      </form>
    </main>
  );
}
