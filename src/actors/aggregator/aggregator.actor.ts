import type { ActorContext, Behavior } from '../core/index.js';
import { assertNever, type DomainEvent } from '../../model/index.js';
import { AggregatorBook, aggregatorConfig, toSignalAggregated, type Aggregation, type AggregatorConfig } from '../../signals/index.js';
import type { AggregatorCommand } from './aggregator.protocol.js';
import { aggregatorCodec } from './aggregator.snapshot.js';

/** What the aggregator actor needs. */
export interface AggregatorActorDeps {
  /** Where `SignalAggregated` goes (the runtime's event bus). */
  readonly bus: { publish(event: DomainEvent): void };
  /** Market time in backtests, wall time live (signal freshness is judged against it). */
  readonly clock: { nowMs(): number };
  /** The vote's settings; missing ones take `DEFAULT_AGGREGATOR_CONFIG`'s. */
  readonly config?: Partial<AggregatorConfig>;
  /**
   * Told every vote (on a new signal, and on each closed bar of a symbol with signals), changed
   * or not: the runtime hands it to the strategies subscribed to the symbol's aggregate.
   */
  readonly deliver?: (aggregation: Aggregation, ctx: ActorContext<AggregatorCommand>) => void;
  /** Whether anyone trades on `symbol`'s aggregate (absent: assume so). Unchanged votes nobody reads are not explained or delivered. */
  readonly wants?: (symbol: string) => boolean;
}

/**
 * The signal aggregator as an actor: keeps each strategy's latest signal per symbol, votes
 * (rules in `src/signals/aggregator.ts`) on every new signal and every closed bar, hands each
 * vote to `deliver`, and publishes the decision when it changes. Answers `GetDecision` at any time.
 */
export function aggregatorBehavior(deps: AggregatorActorDeps): Behavior<AggregatorCommand, AggregatorBook> {
  const config = aggregatorConfig(deps.config);
  const vote = (book: AggregatorBook, symbol: string, ctx: ActorContext<AggregatorCommand>): void => {
    const wanted = deps.deliver !== undefined && (deps.wants?.(symbol) ?? true);
    const { changed, aggregation } = book.vote(symbol, deps.clock.nowMs(), config, wanted);
    if (aggregation === undefined) return;
    if (changed) deps.bus.publish(toSignalAggregated(aggregation));
    if (wanted) deps.deliver?.(aggregation, ctx);
  };
  return {
    kind: 'aggregator',
    initial: (_ctx, restored) => restored ?? new AggregatorBook(),
    snapshot: {
      codec: aggregatorCodec,
      everyMs: 5000,
    },
    receive(book, message, ctx) {
      switch (message.type) {
        case 'SubmitSignals':
          for (const signal of message.signals) {
            book.record(signal);
            vote(book, signal.symbol, ctx);
          }
          return book;
        case 'BarsClosed': {
          const seen = new Set<string>();
          for (const bar of message.bars) {
            if (seen.has(bar.symbol) || !book.hasSignals(bar.symbol)) continue;
            seen.add(bar.symbol);
            vote(book, bar.symbol, ctx);
          }
          return book;
        }
        case 'GetDecision':
          ctx.system.tell(message.replyTo, book.peek(message.symbol, deps.clock.nowMs(), config));
          return book;
        default:
          return assertNever(message, 'aggregator command');
      }
    },
  };
}
