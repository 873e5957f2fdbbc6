import { memo, useMemo, useState } from 'react';
import { CandleChart } from '../components/charts.js';
import { useStale } from '../components/connection-indicator.js';
import { Sparkline } from '../components/sparkline.js';
import type { Fill, Instrument, Page } from '../lib/api.js';
import type { LiveQuote } from '../lib/live-store.js';
import { ago, changeBasisPoints, percentFromBasisPoints, quantity, rupees, signedRupees, tone } from '../lib/format.js';
import { useDesk, useLive, useNow, useRemote } from '../lib/hooks.js';

const QUOTE_STALE_MS = 10_000;

export function MarketPage({ symbol: selected, onSelect }: { readonly symbol: string | undefined; readonly onSelect: (symbol: string) => void }) {
  const { desk } = useDesk();
  const quotes = useLive((state) => state.quotes);
  const stale = useStale();
  const now = useNow();
  const [filter, setFilter] = useState('');
  const instruments = useMemo(() => desk.instruments.filter((instrument) => filter === '' || instrument.symbol.includes(filter.toUpperCase()) || instrument.name.toUpperCase().includes(filter.toUpperCase())), [desk.instruments, filter]);
  const symbol = selected ?? desk.instruments[0]?.symbol;
  return (
    <div className={`page${stale ? ' stale' : ''}`}>
      <h1>Market watch</h1>
      <div className="columns">
        <section className="panel grow" aria-label="Quotes">
          <div className="filters">
            <label>
              Find <input value={filter} onChange={(event) => setFilter(event.target.value)} placeholder="symbol or name" size={16} />
            </label>
            <span className="muted small">{quotes.size} symbols streaming · click a row for its chart</span>
          </div>
          <table className="grid selectable" data-testid="quotes-table">
            <thead>
              <tr>
                <th>Symbol</th>
                <th className="num">LTP</th>
                <th className="num">Change</th>
                <th className="num">%</th>
                <th className="num">Bid</th>
                <th className="num">Ask</th>
                <th className="num">Volume</th>
                <th>Trend</th>
                <th>Updated</th>
              </tr>
            </thead>
            <tbody>
              {instruments.map((instrument) => {
                const quote = quotes.get(instrument.symbol);
                const isStale = !quote || now - quote.receivedAtMs > QUOTE_STALE_MS || stale;
                return <QuoteRow key={instrument.symbol} instrument={instrument} quote={quote} selected={instrument.symbol === symbol} stale={isStale} staleLabel={isStale ? (quote ? `stale · ${ago(quote.receivedAtMs, now)}` : 'no quote yet') : 'live'} onSelect={onSelect} />;
              })}
            </tbody>
          </table>
        </section>
        <aside className="side wide">{symbol ? <SymbolChart symbol={symbol} /> : null}</aside>
      </div>
    </div>
  );
}

interface QuoteRowProps {
  readonly instrument: Instrument;
  readonly quote: LiveQuote | undefined;
  readonly selected: boolean;
  readonly stale: boolean;
  readonly staleLabel: string;
  readonly onSelect: (symbol: string) => void;
}

/** One row; memoised so a frame re-renders only the symbols whose quote changed. */
const QuoteRow = memo(function QuoteRow({ instrument, quote, selected, stale, staleLabel, onSelect }: QuoteRowProps) {
  const last = quote?.ltpPaise ?? instrument.lastPricePaise;
  const reference = instrument.referencePricePaise;
  const change = last === null ? undefined : last - reference;
  return (
    <tr className={selected ? 'selected' : ''} data-symbol={instrument.symbol} data-ltp={last ?? ''}>
      <th scope="row">
        <button type="button" className="link" onClick={() => onSelect(instrument.symbol)} title={instrument.name}>
          {instrument.symbol}
        </button>
      </th>
      <td className={`num${stale ? ' stale-value' : ''}`} data-testid="ltp">
        {rupees(last)}
      </td>
      <td className={`num ${tone(change)}`}>{signedRupees(change)}</td>
      <td className={`num ${tone(change)}`}>{last === null ? '—' : percentFromBasisPoints(changeBasisPoints(last, reference))}</td>
      <td className="num">{rupees(quote?.bidPaise)}</td>
      <td className="num">{rupees(quote?.askPaise)}</td>
      <td className="num">{quantity(quote?.volume)}</td>
      <td>
        <Sparkline points={quote?.history ?? []} />
      </td>
      <td className="small muted">{stale ? <span className="stale-tag">{staleLabel}</span> : 'live'}</td>
    </tr>
  );
});

function SymbolChart({ symbol }: { readonly symbol: string }) {
  const { desk } = useDesk();
  const quote = useLive((state) => state.quotes.get(symbol));
  const trades = useRemote<Page<Fill>>((session) => session.call((client) => client.trades({ symbol, limit: 200 })), [symbol], 10_000);
  const fills = useMemo(() => (trades.data?.items ?? []).map((fill) => ({ atMs: fill.atMs, side: fill.side, quantity: fill.quantity, pricePaise: fill.pricePaise })), [trades.data]);
  const instrument = desk.instruments.find((candidate) => candidate.symbol === symbol);
  const last = quote?.ltpPaise ?? instrument?.lastPricePaise ?? null;
  return (
    <section className="panel" aria-label={`${symbol} chart`}>
      <h2>
        {symbol} <span className="muted small">{instrument?.name}</span>
      </h2>
      <div className="chart-head">
        <span className="big num">{rupees(last)}</span>
        {instrument && last !== null ? (
          <span className={`num ${tone(last - instrument.referencePricePaise)}`}>
            {signedRupees(last - instrument.referencePricePaise)} ({percentFromBasisPoints(changeBasisPoints(last, instrument.referencePricePaise))})
          </span>
        ) : null}
      </div>
      <CandleChart candles={quote?.candles ?? []} fills={fills} />
      <p className="muted small">
        One-minute candles (market time) built from the live quotes since this page opened, volume below; arrows mark this session&apos;s fills ({fills.length}).
        {trades.error ? ` Fills unavailable: ${trades.error}` : ''}
      </p>
    </section>
  );
}
