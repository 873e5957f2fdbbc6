import { memo, useMemo, useRef, useState } from 'react';
import { CandleChart, type SignalMarker } from '../components/charts.js';
import { useStale } from '../components/connection-indicator.js';
import { Sparkline } from '../components/sparkline.js';
import { bucketStartMs } from '../../../src/model/bar-aggregate.js';
import type { Instrument, Order, Page } from '../lib/api.js';
import { joinCandles, loadBars, loadDepth, strategyOverlays, TIMEFRAMES, type DepthResponse, type Timeframe } from '../lib/history.js';
import type { Candle, LiveQuote } from '../lib/live-store.js';
import { ago, changeBasisPoints, percentFromBasisPoints, quantity, rupees, signedRupees, tone } from '../lib/format.js';
import { useDesk, useLive, useNow, useRemote } from '../lib/hooks.js';

const QUOTE_STALE_MS = 10_000;

export function MarketPage({ symbol: selected, onSelect }: { readonly symbol: string | undefined; readonly onSelect: (symbol: string) => void }) {
  const { desk } = useDesk();
  const quotes = useLive((state) => state.quotes);
  const stale = useStale();
  const now = useNow();
  const [filter, setFilter] = useState('');
  const instruments = useMemo(
    () =>
      desk.instruments.filter(
        (instrument) => filter === '' || instrument.symbol.includes(filter.toUpperCase()) || instrument.name.toUpperCase().includes(filter.toUpperCase()),
      ),
    [desk.instruments, filter],
  );
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
          <table className="grid selectable quotes" data-testid="quotes-table">
            <colgroup>
              <col className="quotes-symbol" />
              <col className="quotes-price" />
              <col className="quotes-price" />
              <col className="quotes-percent" />
              <col className="quotes-price" />
              <col className="quotes-price" />
              <col className="quotes-volume" />
              <col className="quotes-trend" />
              <col className="quotes-updated" />
            </colgroup>
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
                return (
                  <QuoteRow
                    key={instrument.symbol}
                    instrument={instrument}
                    quote={quote}
                    selected={instrument.symbol === symbol}
                    stale={isStale}
                    staleLabel={isStale ? (quote ? `stale · ${ago(quote.receivedAtMs, now)}` : 'no quote yet') : 'live'}
                    onSelect={onSelect}
                  />
                );
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

/**
 * One row; memoised so a frame re-renders only the symbols whose quote changed. What a quote
 * changes (text and classes) sits in a `.cell` box of fixed size with size and layout
 * containment (styles.css): a new price lays out that box only, not the 50-row table around
 * it. Nothing a quote changes is on the `td`s or the `tr` (a class there relays out the table).
 */
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
      <td className="num" data-testid="ltp">
        <div className={`cell${stale ? ' stale-value' : ''}`}>{rupees(last)}</div>
      </td>
      <td className="num">
        <div className={`cell ${tone(change)}`}>{signedRupees(change)}</div>
      </td>
      <td className="num">
        <div className={`cell ${tone(change)}`}>{last === null ? '—' : percentFromBasisPoints(changeBasisPoints(last, reference))}</div>
      </td>
      <td className="num">
        <div className="cell">{rupees(quote?.bidPaise)}</div>
      </td>
      <td className="num">
        <div className="cell">{rupees(quote?.askPaise)}</div>
      </td>
      <td className="num">
        <div className="cell">{quantity(quote?.volume)}</div>
      </td>
      <td>
        <div className="cell">
          <Sparkline points={quote?.history ?? []} />
        </div>
      </td>
      <td className="small muted">
        <div className="cell">{stale ? <span className="stale-tag">{staleLabel}</span> : 'live'}</div>
      </td>
    </tr>
  );
});

const EMPTY_ORDERS: readonly Order[] = [];

const signalKey = (signal: SignalMarker): string => `${signal.atMs}|${signal.side}|${signal.quantity}|${signal.strategyId}`;

