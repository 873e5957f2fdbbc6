import type { Behavior } from '../core/index.js';
import {
  applyFillInPlace,
  assertNever,
  copyPortfolio,
  markInPlace,
  newPortfolio,
  summarisePortfolio,
  type Fill,
  type MutablePortfolioState,
  type Paise,
  type PortfolioState,
  type PortfolioSummary,
  type Tick,
} from '../../model/index.js';
import type { EventBus } from '../../observability/event-bus.js';
import type { PortfolioCommand } from './portfolio.protocol.js';
import { portfolioCodec } from './portfolio.snapshot.js';

export interface PortfolioActorDeps {
  readonly bus: EventBus;
  /** Called with every new state, so readers outside the tree (metrics, API) see it without a round trip. */
  readonly onState?: (state: PortfolioState) => void;
  /** Called after every change to the (live) state: a fill, or a mark that moved a position. */
  readonly onChange?: () => void;
}

/**
 * Owns one portfolio: cash, positions, realised and unrealised P&L, charges. Fills apply
 * exactly (integer paise); marks move unrealised P&L. Publishes PositionChanged per fill.
 * The actor owns its state and updates it in place (a fill or a mark costs no copy of the
 * book); snapshots and replies get copies, `onState` readers get a read-only live view.
 */
export function portfolioBehavior(portfolioId: string, initialCashPaise: Paise, deps: PortfolioActorDeps): Behavior<PortfolioCommand, MutablePortfolioState> {
  const applyFill = (state: MutablePortfolioState, fill: Fill): void => {
    const position = applyFillInPlace(state, fill);
    deps.onChange?.();
    if (deps.bus.hasListeners('PositionChanged')) deps.bus.publish({ type: 'PositionChanged', portfolioId, position, summary: summarisePortfolio(state) });
  };
  return {
    kind: 'portfolio',
    initial(_ctx, restored) {
      const state = restored ?? copyPortfolio(newPortfolio(portfolioId, initialCashPaise));
      deps.onState?.(state);
      return state;
    },
    snapshot: {
      codec: portfolioCodec,
      everyMessages: 1000,
      everyMs: 1000,
    },
    receive(state, message, ctx) {
      switch (message.type) {
        case 'ApplyFill':
          applyFill(state, message.fill);
          return state;
        case 'ApplyFills':
          for (const fill of message.fills) applyFill(state, fill);
          return state;
        case 'Marks': {
          let changed = false;
          for (const tick of message.ticks) if (markInPlace(state, tick.symbol, tick.ltpPaise)) changed = true;
          if (changed) deps.onChange?.();
          return state;
        }
        case 'GetPortfolio': {
          const copy = copyPortfolio(state);
          const summary: PortfolioSummary = summarisePortfolio(copy);
          ctx.system.tell(message.replyTo, { state: copy, summary });
          return state;
        }
        default:
          return assertNever(message, 'portfolio command');
      }
    },
  };
}

export const wrapMarks = (ticks: readonly Tick[]): PortfolioCommand => ({ type: 'Marks', ticks });
