import { useMemo } from 'react';
import { useStale } from '../components/connection-indicator.js';
import { ago, quantity, rupees, signedRupees, tone } from '../lib/format.js';
import { useLive, useNow } from '../lib/hooks.js';
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
      </section>
      {closed.length > 0 ? (
        <section className="panel" aria-label="Closed today">
          <h2>
            Closed today <span className="muted small">({closed.length})</span>
          </h2>
          <PositionTable rows={closed} now={now} />
        </section>
      ) : null}
    </div>
  );
}

function PositionTable({ rows, now }: { readonly rows: readonly ReturnType<typeof markPosition>[]; readonly now: number }) {
  return (
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
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
