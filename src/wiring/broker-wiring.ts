/**
 * What a broker mode plugs into the one start-up sequence (`startTroupe` in `src/app.ts`,
 * `startTrading` in `./trading.ts`). Paper and Kite differ only here: which execution actor
 * the tree spawns, where market data comes from, how the journal is reconciled with the
 * broker at start, and the mode's own services (Kite: the session and the ticker). Everything
 * around them (stores, leases, recovery order, notifications, the gateway, the stop) is the
 * same code for both.
 */
import type { Observable } from 'rxjs';
import type { Instrument, RiskAlert, Tick } from '../model/index.js';
import type { Journal } from '../actors/journal.js';
import type { CheckpointStore, RecoveryTarget } from '../persistence/recovery.js';
import type { Logger } from '../observability/logger.js';
import type { Runtime, RuntimeOptions } from '../runtime/runtime.js';

/** `TROUPE_BROKER`: who fills the orders. */
export type BrokerMode = 'paper' | 'kite';

/**
 * The runtime options that choose the execution actor: empty for the paper broker
 * (`/execution/paper`), `kite` for `/execution/kite`. The only place a mode says how its
 * execution actor is spawned.
 */
export type ExecutionWiring = Pick<RuntimeOptions, 'kite'>;

/** What recovery needs from the start-up sequence (the journal, the restored tree, the watermark). */
export interface RecoveryContext {
  readonly journal: Journal;
  readonly target: RecoveryTarget;
  readonly portfolios: readonly { readonly portfolioId: string; readonly initialCashPaise: number }[];
  readonly log: Logger;
  readonly checkpoints?: CheckpointStore;
}

/** Whatever recovery reports; its alerts are published once the tree runs. */
export interface Recovered {
  readonly alerts: readonly RiskAlert[];
}

/** The market-data feed of a mode. */
export interface FeedWiring {
  /** The `source` label of `troupe_ticks_total` and friends: `synthetic`, `replay` or `kite`. */
  readonly source: string;
  /** Raw candidate tick batches (validated downstream); the replay is paced by the tree, hence the runtime. */
  ticks$(runtime: Runtime): Observable<readonly unknown[]>;
  /** Whether the source is connected (the pipeline's own state is checked besides). */
  connected(): boolean;
  /** A live exchange feed: silence outside market hours is not a stall. */
  readonly followsExchangeHours: boolean;
  /** Whether an admin may pause it (`PUT /api/v1/market/feed`, drills of the stalled-feed alert). */
  readonly pausable: boolean;
  /** Valid ticks as they reach the tree (Kite: the runtime's clock follows their exchange time). */
  onTicks?(ticks: readonly Tick[]): void;
}

/** A mode's own services, started once the tree runs and recovery's alerts are out. */
export interface ModeServices {
  /** Connects the feed (after the pipeline subscribed to it). */
  start(): void;
  /** Disconnects the feed and releases the mode's metrics bindings; the tree is stopped after it. */
  stop(): void;
}

/** One broker mode, ready to be started: see the module comment. */
export interface BrokerWiring<R extends Recovered = Recovered> {
  readonly mode: BrokerMode;
  /** The portfolio it trades (`paper` or `kite`): leases, journal and API use this id. */
  readonly portfolioId: string;
  readonly instruments: readonly Instrument[];
  /** The runtime's clock: the market's time (simulated, replayed, or the exchange's latest tick). */
  readonly clock: { nowMs(): number };
  /** What `troupe_market_open` and the time series' retention read. */
  marketNowMs(): number;
  /** The execution actor: see {@link ExecutionWiring}. */
  readonly execution: ExecutionWiring;
  /** The journal stream the execution actor writes; the watermark moves along it. */
  readonly journalStream: string;
  readonly feed: FeedWiring;
  /** Replays the journal onto the restored snapshots, then reconciles with the broker's truth. */
  recover(context: RecoveryContext): Promise<R>;
  /** The mode's services around the running tree (Kite: session expiry, postbacks, ticker events). */
  attach(runtime: Runtime): ModeServices;
  /** Once the API listens: what "Troupe started …" says, and the line (and fields) when trading is not halted. */
  announce(port: number): { readonly started: string; readonly trading: string; readonly fields: Readonly<Record<string, unknown>> };
}
