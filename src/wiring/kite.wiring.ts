/**
 * Kite mode (Zerodha Kite, or the Kite simulator): `/execution/kite` instead of the paper
 * broker, the Kite ticker instead of the synthetic market, reconciliation with Kite's orders,
 * trades and positions at start, and the session's life (expiry halts trading; a new token
 * resumes it). `npm start -- --broker kite` runs it through `startTroupe`; tests of the Kite
 * tree without stores or gateway use {@link startKiteTrading}.
 */
import type { Subscription } from 'rxjs';
import type { SnapshotStore } from '../actors/core/index.js';
import { KITE_EXECUTION_STREAM } from '../brokers/kite/kite-adapter.js';
import { loadInstruments } from '../brokers/kite/instruments.js';
import { KiteBroker } from '../brokers/kite/kite-broker.js';
import { recoverKite, type KiteRecoveryReport } from './kite-reconcile.js';
import { KiteFeed, type KiteFeedBackoff, type KiteFeedEvent } from '../brokers/kite/ticker.js';
import { kiteSessionExpiry } from '../brokers/kite/token-store.js';
import type { TroupeConfig } from '../config/config.js';
import type { Instrument, Paise } from '../model/index.js';
import type { Journal } from '../actors/journal.js';
import type { CheckpointStore } from '../persistence/recovery.js';
import type { RiskManagerLimits } from '../risk/risk-manager.js';
import type { Logger } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';
import type { Runtime, StrategySpec } from '../runtime/runtime.js';
import type { BrokerWiring, ModeServices } from './broker-wiring.js';
import { kiteCredentials, kiteTokenStore } from './kite-credentials.js';
import { startTrading, type RunningStats } from './trading.js';
import { stopOnce } from './stop-once.js';

/** How to reach Kite and what to trade there. */
export interface KiteWiringOptions {
  readonly apiKey: string;
  /** An access token; or give `requestToken` + `apiSecret` to create a session. */
  readonly accessToken?: string;
  readonly requestToken?: string;
  readonly apiSecret?: string;
  /** REST root (default Kite's). */
  readonly root?: string;
  /** Ticker root (default Kite's). */
  readonly tickerUrl?: string;
  /** Symbols to trade; default the first `maxSymbols` (50) NSE instruments of the dump. */
  readonly symbols?: readonly string[];
  readonly maxSymbols?: number;
  /** Order polling fallback period (default 5000 ms). */
  readonly pollEveryMs?: number;
  /** Ticker watchdog and backoff (defaults: stale after 3 s; 500 ms × 2 up to 30 s). */
  readonly feed?: { readonly staleAfterMs?: number; readonly backoff?: Partial<KiteFeedBackoff> };
  /** Kite client timeout per call (default 7000 ms). */
  readonly timeoutMs?: number;
  /** Troupe's data directory: the instrument dump is cached there per day (`kite/instruments-NSE-<day>.json`). */
  readonly dataDir?: string;
  /** Told once when Kite refuses the session (TokenException / ticker 403): trading has halted. */
  readonly onSessionExpired?: (reason: string) => void;
  /** When the access token expires (epoch ms); default Kite's next 06:00 IST after the start (or after a session created here). */
  readonly sessionExpiresAtMs?: number;
}

/** Kite mode, ready to start: the wiring plus the Kite handles tests and operators use. */
export interface KiteWiring extends BrokerWiring<KiteRecoveryReport> {
  readonly broker: KiteBroker;
  readonly ticker: KiteFeed;
  /** Continues with a new access token (a new login): REST, ticker and order placement resume. */
  resumeWithAccessToken(accessToken: string): void;
}

/** The Kite settings of a configuration (credentials from the environment, the file or the stored session). */
export function kiteWiringOptions(config: TroupeConfig): KiteWiringOptions {
  const credentials = kiteCredentials(config.kite, undefined, () => kiteTokenStore(config));
  return {
    apiKey: credentials.apiKey,
    ...(credentials.accessToken === undefined ? {} : { accessToken: credentials.accessToken }),
    ...(credentials.requestToken === undefined ? {} : { requestToken: credentials.requestToken }),
    ...(credentials.apiSecret === undefined ? {} : { apiSecret: credentials.apiSecret }),
    ...(config.kite.root === undefined ? {} : { root: config.kite.root }),
    ...(config.kite.tickerUrl === undefined ? {} : { tickerUrl: config.kite.tickerUrl }),
    ...(config.kite.symbols === undefined ? {} : { symbols: config.kite.symbols }),
    maxSymbols: config.market.symbols,
    pollEveryMs: config.kite.pollEveryMs,
    dataDir: config.dataDir,
  };
}