/** The previous array while the new one has the same items (by `key`), so what depends on it does not run again. */
function useSameContent<T>(items: readonly T[], key: (item: T) => string): readonly T[] {
  const kept = useRef<{ items: readonly T[]; key: string } | null>(null);
  const joined = items.map(key).join(';');
  if (kept.current?.key !== joined) kept.current = { items, key: joined };
  return kept.current.items;
}

/** Candle objects that did not change keep their identity, so the chart repaints only the tail (see `candleChange`). */
function useStableCandles(candles: readonly Candle[]): readonly Candle[] {
  const previous = useRef<readonly Candle[]>([]);
  const before = previous.current;
  const sameAt = (index: number): boolean => {
    const a = before[index];
    const b = candles[index];
    return (
      a !== undefined &&
      b !== undefined &&
      a.timeSec === b.timeSec &&
      a.openPaise === b.openPaise &&
      a.highPaise === b.highPaise &&
      a.lowPaise === b.lowPaise &&
      a.closePaise === b.closePaise &&
      a.volume === b.volume
    );
  };
  const stable = candles.map((candle, index) => (sameAt(index) ? before[index]! : candle));
  const unchanged = stable.length === before.length && stable.every((candle, index) => candle === before[index]);
  if (!unchanged) previous.current = stable;
  return previous.current;
}

const bucketOfFor =
  (timeframe: Timeframe) =>
  (atMs: number): number =>
    bucketStartMs(atMs, timeframe) / 1000;

