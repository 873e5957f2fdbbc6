import { useMemo, useState } from 'react';
import { useStale } from '../components/connection-indicator.js';
import { roleAtLeast } from '../lib/api.js';
import { humanise } from '../lib/errors.js';
import { ago, quantity, rupees, signedRupees, tone } from '../lib/format.js';
import { useDesk, useLive, useNow } from '../lib/hooks.js';
import { markPosition, portfolioTotals } from '../lib/positions.js';

const QUOTE_STALE_MS = 10_000;

export function PositionsPage() {
  const positions = useLive((state) => state.positions);
  const quotes = useLive((state) => state.quotes);
  const pnl = useLive((state) => state.pnl);
  const stale = useStale();
  const now = useNow();
  const rows = useMemo(
    () =>
      [...positions.values()]
        .map((position) => markPosition(position, quotes.get(position.symbol)))
        .sort((a, b) => Math.abs(b.marketValuePaise) - Math.abs(a.marketValuePaise) || a.symbol.localeCompare(b.symbol)),
    [positions, quotes],
  );
  const totals = useMemo(() => portfolioTotals({ positions, quotes, pnl }), [positions, quotes, pnl]);
  const open = rows.filter((row) => row.netQuantity !== 0);
  const closed = rows.filter((row) => row.netQuantity === 0);

  return (
    <div className={`page${stale ? ' stale' : ''}`}>
      <h1>Positions</h1>
      {totals.map((total) => (
        <section key={total.portfolioId} className="cards" aria-label={`Portfolio ${total.portfolioId}`}>
          <div className="card">
            <div className="card-label">Portfolio</div>
            <div className="card-value">{total.portfolioId}</div>
          </div>
          <div className="card">
            <div className="card-label">Equity</div>
            <div className="card-value num">{rupees(total.equityPaise)}</div>
          </div>
          <div className="card">
            <div className="card-label">Unrealised</div>
            <div className={`card-value num ${tone(total.unrealisedPaise)}`} data-testid="portfolio-unrealised">
              {signedRupees(total.unrealisedPaise)}
            </div>
          </div>
          <div className="card">
            <div className="card-label">Realised</div>
            <div className={`card-value num ${tone(total.realisedPaise)}`}>{signedRupees(total.realisedPaise)}</div>
          </div>
          <div className="card">
            <div className="card-label">Charges</div>
            <div className="card-value num">{rupees(total.chargesPaise)}</div>
          </div>
          <div className="card">
            <div className="card-label">Net P&amp;L</div>
            <div className={`card-value num ${tone(total.netPnlPaise)}`}>{signedRupees(total.netPnlPaise)}</div>
          </div>
        </section>
      ))}
      <section className="panel" aria-label="Open positions">
        <h2>
          Open positions <span className="muted small">({open.length})</span>
        </h2>
        {open.length === 0 ? <p className="muted">No open positions yet.</p> : <PositionTable rows={open} now={now} />}
        <p className="muted small">
          Exit closes a position with a MARKET order of the opposite side for its whole quantity (same product), through the risk checks like any order.
        </p>
      </section>
      {closed.length > 0 ? (
        <section className="panel" aria-label="Closed today">
          <h2>
            Closed today <span className="muted small">({closed.length})</span>
          </h2>
          <ClosedTable rows={closed} />
        </section>
      ) : null}
    </div>
  );
}

type Row = ReturnType<typeof markPosition>;