/** Logs in (if needed) and loads the instruments; the ticker is created, not connected. */
export async function openKiteWiring(options: KiteWiringOptions, deps: { readonly metrics: Metrics; readonly log: Logger }): Promise<KiteWiring> {
  const { log, metrics } = deps;
  const broker = new KiteBroker({
    apiKey: options.apiKey,
    ...(options.root === undefined ? {} : { root: options.root }),
    ...(options.accessToken === undefined ? {} : { accessToken: options.accessToken }),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
  let token = options.accessToken;
  if (token === undefined) {
    if (options.requestToken === undefined || options.apiSecret === undefined)
      throw new Error('Kite: no access token, and no request token + API secret to create a session');
    token = await broker.createSession(options.requestToken, options.apiSecret);
  }
  const dump = await loadInstruments(broker, { dataDir: options.dataDir });
  log.info({ instruments: dump.map.size, from: dump.from, day: dump.day }, 'Kite instruments loaded');
  const chosen: Instrument[] = options.symbols ? dump.map.require(options.symbols) : dump.map.instruments.slice(0, options.maxSymbols ?? 50);
  const instruments = await broker.withReferencePrices(chosen);
  /** The session's life: expired (trading halted) until a new token resumes it. */
  const session: { token: string; expired: boolean; resumed: boolean; runtime: Runtime | undefined } = {
    token,
    expired: false,
    resumed: false,
    runtime: undefined,
  };
  const ticker = new KiteFeed({
    apiKey: options.apiKey,
    accessToken: () => session.token,
    ...(options.tickerUrl === undefined ? {} : { root: options.tickerUrl }),
    tokens: instruments.map((i) => i.token),
    mode: 'full',
    log,
    ...(options.feed?.staleAfterMs === undefined ? {} : { staleAfterMs: options.feed.staleAfterMs }),
    ...(options.feed?.backoff === undefined ? {} : { backoff: options.feed.backoff }),
  });
  const sessionExpired = (reason: string): void => {
    if (session.expired) return;
    session.expired = true;
    log.error(
      { reason },
      'Kite session expired: trading has halted (no orders are sent, the ticker stopped). Log in again (`troupe kite login`) and restart, or resume with a new access token.',
    );
    options.onSessionExpired?.(reason);
  };
  // exchange time of the latest tick (Kite's clock); wall time before the first one
  let marketTimeMs: number | undefined;

  const attach = (runtime: Runtime): ModeServices => {
    session.runtime = runtime;
    runtime.bus.on('RiskAlert', (alert) => {
      if (alert.code === 'broker-session-expired') sessionExpired(alert.message);
    });
    // for alerting: when the token ends (Kite: 06:00 IST after the login), and whether Kite refused it already
    metrics.kiteSessionExpiry.set((options.sessionExpiresAtMs ?? kiteSessionExpiry(Date.now())) / 1000);
    const unbindHalt = metrics.bindHalt('broker-session', () => session.expired);
    const subscriptions: Subscription[] = [
      ticker.orderUpdates$.subscribe((payload) => runtime.tellKite({ type: 'OrderPostback', payload })),
      ticker.events$.subscribe((event: KiteFeedEvent) => {
        // postbacks sent while the ticker was away are lost: reconcile orders by polling
        // (the poll fetches every order by tag and the trades of those that moved: reconciliation on reconnect)
        if (event.kind === 'gap') runtime.tellKite({ type: 'PollOrders', reason: 'ticker gap' });
        if (event.kind === 'connected') session.resumed = false;
        if (event.kind === 'halted') {
          // a reconnect attempt that left with the old token just before a new login: try once more
          if (session.resumed) {
            session.resumed = false;
            ticker.start();
          } else sessionExpired(event.reason);
        }
      }),
    ];
    let unbindFeed = (): void => undefined;
    return {
      start: () => {
        ticker.start();
        unbindFeed = metrics.bindFeed('kite', () => ticker.stats);
      },
      stop: () => {
        ticker.stop();
        unbindFeed();
        unbindHalt();
        for (const subscription of subscriptions) subscription.unsubscribe();
      },
    };
  };

  return {
    mode: 'kite',
    portfolioId: 'kite',
    instruments,
    clock: { nowMs: () => marketTimeMs ?? Date.now() },
    // the live market runs on wall time (the runtime's clock follows the ticks and stops with them)
    marketNowMs: () => Date.now(),
    // the execution actor: /execution/kite, orders by tag, postbacks and polls
    execution: { kite: { broker, ...(options.pollEveryMs === undefined ? {} : { pollEveryMs: options.pollEveryMs }) } },
    journalStream: KITE_EXECUTION_STREAM,
    feed: {
      source: 'kite',
      ticks$: () => ticker.ticks$,
      connected: () => ticker.connected,
      followsExchangeHours: true,
      pausable: false,
      onTicks: (ticks) => {
        const last = ticks[ticks.length - 1];
        if (last !== undefined && (marketTimeMs === undefined || last.exchangeTimeMs > marketTimeMs)) marketTimeMs = last.exchangeTimeMs;
      },
    },
    // the journal onto the snapshots, then Kite's truth: orders by tag (never re-sent), trades, positions, holdings
    recover: (context) => recoverKite({ ...context, kite: broker, nowMs: () => Date.now() }),
    attach,
    announce: (port) => ({
      started: `Troupe started on Kite (port ${port})`,
      trading: 'Troupe is trading through Kite',
      fields: { port, symbols: instruments.length, root: options.root ?? 'https://api.kite.trade' },
    }),
    broker,
    ticker,
    resumeWithAccessToken(next) {
      session.token = next;
      broker.useAccessToken(next);
      session.expired = false;
      session.resumed = true;
      metrics.kiteSessionExpiry.set(kiteSessionExpiry(Date.now()) / 1000);
      session.runtime?.tellKite({ type: 'SessionRenewed' });
      ticker.start(); // after a halt (403) it connects again with the new token; otherwise a no-op
      log.info('Kite session renewed: trading resumes');
    },
  };
}

/** Options of {@link startKiteTrading}: Kite and the tree, without stores, leases or gateway. */
export interface KiteTradingOptions extends KiteWiringOptions {
  /** Where actor snapshots live; the tree restores from it at start (no duplicate orders after a restart). */
  readonly snapshotStore?: SnapshotStore;
  /** The strategies; or a function of the traded symbols. */
  readonly strategies: readonly StrategySpec[] | ((symbols: readonly string[]) => readonly StrategySpec[]);
  /** Journal watermark: recovery starts from the stored checkpoint and reads only the entries after it. */
  readonly checkpoints?: CheckpointStore;
  /** The portfolio's starting cash (its id is `kite`). */
  readonly portfolio: { readonly portfolioId: 'kite'; readonly initialCashPaise: Paise };
  readonly riskLimits?: Partial<RiskManagerLimits>;
  readonly logger: Logger;
  readonly metrics?: Metrics;
  /** Zerodha's intraday cut-off (minutes after IST midnight, default 15:20): risk refuses MIS intents from it; the RMS squares off. */
  readonly squareOffMinute?: number;
  /**
   * Journal before acting (stream `execution/kite`): with it, start-up replays the journal onto
   * the snapshots and reconciles with Kite (orders by tag, trades, positions, holdings), and
   * every order, order change and fill is durable before it is acted on.
   */
  readonly journal?: Journal;
  readonly onJournalHealth?: (healthy: boolean) => void;
}

/** A running Kite-mode tree (no stores, leases or gateway around it). */
export interface KiteTrading {
  readonly runtime: Runtime;
  readonly broker: KiteBroker;
  readonly feed: KiteFeed;
  readonly instruments: readonly Instrument[];
  readonly stats: Readonly<RunningStats>;
  /** What start-up recovery found (journal mode). */
  readonly recovery: KiteRecoveryReport | undefined;
  /** Continues with a new access token (a new login): REST, ticker and order placement resume. */
  resumeWithAccessToken(accessToken: string): void;
  /** Wall time of the last valid tick, if any. */
  lastTickWallMs(): number | undefined;
  stop(reason: string): Promise<void>;
}

/** The Kite tree through the same {@link startTrading} as `startTroupe`: logs in, loads instruments, starts the tree and the ticker. */
export async function startKiteTrading(options: KiteTradingOptions): Promise<KiteTrading> {
  const log = options.logger;
  const metrics = options.metrics ?? new Metrics({ defaultMetrics: false });
  const wiring = await openKiteWiring(options, { metrics, log });
  const trading = await startTrading({
    wiring,
    strategies: typeof options.strategies === 'function' ? options.strategies(wiring.instruments.map((i) => i.symbol)) : options.strategies,
    initialCashPaise: options.portfolio.initialCashPaise,
    log,
    metrics,
    ...(options.riskLimits ? { riskLimits: options.riskLimits } : {}),
    ...(options.squareOffMinute === undefined ? {} : { squareOffMinute: options.squareOffMinute }),
    ...(options.snapshotStore ? { snapshotStore: options.snapshotStore } : {}),
    ...(options.journal ? { journal: options.journal } : {}),
    ...(options.onJournalHealth ? { onJournalHealth: options.onJournalHealth } : {}),
    ...(options.checkpoints ? { checkpoints: options.checkpoints } : {}),
  });
  return {
    runtime: trading.runtime,
    broker: wiring.broker,
    feed: wiring.ticker,
    instruments: wiring.instruments,
    stats: trading.stats,
    recovery: trading.recovery,
    resumeWithAccessToken: (next) => wiring.resumeWithAccessToken(next),
    lastTickWallMs: () => trading.lastTickWallMs(),
    stop: stopOnce((reason: string) => {
      log.info({ reason }, 'stopping Kite trading: ticker closed, draining actors');
      return trading.stop();
    }),
  };
}
