import type { ActorContext, Behavior, Json } from '../core/index.js';
import { assertNever, type DomainEvent } from '../../model/index.js';
import { aggregatorConfig, decide, emptyAggregatorState, hasSignals, recordSignal, toSignalAggregated, type Aggregation, type AggregatorConfig, type AggregatorState } from '../../signals/index.js';
import type { AggregatorActorState, AggregatorCommand } from './aggregator.protocol.js';

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
}

/**
 * The signal aggregator as an actor: keeps each strategy's latest signal per symbol, votes
 * (rules in `src/signals/aggregator.ts`) on every new signal and every closed bar, hands each
 * vote to `deliver`, and publishes the decision when it changes. Answers `GetDecision` at any time.
 */
export function aggregatorBehavior(deps: AggregatorActorDeps): Behavior<AggregatorCommand, AggregatorActorState> {
  const config = aggregatorConfig(deps.config);
  const vote = (state: AggregatorState, symbol: string, ctx: ActorContext<AggregatorCommand>): AggregatorState => {
    const step = decide(state, symbol, deps.clock.nowMs(), config);
    if (step.changed) deps.bus.publish(toSignalAggregated(step.aggregation));
    deps.deliver?.(step.aggregation, ctx);
    return step.state;
  };
  return {
    kind: 'aggregator',
    initial: (_ctx, restored) => restored ?? emptyAggregatorState(),
    snapshot: {
      codec: { version: 1, encode: (state) => state as unknown as Json, decode: (json) => json as unknown as AggregatorActorState },
      everyMs: 5000,
    },
    receive(state, message, ctx) {
      switch (message.type) {
        case 'SubmitSignal':
          return vote(recordSignal(state, message.signal), message.signal.symbol, ctx);
        case 'BarsClosed': {
          let next = state;
          const seen = new Set<string>();
          for (const bar of message.bars) {
            if (seen.has(bar.symbol) || !hasSignals(next, bar.symbol)) continue;
            seen.add(bar.symbol);
            next = vote(next, bar.symbol, ctx);
          }
          return next;
        }
        case 'GetDecision': {
          const step = decide(state, message.symbol, deps.clock.nowMs(), config);
          ctx.system.tell(message.replyTo, step.aggregation);
          return state;
        }
        default:
          return assertNever(message, 'aggregator command');
      }
    },
  };
}
