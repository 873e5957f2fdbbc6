import { useState } from 'react';
import { roleAtLeast } from '../lib/api.js';
import { humanise } from '../lib/errors.js';
import { dateTime } from '../lib/format.js';
import { useDesk, useLive } from '../lib/hooks.js';

export function RiskPage() {
  const { session } = useDesk();
  const alerts = useLive((state) => state.alerts);
  const [severity, setSeverity] = useState('');
  const [confirming, setConfirming] = useState(false);
  const [message, setMessage] = useState<string | undefined>();
  const shown = alerts.filter((alert) => severity === '' || alert.severity === severity);
  const engage = async (): Promise<void> => {
    setConfirming(false);
    try {
      const result = await session.request<{ paused: string[] }>('POST', '/api/v1/kill-switch');
      setMessage(`Kill switch engaged: paused ${result.paused.length} strateg${result.paused.length === 1 ? 'y' : 'ies'} (${result.paused.join(', ') || 'none'}). Resume them on the Strategies page.`);
    } catch (error) {
      setMessage(humanise(error));
    }
  };
  return (
    <div className="page">
      <h1>Risk</h1>
      {roleAtLeast(session.role, 'admin') ? (
        <section className="panel kill-switch" aria-label="Kill switch">
          <h2>Kill switch</h2>
          <p>Pauses every strategy at once: they place no new orders. Open orders stay open; cancel them on the Orders page.</p>
          {confirming ? (
            <div role="alertdialog" aria-label="Confirm kill switch" className="confirm">
              <strong>Pause all strategies now?</strong>{' '}
              <button type="button" className="danger" onClick={() => void engage()} autoFocus>
                Yes, pause everything
              </button>{' '}
              <button type="button" onClick={() => setConfirming(false)}>
                No
              </button>
            </div>
          ) : (
            <button type="button" className="danger" onClick={() => setConfirming(true)}>
              Engage kill switch…
            </button>
          )}
          {message ? (
            <p role="status" className="small">
              {message}
            </p>
          ) : null}
        </section>
      ) : null}
      <section className="panel" aria-label="Risk alerts">
        <div className="filters">
          <h2>Alerts this session</h2>
          <label>
            Severity{' '}
            <select value={severity} onChange={(event) => setSeverity(event.target.value)}>
              <option value="">All</option>
              <option value="critical">Critical</option>
              <option value="warning">Warning</option>
              <option value="info">Info</option>
            </select>
          </label>
        </div>
        {shown.length === 0 ? (
          <p className="muted">No risk alerts since this page opened. Refused orders and limit breaches appear here as they happen.</p>
        ) : (
          <table className="grid" data-testid="alerts-table">
            <thead>
              <tr>
                <th>Time</th>
                <th>Severity</th>
                <th>Code</th>
                <th>Message</th>
                <th>Strategy</th>
                <th>Symbol</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((alert) => (
                <tr key={alert.seq} className={`alert-${alert.severity}`}>
                  <td>{dateTime(alert.atMs)}</td>
                  <td>
                    <span className={`badge severity-${alert.severity}`}>{alert.severity}</span>
                  </td>
                  <td className="mono">{alert.code}</td>
                  <td>{alert.message}</td>
                  <td>{alert.strategyId ?? '—'}</td>
                  <td>{alert.symbol ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section className="panel">
        <h2>Limits and utilisation</h2>
        <p className="muted">The gateway does not expose the risk limits or their utilisation yet; they will show here when it does.</p>
      </section>
    </div>
  );
}
