import { useMemo, useState } from 'react';
import { OrderTicket } from '../components/order-ticket.js';
import { roleAtLeast, type Fill, type Order, type Page } from '../lib/api.js';
import { humanise } from '../lib/errors.js';
import { dateTime, quantity, rupees } from '../lib/format.js';
import { useDesk, useLive, useRemote } from '../lib/hooks.js';
import { isBehind } from '../lib/live-store.js';
import { divRound, mul } from '../../../src/model/money.js';

const PAGE_SIZE = 25;
const STATUSES = ['OPEN', 'TRIGGER PENDING', 'COMPLETE', 'CANCELLED', 'REJECTED'] as const;
const TERMINAL = new Set(['COMPLETE', 'REJECTED', 'CANCELLED']);

interface Filters {
  readonly symbol: string;
  readonly status: string;
  readonly strategy: string;
  readonly side: string;
  /** yyyy-mm-dd (a trading day, IST) or empty */
  readonly from: string;
  readonly to: string;
}

const NO_FILTERS: Filters = { symbol: '', status: '', strategy: '', side: '', from: '', to: '' };

/** The filters as query parameters (`to` is the day after the last day asked for: the API's bound is exclusive). */
function filterQuery(filters: Filters, withStatus: boolean): Record<string, string> {
  const query: Record<string, string> = {};
  if (filters.symbol) query.symbol = filters.symbol;
  if (withStatus && filters.status) query.status = filters.status;
  if (filters.strategy) query.strategy = filters.strategy;
  if (filters.side) query.side = filters.side;
  if (filters.from) query.from = filters.from;
  if (filters.to) query.to = nextDay(filters.to);
  return query;
}

function nextDay(day: string): string {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + 1);
  return date.toISOString().slice(0, 10);
}

/** Start of a yyyy-mm-dd day in IST, epoch ms. */
const istDayStart = (day: string): number => Date.parse(`${day}T00:00:00+05:30`);

/** Downloads every row the filters match as CSV (the server streams it). */
function CsvButton({ what, filters, withStatus }: { readonly what: 'orders' | 'trades'; readonly filters: Filters; readonly withStatus: boolean }) {
  const { session } = useDesk();
  const [state, setState] = useState<{ readonly busy: boolean; readonly error?: string }>({ busy: false });
  const download = async (): Promise<void> => {
    setState({ busy: true });
    try {
      const query = new URLSearchParams({ ...filterQuery(filters, withStatus), format: 'csv' }).toString();
      await session.downloadCsv(`/api/v1/${what}?${query}`, `troupe-${what}.csv`);
      setState({ busy: false });
    } catch (error) {
      setState({ busy: false, error: humanise(error) });
    }
  };
  return (
    <span className="csv-export">
      <button
        type="button"
        onClick={() => void download()}
        disabled={state.busy}
        data-testid={`${what}-csv`}
        title="Every row that matches the filters, as CSV (rupees to the paisa)"
      >
        {state.busy ? 'Exporting…' : 'Download CSV'}
      </button>
      {state.error ? <span className="field-error small"> {state.error}</span> : null}
    </span>
  );
}

export function OrdersPage({ selectedId, onSelect }: { readonly selectedId: string | undefined; readonly onSelect: (id: string | undefined) => void }) {
  const { session, desk } = useDesk();
  const [tab, setTab] = useState<'orders' | 'trades'>('orders');
  const canTrade = roleAtLeast(session.role, 'trader');
  return (
    <div className="page">
      <h1>Orders &amp; trades</h1>
      <div className="columns">
        <div className="grow">
          <div className="tabs" role="tablist" aria-label="Orders or trades">
            <button type="button" role="tab" aria-selected={tab === 'orders'} className={tab === 'orders' ? 'active' : ''} onClick={() => setTab('orders')}>
              Orders
            </button>
            <button type="button" role="tab" aria-selected={tab === 'trades'} className={tab === 'trades' ? 'active' : ''} onClick={() => setTab('trades')}>
              Trades
            </button>
          </div>
          {tab === 'orders' ? <OrdersTable selectedId={selectedId} onSelect={onSelect} /> : <TradesTable />}
        </div>
        {/* the ticket first and in view (sticky): its answer and the order it opens stay above the fold */}
        <aside className="side sticky-side">
          <section className="panel" aria-label="Manual order">
            <h2>Manual order</h2>
            {canTrade ? (
              <OrderTicket
                instruments={desk.instruments}
                place={(order) => session.call((client) => client.placeOrder(order))}
                onPlaced={(id) => onSelect(id)}
              />
            ) : (
              <p className="muted">Your role ({session.role}) can watch but not trade.</p>
            )}
          </section>
          {selectedId ? <OrderDetail id={selectedId} onClose={() => onSelect(undefined)} /> : null}
        </aside>
      </div>
    </div>
  );
}

