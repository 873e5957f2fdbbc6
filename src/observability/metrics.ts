import { statfsSync } from 'node:fs';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type LabelValues } from 'prom-client';
import { isMarketOpenAt, type DomainEvent } from '../model/index.js';

/** A flattened view of one actor's health, as the metrics need it. */
export interface ActorHealthSample {
  readonly path: string;
  readonly kind: string;
  readonly mailboxDepth: number;
  readonly processed: number;
  readonly restarts: number;
  readonly failures: number;
  readonly running: boolean;
}

/** Portfolio figures for gauges, in rupees (display only). */
export interface PortfolioSample {
  readonly portfolioId: string;
  readonly equityRupees: number;
  readonly netPnlRupees: number;
  readonly grossExposureRupees: number;
}

/** Where the gateway's own gauges read from (bound by the gateway). */
export interface GatewayMetricsSources {
  wsClients(): number;
  activeApiKeys(): number;
  pausedStrategies(): number;
}

/** A market-data feed's counters (a `KiteFeed`'s stats fit), read at scrape time. */
export interface FeedMetricsSample {
  readonly ticks: number;
  readonly frames: number;
  readonly heartbeats: number;
  readonly reconnects: number;
  readonly stalls: number;
  readonly gaps: number;
  readonly gapMs: number;
  readonly badFrames: number;
  readonly orderUpdates: number;
  readonly connected: boolean;
  /** Wall time of the last frame (tick or heartbeat), epoch ms. */
  readonly lastFrameAtMs: number | undefined;
}

export interface MetricsSources {
  actors(): readonly ActorHealthSample[];
  deadLetters(): number;
  portfolios(): readonly PortfolioSample[];
}

/** Where the stores' gauges read from (bound by the app): dependencies, leases, tick ingest. */
export interface PersistenceMetricsSources {
  /** 1 up / 0 down per configured dependency (`journal`, `redis`). */
  dependencies(): Readonly<Record<string, boolean>>;
  /** Single-writer leases: held or not, with their fencing token. */
  leases(): readonly { readonly lease: string; readonly held: boolean; readonly token: number }[];
  /** Tick and bar ingest into the time series. */
  ingest(): IngestStats | undefined;
}

/** The time-series ingest's figures the metrics read (the recorder's stats have these and more). */
export interface IngestStats {
  readonly queueDepth: number;
  readonly shedTicks: number;
  readonly writtenTicks: number;
  readonly failedTicks: number;
  readonly shedBars: number;
  readonly writtenBars: number;
}

/**
 * Why order placement can be halted, each a `troupe_trading_halted{reason}` series:
 * `kill-switch` (risk: the day's loss reached the limit), `broker-session` (Kite refused the
 * session), `journal` (the order journal is unavailable: fail closed), `lease` (a single-writer
 * lease is not held, so journal writes are fenced off).
 */
export const HALT_REASONS = ['kill-switch', 'broker-session', 'journal', 'lease'] as const;
export type HaltReason = (typeof HALT_REASONS)[number];

/** The risk manager's figures, read at scrape time (bound by the risk actor). */
export interface RiskMetricsSample {
  readonly killSwitchEngaged: boolean;
  /** The day's loss that trips the kill switch, paise (positive). */
  readonly maxDailyLossPaise: number;
  /** Today's P&L per portfolio as risk computes it (realised + unrealised − charges since the day began), paise. */
  readonly portfolios: readonly { readonly portfolioId: string; readonly dayPnlPaise: number }[];
}

/** Dependencies whose request latency is measured (`troupe_dependency_latency_seconds{dependency}`). */
export type MeasuredDependency = 'journal' | 'redis';