/** Exit: a MARKET order of the opposite side for the whole quantity, after a confirmation. */
function ExitButton({ row }: { readonly row: Row }) {
  const { session } = useDesk();
  const [state, setState] = useState<{ readonly busy: boolean; readonly message?: string; readonly failed?: boolean }>({ busy: false });
  if (!roleAtLeast(session.role, 'trader')) return null;
  const side = row.netQuantity > 0 ? 'SELL' : 'BUY';
  const size = Math.abs(row.netQuantity);
  const exit = (): void => {
    if (!window.confirm(`Exit ${row.symbol} (${row.product}): ${side} ${size} at market?`)) return;
    setState({ busy: true });
    session
      .call((client) =>
        client.placeOrder({
          symbol: row.symbol,
          side,
          quantity: size,
          orderType: 'MARKET',
          product: row.product as 'MIS' | 'CNC' | 'NRML',
          portfolioId: row.portfolioId,
          reason: 'exit from the positions page',
        }),
      )
      .then(
        (placed) => setState({ busy: false, message: `sent ${placed.clientOrderId}` }),
        (error: unknown) => setState({ busy: false, message: humanise(error), failed: true }),
      );
  };
  return (
    <>
      <button type="button" onClick={exit} disabled={state.busy} aria-label={`Exit ${row.symbol}`} data-testid="exit-position">
        {state.busy ? 'Sending…' : 'Exit'}
      </button>
      {state.message ? (
        <span className={`small ${state.failed ? 'down' : 'muted'}`} role={state.failed ? 'alert' : 'status'}>
          {' '}
          {state.message}
        </span>
      ) : null}
    </>
  );
}

/** Positions closed today: what they made, not ₹0.00 prices and values. */
function ClosedTable({ rows }: { readonly rows: readonly Row[] }) {
  return (
    <div className="scroll-x">
      <table className="grid" data-testid="closed-positions-table">
        <thead>
          <tr>
            <th>Symbol</th>
            <th>Product</th>
            <th className="num">Bought</th>
            <th className="num">Sold</th>
            <th className="num">Realised</th>
            <th className="num">Charges</th>
            <th className="num">Net</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.key} data-symbol={row.symbol}>
              <th scope="row">{row.symbol}</th>
              <td>{row.product}</td>
              <td className="num">{quantity(row.buyQuantity)}</td>
              <td className="num">{quantity(row.sellQuantity)}</td>
              <td className={`num ${tone(row.realisedPaise)}`}>{signedRupees(row.realisedPaise)}</td>
              <td className="num">{rupees(row.chargesPaise)}</td>
              <td className={`num ${tone(row.realisedPaise - row.chargesPaise)}`}>{signedRupees(row.realisedPaise - row.chargesPaise)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function PositionTable({ rows, now }: { readonly rows: readonly Row[]; readonly now: number }) {
  return (
    <div className="scroll-x">
      <table className="grid" data-testid="positions-table">
        <thead>
          <tr>
            <th>Symbol</th>
            <th>Product</th>
            <th className="num">Net qty</th>
            <th className="num">Avg price</th>
            <th className="num">LTP</th>
            <th className="num">Market value</th>
            <th className="num">Unrealised</th>
            <th className="num">Realised</th>
            <th className="num">Charges</th>
            <th className="num">Bought</th>
            <th className="num">Sold</th>
            <th>
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => {
            const quoteStale = row.quoteAtMs === undefined || now - row.quoteAtMs > QUOTE_STALE_MS;
            return (
              <tr key={row.key} data-symbol={row.symbol}>
                <th scope="row">{row.symbol}</th>
                <td>{row.product}</td>
                <td className={`num ${tone(row.netQuantity)}`}>{quantity(row.netQuantity)}</td>
                <td className="num">{rupees(row.averagePricePaise)}</td>
                <td className={`num${quoteStale ? ' stale-value' : ''}`} title={quoteStale ? `price from ${ago(row.quoteAtMs, now)}: not live` : 'live'}>
                  {rupees(row.lastPricePaise)}
                  {quoteStale ? <span className="stale-tag">stale</span> : null}
                </td>
                <td className="num">{signedRupees(row.marketValuePaise)}</td>
                <td className={`num ${tone(row.unrealisedPaise)}`} data-testid="unrealised">
                  {signedRupees(row.unrealisedPaise)}
                </td>
                <td className={`num ${tone(row.realisedPaise)}`}>{signedRupees(row.realisedPaise)}</td>
                <td className="num">{rupees(row.chargesPaise)}</td>
                <td className="num">{quantity(row.buyQuantity)}</td>
                <td className="num">{quantity(row.sellQuantity)}</td>
                <td className="actions">
                  <ExitButton row={row} />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
