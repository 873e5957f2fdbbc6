import type { ActorRef, Inlet } from './core/index.js';
import type { Bar, Tick } from '../model/index.js';
import type { ExecutionCommand } from './execution/execution.protocol.js';
import type { PortfolioCommand } from './portfolio/portfolio.protocol.js';
import type { RiskCommand } from './risk/risk.protocol.js';
import type { StrategyCommand } from './strategy/strategy.protocol.js';
import type { SymbolCommand } from './symbol/symbol.protocol.js';

/** `owner` is `path` or an actor under it (`/strategies` covers `/strategies/ema`). */
function ownedBy(owner: string, path: string): boolean {
  return owner === path || owner.startsWith(`${path}/`);
}

/**
 * A list that several owners add to (e.g. the marks of the portfolios and of the risk
 * actor). Each entry carries its owner, an actor path; an owner removes only its own entries
 * (and its children's) with {@link release}, so a restart of one group never drops another's.
 * Entries keep the order they were added in. Iterating reads a plain array, rebuilt on change.
 */
export class OwnedList<T> implements Iterable<T> {
  private entries: { readonly owner: string; readonly item: T }[] = [];
  private items: readonly T[] = [];

  add(owner: string, item: T): void {
    this.entries.push({ owner, item });
    this.items = this.entries.map((entry) => entry.item);
  }

  /** Removes the entries of `owner` and of every actor under it. */
  release(owner: string): void {
    this.entries = this.entries.filter((entry) => !ownedBy(entry.owner, owner));
    this.items = this.entries.map((entry) => entry.item);
  }

  get size(): number {
    return this.items.length;
  }

  /** The owners, in the order of their entries (diagnostics and tests). */
  owners(): string[] {
    return this.entries.map((entry) => entry.owner);
  }

  [Symbol.iterator](): Iterator<T> {
    return this.items[Symbol.iterator]();
  }
}

/**
 * Per-key lists that several owners add to (e.g. a symbol's bar subscribers: the regime
 * detector, the aggregator and the strategies). Same ownership rules as {@link OwnedList};
 * `get` returns a plain array, rebuilt on change (reads are the hot path, changes are rare).
 */
export class OwnedIndex<T> {
  private entries: { readonly owner: string; readonly key: string; readonly item: T }[] = [];
  private index = new Map<string, readonly T[]>();

  add(owner: string, key: string, item: T): void {
    this.entries.push({ owner, key, item });
    this.rebuild();
  }

  /** Removes the entries of `owner` and of every actor under it. */
  release(owner: string): void {
    this.entries = this.entries.filter((entry) => !ownedBy(entry.owner, owner));
    this.rebuild();
  }

  get(key: string): readonly T[] | undefined {
    return this.index.get(key);
  }

  /** The owners of a key's entries, in order (diagnostics and tests). */
  owners(key: string): string[] {
    return this.entries.filter((entry) => entry.key === key).map((entry) => entry.owner);
  }

  private rebuild(): void {
    const index = new Map<string, T[]>();
    for (const { key, item } of this.entries) {
      const list = index.get(key);
      if (list) list.push(item);
      else index.set(key, [item]);
    }
    this.index = index;
  }
}

/**
 * Who is where in the tree. Filled while the tree starts (sinks first, sources last) and
 * read by actors at message time, which breaks the cycles between them (strategy → risk →
 * execution → strategy). Every ref is path-based, so a restarted actor keeps its entry.
 *
 * Every entry has one owner, the actor (path) that registers it and removes it: the maps and
 * single refs belong to one group or singleton each (`symbols`/`symbolInlets`: `/market`;
 * `strategies`: `/strategies`; `portfolios`: `/portfolios`; `execution`/`executionTicks`:
 * `/execution`; `risk`: `/risk`), and every list is an {@link OwnedList}/{@link OwnedIndex}
 * whose entries carry their owner's path, so a group that restarts (or a strategy that is
 * reconfigured) releases only the entries under its own path. Only `Runtime` writes here, on
 * behalf of the owner named; actors only read.
 */
export class Directory {
  /** Owner `/market`. */
  readonly symbols = new Map<string, ActorRef<SymbolCommand>>();
  /** One inlet per symbol actor: ticks batched by arrival. Owner `/market`. */
  readonly symbolInlets = new Map<string, Inlet<readonly Tick[]>>();
  /** Owner `/strategies`. */
  readonly strategies = new Map<string, ActorRef<StrategyCommand>>();
  /** Tick inlets of the strategies subscribed to each symbol; each strategy owns its own (`/strategies/ID`). */
  readonly tickSubscribers = new OwnedIndex<Inlet<readonly Tick[]>>();
  /**
   * Bar inlets per symbol (any interval; filtered by the host): `/regime` and `/aggregator`
   * first (they see every closed bar before the strategies), then each strategy's (`/strategies/ID`).
   */
  readonly barSubscribers = new OwnedIndex<Inlet<Bar>>();
  /** Ids of the strategies trading on each symbol's aggregated vote (`aggregates` subscriptions); each strategy owns its own (`/strategies/ID`). */
  readonly aggregateSubscribers = new OwnedIndex<string>();
  /** Strategies subscribed to a symbol's ML predictions, keyed by symbol; each strategy (`/strategies/ID`) owns its entries. */
  readonly predictionSubscribers = new OwnedIndex<string>();
  /** Owner `/portfolios`. */
  readonly portfolios = new Map<string, ActorRef<PortfolioCommand>>();
  /** Latest-price inlets, conflated per symbol: each portfolio's (`/portfolios/ID`) and the risk actor's (`/risk`). */
  readonly portfolioMarks = new OwnedList<Inlet<Tick>>();
  /** Owner `/risk`. */
  risk: ActorRef<RiskCommand> | undefined;
  /** Owner `/execution`. */
  execution: ActorRef<ExecutionCommand> | undefined;
  /** The broker's market-data inlet: every tick, in order. Owner `/execution`. */
  executionTicks: Inlet<readonly Tick[]> | undefined;

  requireRisk(): ActorRef<RiskCommand> {
    if (!this.risk) throw new Error('the risk actor is not running');
    return this.risk;
  }

  requireExecution(): ActorRef<ExecutionCommand> {
    if (!this.execution) throw new Error('the execution actor is not running');
    return this.execution;
  }
}
