import type { ActorRef, Inlet } from '../actors/core/index.js';
import type { Bar, Tick } from '../model/index.js';
import type { ExecutionCommand } from '../actors/execution/execution.protocol.js';
import type { PortfolioCommand } from '../actors/portfolio/portfolio.protocol.js';
import type { RiskCommand } from '../actors/risk/risk.protocol.js';
import type { StrategyCommand } from '../actors/strategy/strategy.protocol.js';
import type { SymbolCommand } from '../actors/symbol/symbol.protocol.js';

/**
 * Who is where in the tree. Filled while the tree starts (sinks first, sources last) and
 * read by actors at message time, which breaks the cycles between them (strategy → risk →
 * execution → strategy). Every ref is path-based, so a restarted actor keeps its entry.
 */
export class Directory {
  readonly symbols = new Map<string, ActorRef<SymbolCommand>>();
  /** One inlet per symbol actor: ticks batched by arrival. */
  readonly symbolInlets = new Map<string, Inlet<readonly Tick[]>>();
  readonly strategies = new Map<string, ActorRef<StrategyCommand>>();
  /** Tick inlets of the strategies subscribed to each symbol. */
  readonly tickSubscribers = new Map<string, Inlet<readonly Tick[]>[]>();
  /** Bar inlets of the strategies subscribed to each symbol (any interval; filtered by the host). */
  readonly barSubscribers = new Map<string, Inlet<Bar>[]>();
  readonly portfolios = new Map<string, ActorRef<PortfolioCommand>>();
  /** Latest-price inlets of the portfolios, conflated per symbol. */
  readonly portfolioMarks: Inlet<Tick>[] = [];
  risk: ActorRef<RiskCommand> | undefined;
  execution: ActorRef<ExecutionCommand> | undefined;
  /** The broker's market-data inlet: every tick, in order. */
  executionTicks: Inlet<readonly Tick[]> | undefined;

  addTickSubscriber(symbol: string, inlet: Inlet<readonly Tick[]>): void {
    const list = this.tickSubscribers.get(symbol) ?? [];
    list.push(inlet);
    this.tickSubscribers.set(symbol, list);
  }

  addBarSubscriber(symbol: string, inlet: Inlet<Bar>): void {
    const list = this.barSubscribers.get(symbol) ?? [];
    list.push(inlet);
    this.barSubscribers.set(symbol, list);
  }

  requireRisk(): ActorRef<RiskCommand> {
    if (!this.risk) throw new Error('the risk actor is not running');
    return this.risk;
  }

  requireExecution(): ActorRef<ExecutionCommand> {
    if (!this.execution) throw new Error('the execution actor is not running');
    return this.execution;
  }
}
