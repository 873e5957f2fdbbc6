import { Observable } from 'rxjs';
import type { Tick } from '../../model/market.js';
import { BatchCollector } from '../batch-collector.js';
import { ReplayMerge, type ReplayData } from './csv-replay.js';

/** Options of {@link steppedReplay$}. */
export interface SteppedReplayOptions {
  /**
   * Resolves when the consumer has absorbed the previous step (e.g. `runtime.whenIdle()`);
   * called before every step but the first. Returning nothing says it is ready now (no
   * promise, no turn of the microtask queue: a backtest that settles steps itself steps
   * faster). A rejection, or a throw, errors the stream.
   */
  readonly ready: () => Promise<void> | undefined;
  /**
   * Called right before a step is emitted, after `ready`, with its exchange time: move the
   * market clock here (and read anything that must reflect the state after the previous step).
   */
  readonly onStep?: (exchangeTimeMs: number, ticks: readonly Tick[]) => void;
}

/**
 * A replay paced by its consumer: the replay's ticks ({@link ReplayMerge}) grouped by exchange
 * timestamp, one emission per timestamp, each emitted only once `ready()` resolved.
 *
 * This is what makes a replay behave like a live market, where the tree has handled every
 * consequence of one tick (bar close → intent → risk → order) long before the next tick
 * arrives: an order placed on a tick meets the next tick of its symbol, whatever the speed
 * of the machine. A free-running replay (`replayTicks$`, one batch per turn) outruns the
 * tree and fills orders at later ticks, differently from one run to the next. The
 * backtester and paper trading from a file both use this source, which is what keeps them
 * at parity (test/backtest/parity.test.ts). Unsubscribing stops after the current wait.
 */
export function steppedReplay$(data: ReplayData, options: SteppedReplayOptions): Observable<readonly Tick[]> {
  return new Observable<readonly Tick[]>((subscriber) => {
    let stopped = false;
    const run = async (): Promise<void> => {
      // ticks come from the merge one by one (no batch arrays); a step is collected, then handed out
      const merge = new ReplayMerge(data);
      const step = new BatchCollector<Tick>();
      const emit = (): void => {
        const ticks = step.take();
        options.onStep?.(ticks[0]!.exchangeTimeMs, ticks);
        subscriber.next(ticks);
      };
      for (let tick = merge.next(); tick !== undefined; tick = merge.next()) {
        const first = step.first();
        if (first !== undefined && first.exchangeTimeMs !== tick.exchangeTimeMs) {
          emit();
          const waiting = options.ready();
          if (waiting !== undefined) await waiting;
          if (stopped) return;
        }
        step.push(tick);
      }
      if (step.size > 0) {
        emit();
        const waiting = options.ready();
        if (waiting !== undefined) await waiting;
      }
      if (!stopped) subscriber.complete();
    };
    run().catch((error: unknown) => {
      if (!stopped) subscriber.error(error);
    });
    return () => {
      stopped = true;
    };
  });
}
