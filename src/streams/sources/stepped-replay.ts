import { Observable } from 'rxjs';
import type { Tick } from '../../model/market.js';
import { replayTickBatches, type ReplayData } from './csv-replay.js';

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
 * A replay paced by its consumer: {@link replayTickBatches}' ticks grouped by exchange
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
      let step: Tick[] = [];
      const emit = (): void => {
        const ticks = step;
        step = [];
        options.onStep?.(ticks[0]!.exchangeTimeMs, ticks);
        subscriber.next(ticks);
      };
      // small batches: a tick is generated just before its step, so it dies young (cheap to collect)
      for (const batch of replayTickBatches(data, 64)) {
        for (const tick of batch) {
          if (step.length > 0 && step[0]!.exchangeTimeMs !== tick.exchangeTimeMs) {
            emit();
            const waiting = options.ready();
            if (waiting !== undefined) await waiting;
            if (stopped) return;
          }
          step.push(tick);
        }
      }
      if (step.length > 0) {
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
