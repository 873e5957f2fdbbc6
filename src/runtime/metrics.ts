import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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
  private sources: MetricsSources | undefined;

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