function FilterBar({ filters, onChange, withStatus }: { readonly filters: Filters; readonly onChange: (next: Filters) => void; readonly withStatus: boolean }) {
  const [draft, setDraft] = useState(filters);
  return (
    <form
      className="filters"
      aria-label="Filters"
      onSubmit={(event) => {
        event.preventDefault();
        onChange({ ...draft, symbol: draft.symbol.trim().toUpperCase(), strategy: draft.strategy.trim() });
      }}
    >
      <label>
        Symbol <input name="symbol" value={draft.symbol} onChange={(event) => setDraft({ ...draft, symbol: event.target.value })} size={10} />
      </label>
      {withStatus ? (
        <label>
          Status{' '}
          <select name="status" value={draft.status} onChange={(event) => setDraft({ ...draft, status: event.target.value })}>
            <option value="">Any</option>
            {STATUSES.map((status) => (
              <option key={status} value={status}>
                {status}
              </option>
            ))}
          </select>
        </label>
      ) : null}
      <label>
        Strategy <input name="strategy" value={draft.strategy} onChange={(event) => setDraft({ ...draft, strategy: event.target.value })} size={12} />
      </label>
      <label>
        Side{' '}
        <select name="side" value={draft.side} onChange={(event) => setDraft({ ...draft, side: event.target.value })}>
          <option value="">Any</option>
          <option value="BUY">BUY</option>
          <option value="SELL">SELL</option>
        </select>
      </label>
      <label>
        From <input type="date" name="from" value={draft.from} onChange={(event) => setDraft({ ...draft, from: event.target.value })} />
      </label>
      <label>
        To <input type="date" name="to" value={draft.to} onChange={(event) => setDraft({ ...draft, to: event.target.value })} />
      </label>
      <button type="submit">Apply</button>
      <button
        type="button"
        onClick={() => {
          setDraft(NO_FILTERS);
          onChange(NO_FILTERS);
        }}
      >
        Clear
      </button>
    </form>
  );
}

function Pager({
  page,
  hasNext,
  onPrevious,
  onNext,
}: {
  readonly page: number;
  readonly hasNext: boolean;
  readonly onPrevious: () => void;
  readonly onNext: () => void;
}) {
  return (
    <nav className="pager" aria-label="Pages">
      <button type="button" disabled={page === 0} onClick={onPrevious}>
        ← Newer
      </button>
      <span className="muted">Page {page + 1}</span>
      <button type="button" disabled={!hasNext} onClick={onNext}>
        Older →
      </button>
    </nav>
  );
}

function matches(order: Order, filters: Filters): boolean {
  return (
    (filters.symbol === '' || order.symbol === filters.symbol) &&
    (filters.status === '' || order.status === filters.status) &&
    (filters.strategy === '' || order.strategyId === filters.strategy) &&
    (filters.side === '' || order.side === filters.side) &&
    (filters.from === '' || order.createdAtMs >= istDayStart(filters.from)) &&
    (filters.to === '' || order.createdAtMs < istDayStart(nextDay(filters.to)))
  );
}