function SymbolChart({ symbol }: { readonly symbol: string }) {
  const { desk } = useDesk();
  const quote = useLive((state) => state.quotes.get(symbol));
  const liveOrders = useLive((state) => state.orders);
  const [strategy, setStrategy] = useState('');
  const [timeframe, setTimeframe] = useState<Timeframe>('1m');
  const bars = useRemote((session) => loadBars(session, symbol, timeframe), [symbol, timeframe], 10_000);
  const depth = useRemote((session) => loadDepth(session, symbol), [symbol], 2_000);
  const strategyList = useRemote((session) => session.call((client) => client.strategies()), [], 30_000);
  const history = useRemote<Page<Order>>((session) => session.call((client) => client.orders({ symbol, limit: 200 })), [symbol], 10_000);
  // the strategies' orders on this symbol (their signals): the REST history merged with the stream's
  const orders = useMemo(() => {
    const byId = new Map((history.data?.items ?? EMPTY_ORDERS).map((order) => [order.clientOrderId, order]));
    for (const order of liveOrders.values()) if (order.symbol === symbol) byId.set(order.clientOrderId, order);
    return [...byId.values()];
  }, [history.data, liveOrders, symbol]);
  const strategies = useMemo(() => [...new Set(orders.map((order) => order.strategyId))].sort(), [orders]);
  // every order update anywhere gives a new order map; the signals keep their identity while what they mark is the same
  const signals = useSameContent(
    useMemo(
      () =>
        orders
          .filter((order) => order.strategyId !== 'manual' && (strategy === '' || order.strategyId === strategy))
          .map((order) => ({ atMs: order.createdAtMs, side: order.side, quantity: order.quantity, strategyId: order.strategyId })),
      [orders, strategy],
    ),
    signalKey,
  );
  // fills: one marker per candle and side from the server (strategy filter: the markers are per portfolio)
  const fills = useMemo(
    () =>
      (bars.data?.timeframe === timeframe ? bars.data.markers : []).map((marker) => ({
        atMs: marker.startMs,
        side: marker.side,
        quantity: marker.quantity,
        pricePaise: marker.averagePricePaise,
      })),
    [bars.data, timeframe],
  );
  const joined = useMemo(
    () =>
      bars.data && bars.data.symbol === symbol && bars.data.timeframe === timeframe
        ? joinCandles(bars.data.candles, bars.data.storedThroughMs, quote?.candles ?? [], timeframe)
        : joinCandles([], null, quote?.candles ?? [], timeframe),
    [bars.data, quote?.candles, symbol, timeframe],
  );
  const candles = useStableCandles(joined);
  const overlayKey = `${candles.length}|${candles[candles.length - 1]?.timeSec ?? ''}|${strategyList.data?.items.length ?? 0}|${timeframe}`;
  const candlesNow = useRef(candles);
  candlesNow.current = candles;
  const overlays = useMemo(() => strategyOverlays(strategyList.data?.items ?? [], symbol, candlesNow.current), [overlayKey, symbol, strategyList.data]);
  const bucketOf = useMemo(() => bucketOfFor(timeframe), [timeframe]);
  const instrument = desk.instruments.find((candidate) => candidate.symbol === symbol);
  const last = quote?.ltpPaise ?? instrument?.lastPricePaise ?? null;
  return (
    <section className="panel market-chart" aria-label={`${symbol} chart`}>
      <div className="panel-head">
        <h2>
          {symbol} {instrument && instrument.name !== symbol ? <span className="muted small">{instrument.name}</span> : null}
        </h2>
        <div className="chart-controls">
          <div className="segmented" role="group" aria-label="Timeframe">
            {TIMEFRAMES.map((option) => (
              <button key={option} type="button" aria-pressed={timeframe === option} onClick={() => setTimeframe(option)} data-timeframe={option}>
                {option}
              </button>
            ))}
          </div>
          <label className="small muted">
            Signals of{' '}
            <select value={strategy} onChange={(event) => setStrategy(event.target.value)} aria-label="Strategy whose signals are marked">
              <option value="">every strategy</option>
              {strategies.map((id) => (
                <option key={id} value={id}>
                  {id}
                </option>
              ))}
            </select>
          </label>
        </div>
      </div>
      <div className="chart-head">
        <span className="big num">{rupees(last)}</span>
        {instrument && last !== null ? (
          <span className={`num ${tone(last - instrument.referencePricePaise)}`}>
            {signedRupees(last - instrument.referencePricePaise)} ({percentFromBasisPoints(changeBasisPoints(last, instrument.referencePricePaise))})
          </span>
        ) : null}
      </div>
      <CandleChart candles={candles} fills={fills} signals={signals} overlays={overlays} bucketOf={bucketOf} />
      <p className="muted small legend">
        <span className="legend-dot buy" /> <span className="legend-dot sell" /> signal · ▲ buys · ▼ sells (one mark per candle and side, total quantity).{' '}
        {overlays.map((overlay) => (
          <span key={overlay.label} className="overlay-key">
            <span className="overlay-swatch" style={{ background: overlay.color }} /> {overlay.label}{' '}
          </span>
        ))}
        {timeframe} candles in market time (IST) from the time-series store, then live; volume below.
        {bars.error ? ` History unavailable: ${bars.error}` : ''}
        {bars.data?.truncated ? ' Only the latest candles are shown.' : ''}
      </p>
      <DepthTable depth={depth.data} />
    </section>
  );
}

function DepthTable({ depth }: { readonly depth: DepthResponse | undefined }) {
  if (!depth || depth.levels === 0) return <p className="muted small">No order book for this symbol yet.</p>;
  const rows = Math.max(depth.buy.length, depth.sell.length);
  return (
    <div className="depth">
      <h3>
        Market depth{' '}
        <span className="muted small">{depth.levels === 1 ? '(best bid and ask: this feed sends no deeper book)' : `(${depth.levels} levels)`}</span>
      </h3>
      <table className="grid compact" data-testid="depth-table">
        <thead>
          <tr>
            <th className="num">Bid qty</th>
            <th className="num">Bid</th>
            <th className="num">Ask</th>
            <th className="num">Ask qty</th>
          </tr>
        </thead>
        <tbody>
          {Array.from({ length: rows }, (_, index) => (
            <tr key={index}>
              <td className="num">{quantity(depth.buy[index]?.quantity)}</td>
              <td className="num up">{rupees(depth.buy[index]?.pricePaise)}</td>
              <td className="num down">{rupees(depth.sell[index]?.pricePaise)}</td>
              <td className="num">{quantity(depth.sell[index]?.quantity)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
