/**
 * The broker port: what the one execution actor (`src/actors/execution`) needs of a venue.
 * An adapter only translates: Troupe's orders to the venue's calls, the venue's answers to
 * {@link BrokerEvent}s. The order state machine (which orders exist, their latest version,
 * duplicates by client order id), the journal ("journal first, then act") and the reporting
 * to strategies, risk, portfolios and the bus are the actor's, the same for every venue.
 *
 * Adding a broker is a folder under `src/brokers/` with an adapter of this port and a file in
 * `test/brokers/contract/` that runs the shared contract suite against it.
 *
 * Every method is synchronous (it runs inside the actor's handler). Venue I/O starts with
 * {@link BrokerIO.later} and comes back as a venue message (`V`) to {@link BrokerPort.receive}.
 */
import type { Logger } from 'pino';
import type { AutoSquareOff } from '../../model/events.js';
import type { ChargeBreakdown } from '../../model/charges.js';
import type { Fill } from '../../model/fill.js';
import type { Order } from '../../model/order.js';
import type { Tick } from '../../model/market.js';

/** A JSON value (snapshots). */
export type BrokerJson = null | boolean | number | string | BrokerJson[] | { [key: string]: BrokerJson };

/** The outcome of venue I/O, as it comes back to the adapter. */
export type IoResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

/** Stable machine codes for the paper broker's rejections (the text in `statusMessage` is Kite-like and for people). */
export type RejectionCode =
  | 'duplicate-order'
  | 'symbol-mismatch'
  | 'product-not-allowed'
  | 'invalid-quantity'
  | 'lot-size'
  | 'freeze-quantity'
  | 'price-missing'
  | 'invalid-price'
  | 'trigger-missing'
  | 'tick-size'
  | 'price-band'
  | 'trigger-band'
  | 'trigger-above-price'
  | 'trigger-below-price'
  | 'trigger-vs-ltp'
  | 'market-closed'
  | 'insufficient-holdings'
  | 'mis-cutoff';

/**
 * What a broker reports. `order-updated` covers accepted, rejected (with a code), triggered and
 * cancelled; a fill is reported once, as `fill`, carrying the order after the fill (its status
 * is OPEN for a partial fill, COMPLETE for the last). `cancel-rejected` answers a cancel of an
 * unknown or finished order. Order updates and fills are journaled before anyone hears of them.
 */
export type BrokerEvent =
  | { readonly kind: 'order-updated'; readonly order: Order; readonly rejectionCode?: RejectionCode }
  | { readonly kind: 'fill'; readonly fill: Fill; readonly order: Order; readonly charges: ChargeBreakdown }
  | { readonly kind: 'cancel-rejected'; readonly clientOrderId: string; readonly reason: string; readonly atMs: number }
  | AutoSquareOffEvent;

/**
 * The broker squared off an open MIS position at the cut-off (Zerodha's RMS): the orders it
 * placed (reason `auto-square-off`, at most 30,000 units each) follow as `order-updated` events
 * and fill like any other order. `cancelled` lists the MIS orders of the symbol it cancelled first.
 */
export interface AutoSquareOffEvent extends Omit<AutoSquareOff, 'type'> {
  readonly kind: 'auto-square-off';
}

/** What a modification changes (at least one field). */
export interface OrderChange {
  readonly quantity?: number;
  readonly limitPricePaise?: number;
  readonly triggerPricePaise?: number;
}

/** The logging an adapter does (the runtime's pino logger). */
export type BrokerLog = Logger;

/** What the execution actor hands an adapter for the duration of one call. */
export interface BrokerIO<V> {
  /** The market clock. */
  nowMs(): number;
  /** The actor's latest version of an order (the order state machine is the actor's). */
  order(clientOrderId: string): Order | undefined;
  /** Every order the actor holds (open ones and the most recent finished ones). */
  orders(): Iterable<Order>;
  /** Moves an order without an event (the venue's order id learnt): kept, not journaled, not reported. */
  remember(order: Order): void;
  /** What happened at the venue: the actor journals it, then reports it, in order. */
  emit(events: readonly BrokerEvent[]): void;
  /** A modification the venue accepted: the actor frees risk's reservation of a lower quantity, then reports `events`. */
  modified(order: Order, newQuantity: number, events: readonly BrokerEvent[]): void;
  /** A modification the venue refused: logged and published as a RiskAlert (`modify-rejected`). */
  modifyRefused(clientOrderId: string, reason: string, order: Order | undefined): void;
  /** Starts venue I/O; its outcome comes back through {@link BrokerPort.receive} as `message(result)`. */
  later<T>(work: Promise<T>, message: (result: IoResult<T>) => V): void;
  /** Publishes a RiskAlert on the bus. */
  alert(code: string, severity: 'info' | 'warning' | 'critical', message: string): void;
}

/**
 * A venue adapter. `S` is its own state (part of the execution actor's state and snapshot), `V`
 * its own messages (I/O outcomes), which only it reads.
 */
export interface BrokerPort<S, V> {
  /** The venue's name: the execution actor's name (`/execution/<venue>`) and its actor kind. */
  readonly venue: string;
  /** The journal stream of the execution actor on this venue. */
  readonly stream: string;
  /** Snapshot cadence of the execution actor. */
  readonly snapshotEveryMessages: number;
  /** Whether the actor takes market data (an inlet is wired) for this venue (the paper broker matches on it). */
  readonly wantsMarketData: boolean;
  initial(): S;
  /** The adapter's part of the execution snapshot (fields next to `orders` and `finished`). */
  encode(state: S): { readonly [key: string]: BrokerJson };
  /** Decodes what {@link encode} wrote (the whole snapshot object is given; other fields are ignored). Throws a clear error on a bad snapshot. */
  decode(json: unknown): S;
  /** The actor (re)started; `restored` when it came back from a snapshot (Kite: catch up with a poll). */
  started(state: S, restored: boolean, io: BrokerIO<V>): void;
  /** Sends a durable order to the venue. */
  place(state: S, order: Order, io: BrokerIO<V>): void;
  /** Cancels an order (`order`: the actor's version, undefined when it does not know it). */
  cancel(state: S, clientOrderId: string, order: Order | undefined, io: BrokerIO<V>): void;
  /** Why the venue cannot modify this working order now, if it cannot (checked before the generic rules). */
  modifyProblem(state: S, order: Order): string | undefined;
  /** Applies a validated modification: answers with `io.modified` or `io.modifyRefused` (now or later). */
  modify(state: S, order: Order, change: OrderChange, io: BrokerIO<V>): void;
  /** Market data (only when {@link wantsMarketData}). */
  marketData(state: S, ticks: readonly Tick[], io: BrokerIO<V>): void;
  /** An order update the venue pushed (Kite: a postback's raw fields); the adapter decodes it. */
  postback(state: S, payload: unknown, io: BrokerIO<V>): void;
  /** Catch up with the venue (a timer, a ticker gap). */
  poll(state: S, reason: string | undefined, io: BrokerIO<V>): void;
  /** A new login succeeded: placement may resume. */
  sessionRenewed(state: S, io: BrokerIO<V>): void;
  /** The outcome of the adapter's own I/O. */
  receive(state: S, message: V, io: BrokerIO<V>): void;
  /** The actor forgot a finished order (it keeps a bounded number): drop what the adapter keeps about it. */
  forget(state: S, order: Order): void;
}
