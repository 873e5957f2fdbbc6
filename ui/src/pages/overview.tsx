import { useMemo } from 'react';
import { EquityChart } from '../components/charts.js';
import { ConnectionIndicator, useStale } from '../components/connection-indicator.js';
import { ago, clock, quantity, rupees, signedRupees, tone } from '../lib/format.js';
import { useLive, useNow } from '../lib/hooks.js';
import { portfolioTotals } from '../lib/positions.js';

const TERMINAL = new Set(['COMPLETE', 'REJECTED', 'CANCELLED']);

export function OverviewPage() {
  const positions = useLive((state) => state.positions);
  const quotes = useLive((state) => state.quotes);
  const pnl = useLive((state) => state.pnl);
  const equity = useLive((state) => state.equity);
  const orders = useLive((state) => state.orders);
  const alerts = useLive((state) => state.alerts);
  const connection = useLive((state) => state.connection);
  const stale = useStale();
  const now = useNow();
  const totals = useMemo(() => portfolioTotals({ positions, quotes, pnl }), [positions, quotes, pnl]);
  const main = totals[0];
  const curve = main ? (equity.get(main.portfolioId) ?? []) : [];
  const openOrders = useMemo(() => [...orders.values()].filter((order) => !TERMINAL.has(order.status)).sort((a, b) => b.createdAtMs - a.createdAtMs), [orders]);

  return (
    <div className={`page overview${stale ? ' stale' : ''}`}>
      <h1>Overview</h1>
      {main ? (
        <section className="cards" aria-label="Day P&L" data-testid="pnl-cards">
          <Card label="Equity" value={rupees(main.equityPaise)} />
          <Card label="Net P&L" value={signedRupees(main.netPnlPaise)} tone={tone(main.netPnlPaise)} testId="net-pnl" />
          <Card label="Realised" value={signedRupees(main.realisedPaise)} tone={tone(main.realisedPaise)} />
          <Card label="Unrealised" value={signedRupees(main.unrealisedPaise)} tone={tone(main.unrealisedPaise)} />
          <Card label="Charges" value={rupees(main.chargesPaise)} />
          <Card label="Gross exposure" value={rupees(main.grossExposurePaise)} />
          <Card label="Net exposure" value={signedRupees(main.netExposurePaise)} />
          <Card label="Cash" value={rupees(main.cashPaise)} />
        </section>
      ) : (
        <p className="muted">Waiting for the portfolio…</p>
      )}
      <div className="columns">
        <section className="panel grow" aria-label="Equity curve">
          <h2>Equity{main ? <span className="muted small"> · {main.portfolioId}</span> : null}</h2>
          <EquityChart points={curve} />
        </section>
        <section className="panel side" aria-label="Connection">
          <h2>Connection</h2>
          <ConnectionIndicator />
          <dl className="facts">
            <dt>Last event</dt>
            <dd>{ago(connection.lastEventAtMs, now)}</dd>
            <dt>Sequence</dt>
            <dd className="num">{quantity(connection.lastSeq)}</dd>
            <dt>Reconnects</dt>
            <dd className="num">{quantity(connection.reconnects)}</dd>
            <dt>Symbols streaming</dt>
            <dd className="num">{quantity(quotes.size)}</dd>
          </dl>
        </section>
      </div>
      <div className="columns">
        <section className="panel grow" aria-label="Open orders">
          <h2>
            Open orders <span className="muted small">({openOrders.length})</span>
          </h2>
          {openOrders.length === 0 ? (
            <p className="muted">No open orders.</p>
          ) : (
            <table className="grid">
              <thead>
                <tr>
                  <th>Time</th>
                  <th>Symbol</th>
                  <th>Side</th>
                  <th className="num">Qty</th>
                  <th className="num">Filled</th>
                  <th>Status</th>
                  <th>Strategy</th>
                </tr>
              </thead>
              <tbody>
                {openOrders.slice(0, 10).map((order) => (
                  <tr key={order.clientOrderId}>
                    <td>{clock(order.createdAtMs)}</td>
                    <td>{order.symbol}</td>
                    <td className={order.side === 'BUY' ? 'up' : 'down'}>{order.side}</td>
                    <td className="num">{quantity(order.quantity)}</td>
                    <td className="num">{quantity(order.filledQuantity)}</td>
                    <td>{order.status}</td>
                    <td>{order.strategyId}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
        <section className="panel side" aria-label="Latest risk alerts">
          <h2>Latest risk alerts</h2>
          {alerts.length === 0 ? (
            <p className="muted">No risk alerts this session.</p>
          ) : (
            <ul className="alerts">
              {alerts.slice(0, 6).map((alert) => (
                <li key={alert.id} className={`alert alert-${alert.severity}`}>
                  <span className="muted small">{clock(alert.atMs)}</span> <strong>{alert.code}</strong> {alert.message}
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>
    </div>
  );
}

function Card({
  label,
  value,
  tone: cardTone,
  testId,
}: {
  readonly label: string;
  readonly value: string;
  readonly tone?: 'up' | 'down' | 'flat';
  readonly testId?: string;
}) {
  return (
    <div className="card" data-testid={testId}>
      <div className="card-label">{label}</div>
      <div className={`card-value num ${cardTone ?? ''}`}>{value}</div>
    </div>
  );
}
