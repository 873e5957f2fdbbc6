import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { DomainEvent } from '../model/index.js';

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

export interface MetricsSources {
  actors(): readonly ActorHealthSample[];
  deadLetters(): number;
  portfolios(): readonly PortfolioSample[];
}

/**
 * Troupe's Prometheus metrics. Labels are bounded: symbols, actor paths, reasons and
 * statuses come from closed sets; never an order id.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly ticks: Counter<'source'>;
  readonly ticksRejected: Counter<'reason'>;
  readonly orders: Counter<'status'>;
  readonly fills: Counter;
  readonly riskRejections: Counter<'code'>;
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
  private sources: MetricsSources | undefined;
  private gatewaySources: GatewayMetricsSources | undefined;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'troupe_process_' });
    this.ticks = new Counter({ name: 'troupe_ticks_total', help: 'Valid ticks taken in, by source', labelNames: ['source'], registers });
    this.ticksRejected = new Counter({ name: 'troupe_ticks_rejected_total', help: 'Malformed ticks dropped, by reason', labelNames: ['reason'], registers });
    this.orders = new Counter({ name: 'troupe_orders_total', help: 'Order status changes, by status', labelNames: ['status'], registers });
    this.fills = new Counter({ name: 'troupe_fills_total', help: 'Executions received', registers });
    this.riskRejections = new Counter({ name: 'troupe_risk_rejections_total', help: 'Intents refused by risk, by reason code', labelNames: ['code'], registers });
    this.tickToOrderSeconds = new Histogram({
      name: 'troupe_tick_to_order_seconds',
      help: 'From tick arrival to order at the broker adapter',
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05],
      registers,
    });
    const actorGauge = (name: string, help: string, pick: (actor: ActorHealthSample) => number): void => {
      const gauge: Gauge<'actor' | 'kind'> = new Gauge({
        name,
        help,
        labelNames: ['actor', 'kind'],
        registers,
        collect: () => {
          gauge.reset();
          for (const actor of this.sources?.actors() ?? []) gauge.set({ actor: actor.path, kind: actor.kind }, pick(actor));
        },
      });
    };
    actorGauge('troupe_actor_mailbox_depth', 'Messages and batched items waiting per actor', (actor) => actor.mailboxDepth);
    actorGauge('troupe_actor_restarts', 'Restarts per actor since the process started', (actor) => actor.restarts);
    actorGauge('troupe_actor_processed', 'Messages processed per actor', (actor) => actor.processed);
    actorGauge('troupe_actor_failures', 'Failures (thrown errors) per actor', (actor) => actor.failures);
    actorGauge('troupe_actor_up', '1 when the actor is running', (actor) => (actor.running ? 1 : 0));
    const deadLetters: Gauge = new Gauge({
      name: 'troupe_dead_letters',
      help: 'Messages sent to actors that were not there',
      registers,
      collect: () => deadLetters.set(this.sources?.deadLetters() ?? 0),
    });
    const portfolioGauge = (name: string, help: string, pick: (portfolio: PortfolioSample) => number): void => {
      const gauge: Gauge<'portfolio'> = new Gauge({
        name,
        help,
        labelNames: ['portfolio'],
        registers,
        collect: () => {
          gauge.reset();
          for (const portfolio of this.sources?.portfolios() ?? []) gauge.set({ portfolio: portfolio.portfolioId }, pick(portfolio));
        },
      });
    };
    portfolioGauge('troupe_portfolio_equity_rupees', 'Cash plus market value', (p) => p.equityRupees);
    portfolioGauge('troupe_portfolio_pnl_rupees', 'Realised + unrealised − charges', (p) => p.netPnlRupees);
    portfolioGauge('troupe_portfolio_gross_exposure_rupees', 'Σ |market value| of open positions', (p) => p.grossExposureRupees);

    this.ticksDelivered = new Counter({ name: 'troupe_ticks_delivered_total', help: 'Ticks handed to symbol actors, by source', labelNames: ['source'], registers });
    this.ticksDropped = new Counter({ name: 'troupe_ticks_dropped_total', help: 'Valid ticks not handed on (unknown symbol or stopping), by source', labelNames: ['source'], registers });
    this.riskAlerts = new Counter({ name: 'troupe_risk_alerts_total', help: 'Risk alerts published, by severity and code', labelNames: ['severity', 'code'], registers });
    this.orderEvents = new Counter({ name: 'troupe_order_events_total', help: 'Order events on the bus, by event', labelNames: ['event'], registers });
    this.filledQuantity = new Counter({ name: 'troupe_filled_quantity_total', help: 'Shares filled, by side', labelNames: ['side'], registers });
    this.filledValueRupees = new Counter({ name: 'troupe_filled_value_rupees_total', help: 'Traded value of fills in rupees (display), by side', labelNames: ['side'], registers });
    this.chargesRupees = new Counter({ name: 'troupe_charges_rupees_total', help: 'Charges and brokerage paid in rupees (display)', registers });
    this.positionUpdates = new Counter({ name: 'troupe_position_updates_total', help: 'Position changes published', registers });
    this.httpRequestSeconds = new Histogram({
      name: 'troupe_http_request_duration_seconds',
      help: 'API request latency by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.httpRequests = new Counter({ name: 'troupe_http_requests_total', help: 'API requests by method, route pattern and status', labelNames: ['method', 'route', 'status'], registers });
    this.rateLimited = new Counter({ name: 'troupe_http_rate_limited_total', help: 'Requests refused with 429', registers });
    this.logins = new Counter({ name: 'troupe_auth_logins_total', help: 'Login attempts by outcome', labelNames: ['outcome'], registers });
    this.auditEntries = new Counter({ name: 'troupe_audit_entries_total', help: 'Audit log entries by action', labelNames: ['action'], registers });
    this.wsMessagesSent = new Counter({ name: 'troupe_ws_messages_sent_total', help: 'WebSocket messages sent, by topic family', labelNames: ['topic'], registers });
    this.wsMessagesReceived = new Counter({ name: 'troupe_ws_messages_received_total', help: 'WebSocket messages received from clients', registers });
    this.wsDisconnects = new Counter({ name: 'troupe_ws_disconnects_total', help: 'WebSocket connections closed, by reason', labelNames: ['reason'], registers });
    this.wsConflated = new Counter({ name: 'troupe_ws_conflated_total', help: 'Events replaced by a newer one for a slow WebSocket client', registers });
    this.wsReplayed = new Counter({ name: 'troupe_ws_replayed_total', help: 'Events replayed to resuming WebSocket clients', registers });
    const gatewayGauge = (name: string, help: string, pick: (sources: GatewayMetricsSources) => number): void => {
      const gauge: Gauge = new Gauge({ name, help, registers, collect: () => gauge.set(this.gatewaySources ? pick(this.gatewaySources) : 0) });
    };
    gatewayGauge('troupe_ws_clients', 'Connected WebSocket clients', (sources) => sources.wsClients());
    gatewayGauge('troupe_api_keys_active', 'API keys not revoked', (sources) => sources.activeApiKeys());
    gatewayGauge('troupe_strategies_paused', 'Strategies paused through the API', (sources) => sources.pausedStrategies());
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