function OrdersTable({ selectedId, onSelect }: { readonly selectedId: string | undefined; readonly onSelect: (id: string) => void }) {
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [cursors, setCursors] = useState<readonly (string | undefined)[]>([undefined]);
  const page = cursors.length - 1;
  const cursor = cursors[page];
  const remote = useRemote<Page<Order>>(
    (session) => session.call((client) => client.orders({ limit: PAGE_SIZE, ...filterQuery(filters, true), ...(cursor ? { cursor } : {}) })),
    [filters, cursor],
  );
  const live = useLive((state) => state.orders);
  // the first page is live: the stream's orders (newer, or updated) merged over the REST page
  const rows = useMemo(() => {
    const items = remote.data?.items ?? [];
    const fresher = (order: Order): Order => {
      const streamed = live.get(order.clientOrderId);
      return streamed && !isBehind(streamed, order) ? streamed : order;
    };
    if (page > 0) return items.map(fresher);
    const byId = new Map(items.map((order) => [order.clientOrderId, fresher(order)]));
    for (const order of live.values()) if (matches(order, filters) && !byId.has(order.clientOrderId)) byId.set(order.clientOrderId, order);
    return [...byId.values()].sort((a, b) => b.createdAtMs - a.createdAtMs || (a.clientOrderId < b.clientOrderId ? 1 : -1)).slice(0, PAGE_SIZE);
  }, [remote.data, live, page, filters]);

  return (
    <section className="panel" aria-label="Orders">
      <FilterBar
        filters={filters}
        withStatus
        onChange={(next) => {
          setFilters(next);
          setCursors([undefined]);
        }}
      />
      <CsvButton what="orders" filters={filters} withStatus />
      {remote.error ? (
        <div className="banner banner-error" role="alert">
          {remote.error}
        </div>
      ) : null}
      {rows.length === 0 && !remote.loading ? (
        <p className="muted">No orders match.</p>
      ) : (
        <table className="grid selectable" data-testid="orders-table">
          <thead>
            <tr>
              <th>Time</th>
              <th>Order</th>
              <th>Symbol</th>
              <th>Side</th>
              <th>Type</th>
              <th className="num">Qty</th>
              <th className="num">Filled</th>
              <th className="num">Avg price</th>
              <th>Status</th>
              <th>Strategy</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((order) => (
              <tr
                key={order.clientOrderId}
                className={order.clientOrderId === selectedId ? 'selected' : ''}
                data-order={order.clientOrderId}
                data-status={order.status}
              >
                <td className="nowrap">{dateTime(order.createdAtMs)}</td>
                <td>
                  <button type="button" className="link mono" onClick={() => onSelect(order.clientOrderId)}>
                    {order.clientOrderId}
                  </button>
                </td>
                <td>{order.symbol}</td>
                <td className={order.side === 'BUY' ? 'up' : 'down'}>{order.side}</td>
                <td>{order.orderType}</td>
                <td className="num">{quantity(order.quantity)}</td>
                <td className="num">{quantity(order.filledQuantity)}</td>
                <td className="num">{order.filledQuantity > 0 ? rupees(divRound(order.filledValuePaise, order.filledQuantity)) : '—'}</td>
                <td>
                  <span className={`badge status-${order.status.replace(/\s+/g, '-').toLowerCase()}`}>{order.status}</span>
                </td>
                <td>{order.strategyId}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager
        page={page}
        hasNext={(remote.data?.nextCursor ?? null) !== null}
        onPrevious={() => setCursors(cursors.slice(0, -1))}
        onNext={() => setCursors([...cursors, remote.data?.nextCursor ?? undefined])}
      />
    </section>
  );
}

function TradesTable() {
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [cursors, setCursors] = useState<readonly (string | undefined)[]>([undefined]);
  const page = cursors.length - 1;
  const cursor = cursors[page];
  const remote = useRemote<Page<Fill>>(
    (session) => session.call((client) => client.trades({ limit: PAGE_SIZE, ...filterQuery(filters, false), ...(cursor ? { cursor } : {}) })),
    [filters, cursor],
    page === 0 ? 5_000 : undefined,
  );
  const rows = remote.data?.items ?? [];
  return (
    <section className="panel" aria-label="Trades">
      <FilterBar
        filters={filters}
        withStatus={false}
        onChange={(next) => {
          setFilters(next);
          setCursors([undefined]);
        }}
      />
      <CsvButton what="trades" filters={filters} withStatus={false} />
      {remote.error ? (
        <div className="banner banner-error" role="alert">
          {remote.error}
        </div>
      ) : null}
      {rows.length === 0 && !remote.loading ? (
        <p className="muted">No trades yet.</p>
      ) : (
        <table className="grid" data-testid="trades-table">
          <thead>
            <tr>
              <th>Time</th>
              <th>Symbol</th>
              <th>Side</th>
              <th className="num">Qty</th>
              <th className="num">Price</th>
              <th className="num">Value</th>
              <th className="num">Charges</th>
              <th>Order</th>
              <th>Strategy</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((fill) => (
              <tr key={fill.fillId}>
                <td className="nowrap">{dateTime(fill.atMs)}</td>
                <td>{fill.symbol}</td>
                <td className={fill.side === 'BUY' ? 'up' : 'down'}>{fill.side}</td>
                <td className="num">{quantity(fill.quantity)}</td>
                <td className="num">{rupees(fill.pricePaise)}</td>
                <td className="num">{rupees(mul(fill.pricePaise, fill.quantity))}</td>
                <td className="num">{rupees(fill.chargesPaise)}</td>
                <td className="mono">{fill.clientOrderId}</td>
                <td>{fill.strategyId}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager
        page={page}
        hasNext={(remote.data?.nextCursor ?? null) !== null}
        onPrevious={() => setCursors(cursors.slice(0, -1))}
        onNext={() => setCursors([...cursors, remote.data?.nextCursor ?? undefined])}
      />
    </section>
  );
}

function OrderDetail({ id, onClose }: { readonly id: string; readonly onClose: () => void }) {
  const { session } = useDesk();
  const remote = useRemote<Order>((current) => current.call((client) => client.request<Order>('GET', `/api/v1/orders/${encodeURIComponent(id)}`)), [id]);
  const live = useLive((state) => state.orders.get(id));
  const steps = useLive((state) => state.orderSteps.get(id));
  const [message, setMessage] = useState<string | undefined>();
  const order = live && remote.data ? (isBehind(live, remote.data) ? remote.data : live) : (live ?? remote.data);
  const cancel = async (): Promise<void> => {
    setMessage(undefined);
    try {
      await session.call((client) => client.cancelOrder(id));
      setMessage('Cancel requested; the broker confirms on the stream.');
    } catch (error) {
      setMessage(humanise(error));
    }
  };
  return (
    <section className="panel order-detail" aria-label={`Order ${id}`} data-testid="order-detail">
      <div className="panel-head">
        <h2>
          Order <span className="mono">{id}</span>
        </h2>
        <button type="button" className="link" onClick={onClose} aria-label="Close order detail">
          ✕
        </button>
      </div>
      {!order ? (
        <p className={remote.error ? 'field-error' : 'muted'}>{remote.error ?? 'Loading…'}</p>
      ) : (
        <>
          <dl className="facts">
            <dt>Status</dt>
            <dd data-testid="order-status">{order.status}</dd>
            {order.statusMessage ? (
              <>
                <dt>Message</dt>
                <dd>{order.statusMessage}</dd>
              </>
            ) : null}
            <dt>Instrument</dt>
            <dd>
              {order.side} {quantity(order.quantity)} {order.symbol} · {order.orderType} · {order.product} · {order.validity}
            </dd>
            {order.limitPricePaise !== undefined ? (
              <>
                <dt>Limit</dt>
                <dd className="num">{rupees(order.limitPricePaise)}</dd>
              </>
            ) : null}
            {order.triggerPricePaise !== undefined ? (
              <>
                <dt>Trigger</dt>
                <dd className="num">{rupees(order.triggerPricePaise)}</dd>
              </>
            ) : null}
            <dt>Filled</dt>
            <dd className="num">
              {quantity(order.filledQuantity)} / {quantity(order.quantity)}
              {order.filledQuantity > 0 ? ` @ ${rupees(divRound(order.filledValuePaise, order.filledQuantity))}` : ''}
            </dd>
            <dt>Strategy</dt>
            <dd>{order.strategyId}</dd>
            <dt>Broker id</dt>
            <dd className="mono">{order.brokerOrderId ?? '—'}</dd>
          </dl>
          <h3>
            Lifecycle <span className="muted small">(market time, IST)</span>
          </h3>
          <ol className="lifecycle" data-testid="lifecycle">
            <li data-at={order.createdAtMs}>
              <span className="muted">{dateTime(order.createdAtMs)}</span> created
            </li>
            {(steps ?? []).map((step) => (
              <li key={step.seq} data-at={step.atMs}>
                <span className="muted">{dateTime(step.atMs)}</span> {step.event}: <strong>{step.status}</strong>
                {step.fill ? ` — ${quantity(step.fill.quantity)} @ ${rupees(step.fill.pricePaise)} (charges ${rupees(step.fill.chargesPaise)})` : ''}
                {step.message ? ` — ${step.message}` : ''}
              </li>
            ))}
            {!steps || steps.length === 0 ? (
              <li data-at={order.updatedAtMs}>
                <span className="muted">{dateTime(order.updatedAtMs)}</span> last update: <strong>{order.status}</strong>
              </li>
            ) : null}
          </ol>
          {!TERMINAL.has(order.status) && roleAtLeast(session.role, 'trader') ? (
            <button type="button" className="danger" onClick={() => void cancel()}>
              Cancel order
            </button>
          ) : null}
          {message ? <p className="small">{message}</p> : null}
        </>
      )}
    </section>
  );
}
