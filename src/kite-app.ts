/**
 * Trading through Zerodha Kite (or the Kite simulator): the same actor tree as paper
 * trading, with `/execution/kite` instead of the paper broker and the Kite ticker instead
 * of the synthetic market. `npm start -- --broker kite` (or `TROUPE_BROKER=kite`) runs
 * {@link startTroupeKite}; tests drive {@link startKiteTrading} directly.
 */
import { readFileSync } from 'node:fs';
import type { Subscription } from 'rxjs';
import { announceHalts, bindOperationalMetrics, type Running, type RunningStats } from './app.js';
import type { SnapshotStore } from './actors/core/index.js';
import { openStores } from './persistence/stores.js';
import { PostgresAuthStore } from './persistence/auth-store.js';
import { PostgresAuditStore } from './persistence/audit-store.js';
import { KiteBroker } from './brokers/kite/kite-broker.js';
import { KiteFeed, type KiteFeedBackoff, type KiteFeedEvent } from './brokers/kite/ticker.js';
import { KiteTokenStore, kiteSessionExpiry } from './brokers/kite/token-store.js';
import { loadInstruments } from './brokers/kite/instruments.js';
import { recoverKite, type KiteRecoveryReport } from './brokers/kite/reconcile.js';
import type { Journal } from './persistence/journal.js';
import { OrderJournal } from './persistence/journal-orders.js';
import { ConfigError, type TroupeConfig } from './config/config.js';
import { loadTls } from './gateway/tls.js';
import { buildGateway, listenGateway } from './gateway/gateway.js';
import { openSecretBox } from './config/secret-box.js';
import { PostgresGatewayStateStore } from './persistence/gateway-state-store.js';
import { withStoredStrategies } from './gateway/strategy-restore.js';
import { acquireTradingLeases, leaseGauges, tradingLeaseNames, type LeaseKeeper } from './persistence/lease.js';
import { scheduleCheckpoints, SqlCheckpointStore, type CheckpointStore } from './persistence/recovery.js';
import { KITE_EXECUTION_STREAM } from './actors/execution/kite-execution.actor.js';
import type { Instrument, Paise } from './model/index.js';
import type { RiskManagerLimits } from './risk/risk-manager.js';
import type { Logger } from './runtime/logger.js';
import { Metrics } from './runtime/metrics.js';
import { Runtime, type StrategySpec } from './runtime/runtime.js';
import { marketDataPipeline } from './streams/index.js';
import { notifierFromConfig } from './notifications/index.js';

/** Options of {@link startKiteTrading}. */
export interface KiteTradingOptions {
  /** Where actor snapshots live; the tree restores from it at start (no duplicate orders after a restart). */
  readonly snapshotStore?: SnapshotStore;
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
  /** The strategies; or a function of the traded symbols (strategies restored from the API's store are checked against them). */
  readonly strategies: readonly StrategySpec[] | ((symbols: readonly string[]) => readonly StrategySpec[]);
  /**
   * Called once the strategies are known, before the snapshots are restored and the journal is
   * replayed (nothing has been written yet): take the single-writer leases here. A rejection
   * stops the start.
   */
  readonly beforeRecovery?: (strategies: readonly StrategySpec[]) => Promise<void>;
  /** Journal watermark: recovery starts from the stored checkpoint and reads only the entries after it. */
  readonly checkpoints?: CheckpointStore;
  readonly portfolio: { readonly portfolioId: string; readonly initialCashPaise: Paise };
  readonly riskLimits?: Partial<RiskManagerLimits>;
  readonly logger: Logger;
  readonly metrics?: Metrics;
  /** Order polling fallback period (default 5000 ms). */
  readonly pollEveryMs?: number;
  /** Zerodha's intraday cut-off (minutes after IST midnight, default 15:20): risk refuses MIS intents from it; the RMS squares off. */
  readonly squareOffMinute?: number;
  /** Ticker watchdog and backoff (defaults: stale after 3 s; 500 ms × 2 up to 30 s). */
  readonly feed?: { readonly staleAfterMs?: number; readonly backoff?: Partial<KiteFeedBackoff> };
  /** Kite client timeout per call (default 7000 ms). */
  readonly timeoutMs?: number;
  /**
   * Journal before acting (stream `execution/kite`): with it, start-up replays the journal onto
   * the snapshots and reconciles with Kite (orders by tag, trades, positions, holdings), and
   * every order, order change and fill is durable before it is acted on.
   */
  readonly journal?: Journal;
  readonly onJournalHealth?: (healthy: boolean) => void;
  /** Troupe's data directory: the instrument dump is cached there per day (`kite/instruments-NSE-<day>.json`). */
  readonly dataDir?: string;
  /** Told once when Kite refuses the session (TokenException / ticker 403): trading has halted. */
  readonly onSessionExpired?: (reason: string) => void;
  /** When the access token expires (epoch ms); default Kite's next 06:00 IST after the start (or after a session created here). */
  readonly sessionExpiresAtMs?: number;
}