/**
 * Troupe's Prometheus metrics. Labels are bounded: symbols, actor paths, reasons and
 * statuses come from closed sets; never an order id.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly ticks: Counter<'source'>;
  readonly ticksRejected: Counter<'reason'>;
  readonly dataRejected: Counter<'kind'>;
  readonly orders: Counter<'status'>;
  readonly fills: Counter;
  readonly riskRejections: Counter<'code'>;
  /** Orders the broker placed to square off MIS positions at the cut-off (Zerodha's RMS). */
  readonly autoSquareOffOrders: Counter;
  readonly tickToOrderSeconds: Histogram;
  /** Ticks handed to symbol actors, by source. */
  readonly ticksDelivered: Counter<'source'>;
  /** Valid ticks not handed on (unknown symbol, runtime stopping), by source. */
  readonly ticksDropped: Counter<'source'>;
  readonly riskAlerts: Counter<'severity' | 'code'>;
  readonly orderEvents: Counter<'event'>;
  readonly filledQuantity: Counter<'side'>;
  readonly filledValueRupees: Counter<'side'>;
  readonly chargesRupees: Counter;
  readonly positionUpdates: Counter;
  readonly httpRequestSeconds: Histogram<'method' | 'route' | 'status'>;
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly rateLimited: Counter;
  readonly logins: Counter<'outcome'>;
  readonly auditEntries: Counter<'action'>;
  readonly wsMessagesSent: Counter<'topic'>;
  readonly wsMessagesReceived: Counter;
  readonly wsDisconnects: Counter<'reason'>;
  readonly wsConflated: Counter;
  readonly wsReplayed: Counter;
  /** WebSocket control messages refused by a connection's rate limit (token bucket). */
  readonly wsRateLimited: Counter;
  private sources: MetricsSources | undefined;
  private gatewaySources: GatewayMetricsSources | undefined;
  private persistenceSources: PersistenceMetricsSources | undefined;
  private readonly feedSources = new Map<string, () => FeedMetricsSample>();
  /** Wall time (epoch ms) of each symbol's last tick, or of the feed's start before its first. */
  private readonly lastTickWallMs = new Map<string, number>();
  /** Whether an operator paused the feed (`troupe_feed_paused`), when the feed can be paused. */
  private feedPausedSource: (() => boolean) | undefined;
  /** Broker order state updates taken in, by how they came (`postback` over the ticker, `poll` over REST). */
  readonly brokerOrderUpdates: Counter<'source'>;
  /** Intents risk queued because only the orders-per-second limits refused them, by kind (`exit` or `entry`). */
  readonly pacedIntents: Counter<'kind'>;
  /** Intents waiting in risk's pacing queue now. */
  readonly pacedQueueDepth: Gauge;
  /** Queued intents sent on once the windows allowed. */
  readonly pacedReleased: Counter;
  /** Queued entries dropped as stale (each also a `pacing-expired` RiskAlert). */
  readonly pacedExpired: Counter;
  /** Market-clock time from an order's creation to each of its fills. */
  readonly orderTimeToFillSeconds: Histogram;
  /** Latency of requests to a store: journal appends (PostgreSQL/PGlite), Redis health PINGs. */
  readonly dependencyLatencySeconds: Histogram<'dependency'>;
  /** Journal appends that failed (each one keeps new orders refused until an append succeeds). */
  readonly journalAppendFailures: Counter;
  /** Epoch seconds at which the Kite access token expires (06:00 IST after the login); 0 outside Kite mode. */
  readonly kiteSessionExpiry: Gauge;
  private readonly haltSources = new Map<HaltReason, () => boolean>();
  private riskSource: (() => RiskMetricsSample) | undefined;
  private marketClock: (() => number) | undefined;
  private dataDir: string | undefined;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'troupe_process_' });
    this.ticks = new Counter({ name: 'troupe_ticks_total', help: 'Valid ticks taken in, by source', labelNames: ['source'], registers });
    this.ticksRejected = new Counter({ name: 'troupe_ticks_rejected_total', help: 'Malformed ticks dropped, by reason', labelNames: ['reason'], registers });
    this.dataRejected = new Counter({
      name: 'troupe_data_rejected_total',
      help: 'Files and rows of a replayed data folder left out, by kind (file, row)',
      labelNames: ['kind'],
      registers,
    });
    this.orders = new Counter({ name: 'troupe_orders_total', help: 'Order status changes, by status', labelNames: ['status'], registers });
    this.fills = new Counter({ name: 'troupe_fills_total', help: 'Executions received', registers });
    this.riskRejections = new Counter({
      name: 'troupe_risk_rejections_total',
      help: 'Intents refused by risk, by reason code',
      labelNames: ['code'],
      registers,
    });
    this.autoSquareOffOrders = new Counter({
      name: 'troupe_auto_square_off_orders_total',
      help: 'Orders the broker placed to square off open MIS positions at the intraday cut-off',
      registers,
    });
    this.pacedIntents = new Counter({
      name: 'troupe_risk_paced_intents_total',
      help: 'Intents queued by risk for the orders-per-second limits, by kind (exit, entry)',
      labelNames: ['kind'],
      registers,
    });
    this.pacedQueueDepth = new Gauge({ name: 'troupe_risk_paced_queue_depth', help: "Intents waiting in risk's pacing queue", registers });
    this.pacedReleased = new Counter({
      name: 'troupe_risk_paced_released_total',
      help: 'Queued intents sent on once the orders-per-second windows allowed',
      registers,
    });
    this.pacedExpired = new Counter({
      name: 'troupe_risk_paced_expired_total',
      help: 'Queued entries dropped as stale (a pacing-expired RiskAlert each)',
      registers,
    });
    this.tickToOrderSeconds = new Histogram({
      name: 'troupe_tick_to_order_seconds',
      help: 'From tick arrival to order at the broker adapter',
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05],
      registers,
    });
    this.registerRuntimeGauges(registers);

    this.ticksDelivered = new Counter({
      name: 'troupe_ticks_delivered_total',
      help: 'Ticks handed to symbol actors, by source',
      labelNames: ['source'],
      registers,
    });
    this.ticksDropped = new Counter({
      name: 'troupe_ticks_dropped_total',
      help: 'Valid ticks not handed on (unknown symbol or stopping), by source',
      labelNames: ['source'],
      registers,
    });
    this.riskAlerts = new Counter({
      name: 'troupe_risk_alerts_total',
      help: 'Risk alerts published, by severity and code',
      labelNames: ['severity', 'code'],
      registers,
    });
    this.orderEvents = new Counter({ name: 'troupe_order_events_total', help: 'Order events on the bus, by event', labelNames: ['event'], registers });
    this.filledQuantity = new Counter({ name: 'troupe_filled_quantity_total', help: 'Shares filled, by side', labelNames: ['side'], registers });
    this.filledValueRupees = new Counter({
      name: 'troupe_filled_value_rupees_total',
      help: 'Traded value of fills in rupees (display), by side',
      labelNames: ['side'],
      registers,
    });
    this.chargesRupees = new Counter({ name: 'troupe_charges_rupees_total', help: 'Charges and brokerage paid in rupees (display)', registers });
    this.positionUpdates = new Counter({ name: 'troupe_position_updates_total', help: 'Position changes published', registers });
    this.httpRequestSeconds = new Histogram({
      name: 'troupe_http_request_duration_seconds',
      help: 'API request latency by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.httpRequests = new Counter({
      name: 'troupe_http_requests_total',
      help: 'API requests by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.rateLimited = new Counter({ name: 'troupe_http_rate_limited_total', help: 'Requests refused with 429', registers });
    this.logins = new Counter({ name: 'troupe_auth_logins_total', help: 'Login attempts by outcome', labelNames: ['outcome'], registers });
    this.auditEntries = new Counter({ name: 'troupe_audit_entries_total', help: 'Audit log entries by action', labelNames: ['action'], registers });
    this.wsMessagesSent = new Counter({
      name: 'troupe_ws_messages_sent_total',
      help: 'WebSocket messages sent, by topic family',
      labelNames: ['topic'],
      registers,
    });
    this.wsMessagesReceived = new Counter({ name: 'troupe_ws_messages_received_total', help: 'WebSocket messages received from clients', registers });
    this.wsDisconnects = new Counter({
      name: 'troupe_ws_disconnects_total',
      help: 'WebSocket connections closed, by reason',
      labelNames: ['reason'],
      registers,
    });
    this.wsConflated = new Counter({ name: 'troupe_ws_conflated_total', help: 'Events replaced by a newer one for a slow WebSocket client', registers });
    this.wsReplayed = new Counter({ name: 'troupe_ws_replayed_total', help: 'Events replayed to resuming WebSocket clients', registers });
    this.wsRateLimited = new Counter({
      name: 'troupe_ws_rate_limited_total',
      help: 'WebSocket client messages refused by the connection rate limit',
      registers,
    });
    this.registerGatewayGauges(registers);
    this.registerStoreGauges(registers);
    this.registerFeedMetrics(registers);
    this.brokerOrderUpdates = new Counter({
      name: 'troupe_broker_order_updates_total',
      help: "Broker order updates taken in: postback (one per order update over the feed), poll (one per REST poll of the day's orders)",
      labelNames: ['source'],
      registers,
    });
    this.registerIngestMetrics(registers);

    this.orderTimeToFillSeconds = new Histogram({
      name: 'troupe_order_time_to_fill_seconds',
      help: "Market-clock time from an order's creation to each of its fills",
      buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900],
      registers,
    });
    this.dependencyLatencySeconds = new Histogram({
      name: 'troupe_dependency_latency_seconds',
      help: 'Latency of store requests: journal appends (PostgreSQL/PGlite), Redis health PINGs',
      labelNames: ['dependency'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.journalAppendFailures = new Counter({
      name: 'troupe_journal_append_failures_total',
      help: 'Order journal appends that failed (new orders are refused until one succeeds)',
      registers,
    });
    this.kiteSessionExpiry = new Gauge({
      name: 'troupe_kite_session_expiry_timestamp_seconds',
      help: 'When the Kite access token expires (06:00 IST after the login), epoch seconds',
      registers,
    });
    this.registerRiskGauges(registers);
    registerHostMetrics(registers, () => this.dataDir);
  }

  /** Actors (`troupe_actor_*{actor,kind}`), dead letters and portfolios, read from {@link bind}'s sources at scrape time. */
  private registerRuntimeGauges(registers: Registry[]): void {
    const actorGauge = (name: string, help: string, pick: (actor: ActorHealthSample) => number): void => {
      scrapedGauge(registers, name, help, ['actor', 'kind'], () =>
        (this.sources?.actors() ?? []).map((actor) => [{ actor: actor.path, kind: actor.kind }, pick(actor)] as const),
      );
    };
    actorGauge('troupe_actor_mailbox_depth', 'Messages and batched items waiting per actor', (actor) => actor.mailboxDepth);
    actorGauge('troupe_actor_restarts', 'Restarts per actor since the process started', (actor) => actor.restarts);
    actorGauge('troupe_actor_processed', 'Messages processed per actor', (actor) => actor.processed);
    actorGauge('troupe_actor_failures', 'Failures (thrown errors) per actor', (actor) => actor.failures);
    actorGauge('troupe_actor_up', '1 when the actor is running', (actor) => (actor.running ? 1 : 0));
    readGauge(registers, 'troupe_dead_letters', 'Messages sent to actors that were not there', () => this.sources?.deadLetters() ?? 0);
    const portfolioGauge = (name: string, help: string, pick: (portfolio: PortfolioSample) => number): void => {
      scrapedGauge(registers, name, help, ['portfolio'], () =>
        (this.sources?.portfolios() ?? []).map((portfolio) => [{ portfolio: portfolio.portfolioId }, pick(portfolio)] as const),
      );
    };
    portfolioGauge('troupe_portfolio_equity_rupees', 'Cash plus market value', (p) => p.equityRupees);
    portfolioGauge('troupe_portfolio_pnl_rupees', 'Realised + unrealised − charges', (p) => p.netPnlRupees);
    portfolioGauge('troupe_portfolio_gross_exposure_rupees', 'Σ |market value| of open positions', (p) => p.grossExposureRupees);
  }

  /** The gateway's gauges (WebSocket clients, API keys, paused strategies), 0 until {@link bindGateway}. */
  private registerGatewayGauges(registers: Registry[]): void {
    const gatewayGauge = (name: string, help: string, pick: (sources: GatewayMetricsSources) => number): void => {
      readGauge(registers, name, help, () => (this.gatewaySources ? pick(this.gatewaySources) : 0));
    };
    gatewayGauge('troupe_ws_clients', 'Connected WebSocket clients', (sources) => sources.wsClients());
    gatewayGauge('troupe_api_keys_active', 'API keys not revoked', (sources) => sources.activeApiKeys());
    gatewayGauge('troupe_strategies_paused', 'Strategies paused through the API', (sources) => sources.pausedStrategies());
  }

  /** Stores: dependencies up or down, and the single-writer leases ({@link bindPersistence}). */
  private registerStoreGauges(registers: Registry[]): void {
    scrapedGauge(
      registers,
      'troupe_dependency_up',
      '1 when a configured store is reachable (journal = PostgreSQL/PGlite, redis = hot tier), 0 when degraded',
      ['dependency'],
      () => Object.entries(this.persistenceSources?.dependencies() ?? {}).map(([dependency, ok]) => [{ dependency }, ok ? 1 : 0] as const),
    );
    const leaseGauge = (name: string, help: string, pick: (lease: { held: boolean; token: number }) => number): void => {
      scrapedGauge(registers, name, help, ['lease'], () =>
        (this.persistenceSources?.leases() ?? []).map((lease) => [{ lease: lease.lease }, pick(lease)] as const),
      );
    };
    leaseGauge('troupe_lease_held', '1 while this process holds the single-writer lease', (lease) => (lease.held ? 1 : 0));
    leaseGauge('troupe_lease_fencing_token', 'Fencing token of the single-writer lease this process holds', (lease) => lease.token);
  }

  /** Market-data feeds (label `feed`: one value per feed kind, e.g. kite), each symbol's last tick, and the operator's pause. */
  private registerFeedMetrics(registers: Registry[]): void {
    const feedCounter = (name: string, help: string, pick: (sample: FeedMetricsSample) => number): void => {
      scrapedCounter(registers, name, help, ['feed'], () => [...this.feedSources].map(([feed, sample]) => [{ feed }, pick(sample())] as const));
    };
    feedCounter('troupe_feed_ticks_total', 'Ticks received from the feed socket (before validation)', (s) => s.ticks);
    feedCounter('troupe_feed_frames_total', 'Frames received from the feed socket, heartbeats included', (s) => s.frames);
    feedCounter('troupe_feed_heartbeats_total', 'Heartbeat frames received', (s) => s.heartbeats);
    feedCounter('troupe_feed_reconnects_total', 'Reconnection attempts of the feed', (s) => s.reconnects);
    feedCounter('troupe_feed_stalls_total', 'Times the feed went silent on an open socket (watchdog)', (s) => s.stalls);
    feedCounter('troupe_feed_gaps_total', 'Outages after which data may be missing (reconnected after a drop or stall)', (s) => s.gaps);
    feedCounter('troupe_feed_gap_seconds_total', 'Total length of the feed outages', (s) => s.gapMs / 1000);
    feedCounter('troupe_feed_bad_frames_total', 'Malformed frames dropped', (s) => s.badFrames);
    feedCounter('troupe_feed_order_postbacks_total', 'Order postbacks received over the feed', (s) => s.orderUpdates);
    const feedGauge = (name: string, help: string, pick: (sample: FeedMetricsSample, nowMs: number) => number): void => {
      scrapedGauge(registers, name, help, ['feed'], () => {
        const now = Date.now();
        return [...this.feedSources].map(([feed, sample]) => [{ feed }, pick(sample(), now)] as const);
      });
    };
    feedGauge('troupe_feed_connected', '1 while the feed socket is open', (s) => (s.connected ? 1 : 0));
    feedGauge('troupe_feed_heartbeat_age_seconds', 'Seconds since the last frame (tick or heartbeat); -1 before the first', (s, now) =>
      s.lastFrameAtMs === undefined ? -1 : (now - s.lastFrameAtMs) / 1000,
    );
    scrapedGauge(
      registers,
      'troupe_symbol_last_tick_timestamp_seconds',
      'Wall time (Unix seconds) the last valid tick of the symbol arrived, or the feed started when none has yet',
      ['symbol'],
      () => [...this.lastTickWallMs].map(([symbol, atMs]) => [{ symbol }, atMs / 1000] as const),
    );
    readGauge(registers, 'troupe_feed_paused', '1 while an operator has paused the market-data feed through the API (PUT /api/v1/market/feed)', () =>
      this.feedPausedSource?.() === true ? 1 : 0,
    );
  }

  /** Tick and bar ingest into the time series ({@link bindPersistence}). */
  private registerIngestMetrics(registers: Registry[]): void {
    readGauge(
      registers,
      'troupe_ingest_queue_depth',
      'Ticks and bars waiting to be written to the time series',
      () => this.persistenceSources?.ingest()?.queueDepth ?? 0,
    );
    const ingestCounter = (name: string, help: string, pick: (stats: IngestStats) => number): void => {
      scrapedCounter(registers, name, help, [], () => {
        const stats = this.persistenceSources?.ingest();
        return stats ? [[{}, pick(stats)] as const] : [];
      });
    };
    ingestCounter('troupe_ingest_ticks_shed_total', 'Ticks not stored because the ingest buffer was full (never orders or fills)', (stats) => stats.shedTicks);
    ingestCounter('troupe_ingest_ticks_written_total', 'Ticks committed to the time series', (stats) => stats.writtenTicks);
    ingestCounter('troupe_ingest_ticks_failed_total', 'Ticks lost in failed ingest batches', (stats) => stats.failedTicks);
    ingestCounter('troupe_ingest_bars_shed_total', 'Bars not stored because the bar buffer was full', (stats) => stats.shedBars);
    ingestCounter('troupe_ingest_bars_written_total', 'Bars committed to the time series', (stats) => stats.writtenBars);
  }

  /** Halts, the kill switch and the day's loss ({@link bindHalt}, {@link bindRisk}), and whether the market is open. */
  private registerRiskGauges(registers: Registry[]): void {
    scrapedGauge(
      registers,
      'troupe_trading_halted',
      'Order placement halted, by reason (kill-switch, broker-session, journal, lease): 1 halted, 0 not; absent when the reason does not apply',
      ['reason'],
      () => {
        const risk = this.riskSource?.();
        const series = risk ? [[{ reason: 'kill-switch' }, risk.killSwitchEngaged ? 1 : 0] as const] : [];
        return [...series, ...[...this.haltSources].map(([reason, isHalted]) => [{ reason }, isHalted() ? 1 : 0] as const)];
      },
    );
    readGauge(registers, 'troupe_risk_kill_switch_engaged', '1 while the kill switch is tripped (every intent refused until an operator resets it)', () =>
      this.riskSource?.().killSwitchEngaged === true ? 1 : 0,
    );
    readGauge(registers, 'troupe_risk_daily_loss_limit_rupees', "The day's loss that trips the kill switch, rupees", () => {
      const risk = this.riskSource?.();
      return risk ? risk.maxDailyLossPaise / 100 : undefined;
    });
    const riskPortfolioGauge = (name: string, help: string, pick: (dayPnlPaise: number, maxDailyLossPaise: number) => number): void => {
      scrapedGauge(registers, name, help, ['portfolio'], () => {
        const risk = this.riskSource?.();
        return (risk?.portfolios ?? []).map(
          (portfolio) => [{ portfolio: portfolio.portfolioId }, pick(portfolio.dayPnlPaise, risk!.maxDailyLossPaise)] as const,
        );
      });
    };
    riskPortfolioGauge(
      'troupe_risk_day_pnl_rupees',
      "Today's P&L per portfolio as risk computes it (realised + unrealised − charges since the day began), rupees",
      (pnl) => pnl / 100,
    );
    riskPortfolioGauge(
      'troupe_risk_daily_loss_used_ratio',
      "Today's loss as a share of the daily loss limit (0 when in profit; 1 trips the kill switch)",
      (pnl, limit) => (limit > 0 ? Math.max(0, -pnl) / limit : 0),
    );
    readGauge(
      registers,
      'troupe_market_open',
      '1 while an NSE session is open on the market clock (holidays, weekends and special sessions from the calendar)',
      () => (this.marketClock ? (isMarketOpenAt(this.marketClock()) ? 1 : 0) : undefined),
    );
  }

  /** Connects a halt condition (`troupe_trading_halted{reason}`); the kill switch comes from {@link bindRisk}. Returns the unbind function. */
  bindHalt(reason: Exclude<HaltReason, 'kill-switch'>, isHalted: () => boolean): () => void {
    this.haltSources.set(reason, isHalted);
    return () => {
      if (this.haltSources.get(reason) === isHalted) this.haltSources.delete(reason);
    };
  }

  /** Connects the risk manager's gauges (kill switch, the day's P&L and loss limit); the risk actor binds itself. */
  bindRisk(sample: () => RiskMetricsSample): void {
    this.riskSource = sample;
  }

  /** Connects the market clock (`troupe_market_open`, judged by the NSE calendar). */
  bindMarketClock(nowMs: () => number): void {
    this.marketClock = nowMs;
  }

  /** Connects the data directory (`troupe_data_dir_*` bytes of its file system). */
  bindDataDir(dir: string): void {
    this.dataDir = dir;
  }

  /** Connects the stores' gauges (dependencies, leases, ingest). */
  bindPersistence(sources: PersistenceMetricsSources): void {
    this.persistenceSources = sources;
  }

  /** Connects a market-data feed's counters (`troupe_feed_*{feed}`); `feed` is a kind such as `kite`, not an instance. Returns the unbind function. */
  bindFeed(feed: string, sample: () => FeedMetricsSample): () => void {
    this.feedSources.set(feed, sample);
    return () => {
      if (this.feedSources.get(feed) === sample) this.feedSources.delete(feed);
    };
  }

  /** Connects `troupe_feed_paused` (feeds an operator can pause). */
  bindFeedPaused(paused: () => boolean): void {
    this.feedPausedSource = paused;
  }

  /**
   * Starts `troupe_symbol_last_tick_timestamp_seconds` for these symbols at `wallMs` (the feed's
   * start), so a symbol that never ticks ages from then instead of being absent.
   */
  watchSymbols(symbols: readonly string[], wallMs: number): void {
    for (const symbol of symbols) if (!this.lastTickWallMs.has(symbol)) this.lastTickWallMs.set(symbol, wallMs);
  }

  /** Records that valid ticks of `symbol` arrived at `wallMs` (the feed's tick path calls it per batch). */
  noteTicks(symbol: string, wallMs: number): void {
    this.lastTickWallMs.set(symbol, wallMs);
  }

  /** Connects the gateway's gauges (WebSocket clients, API keys…). */
  bindGateway(sources: GatewayMetricsSources): void {
    this.gatewaySources = sources;
  }

  /**
   * Counts domain events (orders, fills, risk alerts, positions) from the event bus.
   * Returns the unsubscribe function.
   */
  attachBus(bus: { onAny(listener: (event: DomainEvent) => void): () => void }): () => void {
    return bus.onAny((event) => {
      switch (event.type) {
        case 'OrderSubmitted':
        case 'OrderUpdated':
          this.orderEvents.inc({ event: event.type });
          break;
        case 'OrderFilled':
          this.orderEvents.inc({ event: event.type });
          this.filledQuantity.inc({ side: event.fill.side }, event.fill.quantity);
          this.filledValueRupees.inc({ side: event.fill.side }, (event.fill.quantity * event.fill.pricePaise) / 100);
          this.chargesRupees.inc(event.fill.chargesPaise / 100);
          break;
        case 'RiskAlert':
          this.riskAlerts.inc({ severity: event.severity, code: event.code });
          break;
        case 'PositionChanged':
          this.positionUpdates.inc();
          break;
        case 'MarketDataUpdate':
        case 'BarClosed':
        case 'ActorRestarted':
        case 'RegimeChanged':
        case 'SignalAggregated':
        case 'PredictionMade':
        case 'AutoSquareOff':
          break;
      }
    });
  }

  /** Connects the gauges that read the runtime on each scrape. */
  bind(sources: MetricsSources): void {
    this.sources = sources;
  }

  /** Prometheus text exposition. */
  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** An unlabelled gauge read at scrape time; where `read` gives undefined (its source is not bound) it is reset (prom-client: to 0). */
function readGauge(registers: Registry[], name: string, help: string, read: () => number | undefined): void {
  const gauge: Gauge = new Gauge({
    name,
    help,
    registers,
    collect: () => {
      const value = read();
      if (value === undefined) gauge.reset();
      else gauge.set(value);
    },
  });
}

/** One series of a metric read at scrape time: its labels and its value. */
type Series<Label extends string> = readonly [labels: LabelValues<Label>, value: number];

/** A gauge read at scrape time: its old series are dropped, then each series `read` gives is set. */
function scrapedGauge<Label extends string>(
  registers: Registry[],
  name: string,
  help: string,
  labelNames: readonly Label[],
  read: () => readonly Series<Label>[],
): void {
  const gauge: Gauge<Label> = new Gauge({
    name,
    help,
    labelNames,
    registers,
    collect: () => {
      gauge.reset();
      for (const [labels, value] of read()) gauge.set(labels, value);
    },
  });
}

/** A counter that mirrors counts kept elsewhere, read at scrape time: reset, then each series `read` gives is added. */
function scrapedCounter<Label extends string>(
  registers: Registry[],
  name: string,
  help: string,
  labelNames: readonly Label[],
  read: () => readonly Series<Label>[],
): void {
  const counter: Counter<Label> = new Counter({
    name,
    help,
    labelNames,
    registers,
    collect: () => {
      counter.reset();
      for (const [labels, value] of read()) counter.inc(labels, value);
    },
  });
}

/** The host, read at scrape time: CPU by mode, memory, load, and the file system of the data directory (`dataDir()`, once bound). */
function registerHostMetrics(registers: Registry[], dataDir: () => string | undefined): void {
  scrapedCounter(
    registers,
    'troupe_host_cpu_seconds_total',
    'CPU time of the host summed over its CPUs, by mode (user, nice, system, idle, irq)',
    ['mode'],
    () => {
      const total = { user: 0, nice: 0, system: 0, idle: 0, irq: 0 };
      for (const cpu of cpus()) {
        total.user += cpu.times.user;
        total.nice += cpu.times.nice;
        total.system += cpu.times.sys;
        total.idle += cpu.times.idle;
        total.irq += cpu.times.irq;
      }
      return Object.entries(total).map(([mode, ms]) => [{ mode }, ms / 1000] as const);
    },
  );
  const hostGauge = (name: string, help: string, read: () => number): void => readGauge(registers, name, help, read);
  hostGauge('troupe_host_cpus', 'CPUs of the host', () => cpus().length);
  hostGauge('troupe_host_load1', 'One-minute load average of the host', () => loadavg()[0] ?? 0);
  hostGauge('troupe_host_memory_bytes', 'Memory of the host', () => totalmem());
  hostGauge('troupe_host_memory_available_bytes', 'Memory of the host available to new work (MemAvailable on Linux)', () => freemem());
  const dataDirGauge = (name: string, help: string, pick: (stats: { bavail: number; blocks: number; bsize: number }) => number): void => {
    // labelled (`path`: the one data directory) so that an unbound registry exposes no sample rather than a 0
    scrapedGauge(registers, name, help, ['path'], () => {
      const path = dataDir();
      if (path === undefined) return [];
      try {
        return [[{ path }, pick(statfsSync(path))] as const];
      } catch {
        return []; // the directory is gone or unreadable: no sample (an absent series alerts too)
      }
    });
  };
  dataDirGauge('troupe_data_dir_available_bytes', "Free space of the data directory's file system available to Troupe", (stats) => stats.bavail * stats.bsize);
  dataDirGauge('troupe_data_dir_size_bytes', "Size of the data directory's file system", (stats) => stats.blocks * stats.bsize);
}
