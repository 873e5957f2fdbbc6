import { useEffect, useRef, useState } from 'react';
import { roleAtLeast, type Page, type StoredRiskAlert } from '../lib/api.js';
import { humanise } from '../lib/errors.js';
import { dateTime } from '../lib/format.js';
import { useDesk, useLive, useRemote } from '../lib/hooks.js';

const PAGE_SIZE = 20;
/** The first page reloads at most this often while alerts stream in. */
const LIVE_RELOAD_MS = 2_000;

interface AlertFilters {
  readonly severity: string;
  /** '' any, 'open' unacknowledged only, 'acknowledged' */
  readonly state: string;
}

function alertQuery(filters: AlertFilters): Record<string, string> {
  return {
    ...(filters.severity ? { severity: filters.severity } : {}),
    ...(filters.state === 'open' ? { acknowledged: 'false' } : filters.state === 'acknowledged' ? { acknowledged: 'true' } : {}),
  };
}

/**
 * The record of risk alerts (`GET /api/v1/risk/alerts`, kept in the database across restarts):
 * one row per alert and subject within a minute with how many times it was raised (×count),
 * paged newest first, filtered, exported as CSV; traders acknowledge a row (audited). The first
 * page follows the stream: a new alert reloads it.
 */
export function AlertHistory() {
  const { session } = useDesk();
  const [filters, setFilters] = useState<AlertFilters>({ severity: '', state: '' });
  const [cursors, setCursors] = useState<readonly (string | undefined)[]>([undefined]);
  const [message, setMessage] = useState<string | undefined>();
  const [busy, setBusy] = useState<number | undefined>();
  const page = cursors.length - 1;
  const cursor = cursors[page];
  const remote = useRemote<Page<StoredRiskAlert>>(
    (current) =>
      current.request<Page<StoredRiskAlert>>(
        'GET',
        `/api/v1/risk/alerts?${new URLSearchParams({ ...alertQuery(filters), limit: String(PAGE_SIZE), ...(cursor ? { cursor } : {}) }).toString()}`,
      ),
    [filters, cursor],
    page === 0 ? 10_000 : undefined,
  );
  // live: a streamed alert reloads the first page (at most every LIVE_RELOAD_MS)
  const newest = useLive((state) => state.alerts[0]?.id);
  const lastReload = useRef(0);
  const { reload } = remote;
  useEffect(() => {
    if (newest === undefined || page !== 0) return undefined;
    const wait = Math.max(0, lastReload.current + LIVE_RELOAD_MS - Date.now());
    const timer = setTimeout(() => {
      lastReload.current = Date.now();
      reload();
    }, wait);
    return () => clearTimeout(timer);
  }, [newest, page, reload]);
  const canAck = roleAtLeast(session.role, 'trader');

  const acknowledge = async (alert: StoredRiskAlert): Promise<void> => {
    setBusy(alert.id);
    setMessage(undefined);
    try {
      await session.request('POST', `/api/v1/risk/alerts/${alert.id}/ack`, {});
      setMessage(`Acknowledged ${alert.code}${alert.subject ? ` (${alert.subject})` : ''}.`);
      remote.reload();
    } catch (error) {
      setMessage(humanise(error));
    } finally {
      setBusy(undefined);
    }
  };
  const download = async (): Promise<void> => {
    setMessage(undefined);
    try {
      await session.downloadCsv(`/api/v1/risk/alerts?${new URLSearchParams({ ...alertQuery(filters), format: 'csv' }).toString()}`, 'troupe-risk-alerts.csv');
    } catch (error) {
      setMessage(humanise(error));
    }
  };
  const items = remote.data?.items ?? [];

  return (
    <section className="panel" aria-label="Risk alerts">
      <div className="filters">
        <h2>Alert history</h2>
        <label>
          Severity{' '}
          <select
            value={filters.severity}
            onChange={(event) => {
              setFilters({ ...filters, severity: event.target.value });
              setCursors([undefined]);
            }}
          >
            <option value="">All</option>
            <option value="critical">Critical</option>
            <option value="warning">Warning</option>
            <option value="info">Info</option>
          </select>
        </label>
        <label>
          State{' '}
          <select
            value={filters.state}
            onChange={(event) => {
              setFilters({ ...filters, state: event.target.value });
              setCursors([undefined]);
            }}
          >
            <option value="">All</option>
            <option value="open">Not acknowledged</option>
            <option value="acknowledged">Acknowledged</option>
          </select>
        </label>
        <button type="button" onClick={() => void download()} data-testid="alerts-csv">
          Download CSV
        </button>
        <span className="muted small">kept across restarts; repeats within a minute are one row</span>
      </div>
      {message ? (
        <p className="small" role="status">
          {message}
        </p>
      ) : null}
      {remote.error ? (
        <div className="banner banner-error" role="alert">
          {remote.error}
        </div>
      ) : null}
      {items.length === 0 && !remote.loading ? (
        <p className="muted">No risk alerts. Refused orders and limit breaches appear here as they happen.</p>
      ) : (
        <table className="grid" data-testid="alerts-table">
          <thead>
            <tr>
              <th>Last (IST)</th>
              <th>Severity</th>
              <th>Code</th>
              <th className="num">Count</th>
              <th>Message</th>
              <th>Strategy</th>
              <th>Symbol</th>
              <th>Acknowledged</th>
            </tr>
          </thead>
          <tbody>
            {items.map((alert) => (
              <tr key={alert.id} data-alert={alert.id} data-code={alert.code} className={alert.severity === 'critical' ? 'alert-critical' : ''}>
                <td className="nowrap" title={`first ${dateTime(alert.firstAtMs)}`}>
                  {dateTime(alert.lastAtMs)}
                </td>
                <td>
                  <span className={`badge severity-${alert.severity}`}>{alert.severity}</span>
                </td>
                <td className="mono">{alert.code}</td>
                <td className="num" data-testid="alert-count">
                  {alert.count > 1 ? `×${alert.count}` : '1'}
                </td>
                <td>{alert.message}</td>
                <td>{alert.strategyId ?? '—'}</td>
                <td>{alert.symbol ?? '—'}</td>
                <td className="nowrap">
                  {alert.acknowledgedBy !== undefined ? (
                    <span className="muted small" data-testid="alert-acknowledged" title={alert.acknowledgedNote ?? ''}>
                      {alert.acknowledgedBy}
                      {alert.acknowledgedAtMs === undefined ? '' : `, ${dateTime(alert.acknowledgedAtMs)}`}
                    </span>
                  ) : canAck ? (
                    <button type="button" onClick={() => void acknowledge(alert)} disabled={busy === alert.id} data-testid="alert-ack">
                      Ack
                    </button>
                  ) : (
                    <span className="muted small">open</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <nav className="pager" aria-label="Alert pages">
        <button type="button" disabled={page === 0} onClick={() => setCursors(cursors.slice(0, -1))}>
          ← Newer
        </button>
        <span className="muted">Page {page + 1}</span>
        <button
          type="button"
          disabled={(remote.data?.nextCursor ?? null) === null}
          onClick={() => setCursors([...cursors, remote.data?.nextCursor ?? undefined])}
        >
          Older →
        </button>
      </nav>
    </section>
  );
}