/** A running Kite-mode tree. */
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

/** Logs in (if needed), loads instruments, starts the tree and the ticker. */
export async function startKiteTrading(options: KiteTradingOptions): Promise<KiteTrading> {
  const log = options.logger;
  const broker = new KiteBroker({
    apiKey: options.apiKey,
    ...(options.root === undefined ? {} : { root: options.root }),
    ...(options.accessToken === undefined ? {} : { accessToken: options.accessToken }),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
  let accessToken = options.accessToken;
  if (accessToken === undefined) {
    if (options.requestToken === undefined || options.apiSecret === undefined) throw new Error('Kite: no access token, and no request token + API secret to create a session');
    accessToken = await broker.createSession(options.requestToken, options.apiSecret);
  }
  const dump = await loadInstruments(broker, { dataDir: options.dataDir });
  log.info({ instruments: dump.map.size, from: dump.from, day: dump.day }, 'Kite instruments loaded');
  const chosen: Instrument[] = options.symbols ? dump.map.require(options.symbols) : dump.map.instruments.slice(0, options.maxSymbols ?? 50);
  const instruments = await broker.withReferencePrices(chosen);
  const strategies = typeof options.strategies === 'function' ? options.strategies(instruments.map((i) => i.symbol)) : options.strategies;
  await options.beforeRecovery?.(strategies);

  const metrics = options.metrics ?? new Metrics({ defaultMetrics: false });
  const stats: RunningStats = { ticks: 0, orders: 0, fills: 0, rejectedTicks: 0 };
  let marketTimeMs: number | undefined;
  let lastTickWallMs: number | undefined;
  const runtime = new Runtime({
    instruments,
    strategies,
    portfolio: options.portfolio,
    // exchange time of the latest tick (Kite's clock); wall time before the first one
    clock: { nowMs: () => marketTimeMs ?? Date.now() },
    logger: log,
    metrics,
    ...(options.riskLimits ? { riskLimits: options.riskLimits } : {}),
    ...(options.squareOffMinute === undefined ? {} : { squareOffMinute: options.squareOffMinute }),
    kite: { broker, ...(options.pollEveryMs === undefined ? {} : { pollEveryMs: options.pollEveryMs }) },
    ...(options.snapshotStore ? { snapshotStore: options.snapshotStore } : {}),
    ...(options.journal ? { journal: options.journal } : {}),
    ...(options.onJournalHealth ? { onJournalHealth: options.onJournalHealth } : {}),
  });
  if (options.snapshotStore) {
    const restored = await runtime.restoreFrom(options.snapshotStore);
    log.info({ restored }, restored > 0 ? 'restored actor state from the last run' : 'starting with fresh state');
  }
  // the journal onto the snapshots, then Kite's truth: orders by tag (never re-sent), trades, positions, holdings
  const recovery = options.journal
    ? await recoverKite({
        journal: options.journal,
        target: runtime,
        kite: broker,
        portfolios: [options.portfolio],
        nowMs: () => Date.now(),
        log,
        ...(options.checkpoints ? { checkpoints: options.checkpoints } : {}),
      })
    : undefined;
  runtime.start();
  // counted before recovery's alerts are published (position mismatches, reconciliation: alert rules watch them)
  metrics.attachBus(runtime.bus);
  for (const alert of recovery?.alerts ?? []) runtime.bus.publish(alert);
  let expired = false;
  let resumed = false;
  const sessionExpired = (reason: string): void => {
    if (expired) return;
    expired = true;
    log.error({ reason }, 'Kite session expired: trading has halted (no orders are sent, the ticker stopped). Log in again (`troupe kite login`) and restart, or resume with a new access token.');
    options.onSessionExpired?.(reason);
  };
  runtime.bus.on('RiskAlert', (alert) => {
    if (alert.code === 'broker-session-expired') sessionExpired(alert.message);
  });
  // for alerting: when the token ends (Kite: 06:00 IST after the login), and whether Kite refused it already
  metrics.kiteSessionExpiry.set((options.sessionExpiresAtMs ?? kiteSessionExpiry(Date.now())) / 1000);
  const unbindHalt = metrics.bindHalt('broker-session', () => expired);
  runtime.bus.on('OrderSubmitted', () => (stats.orders += 1));
  runtime.bus.on('OrderFilled', () => (stats.fills += 1));

  let token = accessToken;
  const feed = new KiteFeed({
    apiKey: options.apiKey,
    accessToken: () => token,
    ...(options.tickerUrl === undefined ? {} : { root: options.tickerUrl }),
    tokens: instruments.map((i) => i.token),
    mode: 'full',
    log,
    ...(options.feed?.staleAfterMs === undefined ? {} : { staleAfterMs: options.feed.staleAfterMs }),
    ...(options.feed?.backoff === undefined ? {} : { backoff: options.feed.backoff }),
  });
  const subscriptions: Subscription[] = [];
  subscriptions.push(feed.orderUpdates$.subscribe((payload) => runtime.tellKite({ type: 'KiteOrderUpdate', payload })));
  subscriptions.push(
    feed.events$.subscribe((event: KiteFeedEvent) => {
      // postbacks sent while the ticker was away are lost: reconcile orders by polling
      // (the poll fetches every order by tag and the trades of those that moved: reconciliation on reconnect)
      if (event.kind === 'gap') runtime.tellKite({ type: 'PollOrders', reason: 'ticker gap' });
      if (event.kind === 'connected') resumed = false;
      if (event.kind === 'halted') {
        // a reconnect attempt that left with the old token just before a new login: try once more
        if (resumed) {
          resumed = false;
          feed.start();
        } else sessionExpired(event.reason);
      }
    }),
  );
  subscriptions.push(
    marketDataPipeline({
      source$: feed.ticks$,
      instruments,
      onRejected: (rejection) => {
        stats.rejectedTicks += 1;
        metrics.ticksRejected.inc({ reason: rejection.reason });
        log.warn({ reason: rejection.reason, detail: rejection.detail }, 'Kite tick dropped');
      },
      onTicks: (symbol, ticks) => {
        lastTickWallMs = Date.now();
        metrics.noteTicks(symbol, lastTickWallMs);
        const last = ticks[ticks.length - 1];
        if (last !== undefined && (marketTimeMs === undefined || last.exchangeTimeMs > marketTimeMs)) marketTimeMs = last.exchangeTimeMs;
        stats.ticks += ticks.length;
        metrics.ticks.inc({ source: 'kite' }, ticks.length);
        if (runtime.offerTicks(symbol, ticks)) metrics.ticksDelivered.inc({ source: 'kite' }, ticks.length);
        else metrics.ticksDropped.inc({ source: 'kite' }, ticks.length);
      },
      onBars: (bars) => runtime.offerBars(bars),
      barIntervals: ['1m', '5m'],
      onError: (error) => log.error({ err: error }, 'Kite market-data pipeline failed'),
    }),
  );
  // the live market runs on wall time (the runtime's clock follows the ticks and stops with them)
  metrics.bindMarketClock(() => Date.now());
  metrics.watchSymbols(instruments.map((instrument) => instrument.symbol), Date.now());
  feed.start();
  const unbindFeed = metrics.bindFeed('kite', () => feed.stats);

  let stopping: Promise<void> | undefined;
  return {
    runtime,
    broker,
    feed,
    instruments,
    stats,
    recovery,
    resumeWithAccessToken(next) {
      token = next;
      broker.useAccessToken(next);
      expired = false;
      resumed = true;
      metrics.kiteSessionExpiry.set(kiteSessionExpiry(Date.now()) / 1000);
      runtime.tellKite({ type: 'SessionRenewed' });
      feed.start(); // after a halt (403) it connects again with the new token; otherwise a no-op
      log.info('Kite session renewed: trading resumes');
    },
    lastTickWallMs: () => lastTickWallMs,
    stop(reason) {
      stopping ??= (async () => {
        log.info({ reason }, 'stopping Kite trading: ticker closed, draining actors');
        feed.stop();
        unbindFeed();
        unbindHalt();
        for (const subscription of subscriptions) subscription.unsubscribe();
        await runtime.stop(8_000);
      })();
      return stopping;
    },
  };
}

/** Credentials from the environment, else from the JSON file named by `KITE_CREDENTIALS_FILE`, else (access token) the session stored by `troupe kite login`. */
export function kiteCredentials(
  config: TroupeConfig['kite'],
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
  tokenStore?: () => KiteTokenStore,
  requireSession = true,
): {
  apiKey: string;
  apiSecret: string | undefined;
  accessToken: string | undefined;
  requestToken: string | undefined;
} {
  let file: Record<string, unknown> = {};
  if (config.credentialsFile !== undefined) {
    try {
      const parsed: unknown = JSON.parse(readFile(config.credentialsFile));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
      file = parsed as Record<string, unknown>;
    } catch (error) {
      throw new ConfigError('KITE_CREDENTIALS_FILE', `could not be read as JSON credentials (${error instanceof Error ? error.message : String(error)})`);
    }
  }
  const fromFile = (key: string): string | undefined => (typeof file[key] === 'string' && file[key] !== '' ? file[key] : undefined);
  const apiKey = config.apiKey ?? fromFile('api_key');
  if (apiKey === undefined) throw new ConfigError('KITE_API_KEY', 'is required with --broker kite (or api_key in KITE_CREDENTIALS_FILE)');
  let accessToken = config.accessToken ?? fromFile('access_token');
  const apiSecret = config.apiSecret ?? fromFile('api_secret');
  const requestToken = config.requestToken ?? fromFile('request_token');
  let storeProblem: string | undefined;
  if (accessToken === undefined && requestToken === undefined && tokenStore !== undefined) {
    // the session `troupe kite login` stored (encrypted), while it is valid
    const loaded = tokenStore().load(apiKey);
    accessToken = loaded.session?.accessToken;
    storeProblem = loaded.problem;
  }
  if (requireSession && accessToken === undefined && (requestToken === undefined || apiSecret === undefined)) {
    throw new ConfigError(
      'KITE_ACCESS_TOKEN',
      `is required with --broker kite: log in with \`troupe kite login\` (stores the session encrypted), or set KITE_ACCESS_TOKEN, or KITE_REQUEST_TOKEN + KITE_API_SECRET, or a KITE_CREDENTIALS_FILE${storeProblem === undefined ? '' : ` (${storeProblem})`}`,
    );
  }
  return { apiKey, apiSecret, accessToken, requestToken };
}

/** The encrypted session store of this configuration. */
export function kiteTokenStore(config: TroupeConfig): KiteTokenStore {
  return new KiteTokenStore({ dataDir: config.dataDir, secretKey: config.kite.secretKey });
}

/** `npm start -- --broker kite`: the tree on Kite, with the gateway. Resolves once the API listens. */
export async function startTroupeKite(config: TroupeConfig, log: Logger): Promise<Running> {
  const startedAtMs = Date.now();
  // HTTPS files are read and checked first: a bad certificate or key stops the start before anything opens
  const tls = config.gateway.tls ? loadTls(config.gateway.tls) : undefined;
  const credentials = kiteCredentials(config.kite, undefined, () => kiteTokenStore(config));
  const metrics = new Metrics();
  const stores = await openStores(config, log);
  // single writer, as in paper mode: journal writes carry this process's fencing tokens (leases taken before recovery)
  let leases: LeaseKeeper | undefined;
  let leaseNames: readonly string[] = [];
  const journal = new OrderJournal(stores.database, { fences: () => leases?.fences() ?? [] });
  let journalHealthy = true;
  const portfolio = { portfolioId: 'kite', initialCashPaise: config.initialCashPaise };
  // strategies made or changed through the API come back with their config (their pause state: buildGateway)
  const gatewayState = new PostgresGatewayStateStore(stores.database);
  const storedStrategies = await gatewayState.loadStrategies();
  let trading: KiteTrading;
  try {
    trading = await startKiteTrading({
      riskLimits: config.risk,
      snapshotStore: stores.snapshots,
      journal,
      onJournalHealth: (healthy) => (journalHealthy = healthy),
      checkpoints: new SqlCheckpointStore(stores.database),
      dataDir: config.dataDir,
      apiKey: credentials.apiKey,
      ...(credentials.accessToken === undefined ? {} : { accessToken: credentials.accessToken }),
      ...(credentials.requestToken === undefined ? {} : { requestToken: credentials.requestToken }),
      ...(credentials.apiSecret === undefined ? {} : { apiSecret: credentials.apiSecret }),
      ...(config.kite.root === undefined ? {} : { root: config.kite.root }),
      ...(config.kite.tickerUrl === undefined ? {} : { tickerUrl: config.kite.tickerUrl }),
      ...(config.kite.symbols === undefined ? {} : { symbols: config.kite.symbols }),
      maxSymbols: config.market.symbols,
      strategies: (symbols) =>
        withStoredStrategies([{ strategyId: 'ema-cross-1', kind: 'ema-cross', config: { quantity: 10 } }], storedStrategies, symbols, (strategy, reason) =>
          log.error({ strategyId: strategy.strategyId, reason }, 'a stored strategy cannot start; left out'),
        ),
      beforeRecovery: async (strategies) => {
        leaseNames = tradingLeaseNames(portfolio.portfolioId, strategies.map((strategy) => strategy.strategyId));
        leases = await acquireTradingLeases(stores.database, config, leaseNames, log);
      },
      portfolio,
      logger: log,
      metrics,
      pollEveryMs: config.kite.pollEveryMs,
      squareOffMinute: config.squareOffMinute,
    });
  } catch (error) {
    await leases?.release().catch(() => undefined);
    await stores.close().catch(() => undefined);
    throw error;
  }
  // the journal watermark moves forward in the background: the next start reads only what came after it
  const checkpointer = scheduleCheckpoints({ db: stores.database, journal, stream: KITE_EXECUTION_STREAM, log });
  metrics.bindPersistence({
    dependencies: () => ({ journal: journalHealthy }),
    leases: () => leaseGauges(leases, leaseNames),
    ingest: () => undefined,
  });
  bindOperationalMetrics(metrics, config, stores, () => leaseGauges(leases, leaseNames));
  const gateway = await buildGateway({
    authStore: new PostgresAuthStore(stores.database),
    auditStore: new PostgresAuditStore(stores.database),
    // manual order numbering and API strategy states survive restarts; TOTP secrets sealed with the data dir's key
    stateStore: gatewayState,
    secretBox: openSecretBox(config.gateway.secretKey, config.dataDir),
    runtime: trading.runtime,
    config: config.gateway,
    startedAtMs,
    allowFaultInjection: config.allowFaultInjection,
    logger: log,
    ...(tls ? { tls } : {}),
    persistenceState: () => ({ journal: journalHealthy ? 'ok' : 'down', redis: 'not configured' }),
    feedState: () => {
      const last = trading.lastTickWallMs();
      return { connected: trading.feed.connected, lastTickAgeMs: last === undefined ? undefined : Date.now() - last, followsExchangeHours: true };
    },
  });
  // fills, halts (a session expiry among them) and alerts to the configured channels, off the trading path
  const notifier = notifierFromConfig(config.notifications, { log, registry: metrics.registry });
  notifier?.attach(trading.runtime.bus);
  const port = await listenGateway(gateway, config.port, config.host);
  await announceHalts(gateway, log, `Troupe started on Kite (port ${port})`);
  log.info({ port, symbols: trading.instruments.length, root: config.kite.root ?? 'https://api.kite.trade' }, 'Troupe is trading through Kite');
  let stopping: Promise<void> | undefined;
  return {
    port,
    runtime: trading.runtime,
    stats: trading.stats,
    gateway,
    persistence: () => ({ journal: journalHealthy ? 'ok' : 'down', redis: 'not configured' }),
    stop(reason) {
      stopping ??= (async () => {
        // the API first, while the tree still runs: no order is accepted once it drains, and a
        // manual order waiting for its journal entry completes first (as in paper mode)
        await gateway.close();
        await trading.stop(reason);
        await notifier?.stop();
        await checkpointer.stop();
        await leases?.release();
        await stores.close();
        log.info('stopped cleanly');
      })();
      return stopping;
    },
  };
}
