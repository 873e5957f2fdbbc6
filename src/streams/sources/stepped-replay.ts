import { Observable } from 'rxjs';
import type { Tick } from '../../model/market.js';
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
      // a step is collected in a kept scratch array and handed out as an exact-size copy (no array
      // grown by push per step); ticks come from the merge one by one (no batch arrays)
      const merge = new ReplayMerge(data);
      const scratch: (Tick | undefined)[] = [];
      let count = 0;
      const emit = (): void => {
        const ticks = scratch.slice(0, count) as Tick[];
        scratch.fill(undefined, 0, count);
        count = 0;
        options.onStep?.(ticks[0]!.exchangeTimeMs, ticks);
        subscriber.next(ticks);
      };
      for (let tick = merge.next(); tick !== undefined; tick = merge.next()) {
        if (count > 0 && scratch[0]!.exchangeTimeMs !== tick.exchangeTimeMs) {
          emit();
          const waiting = options.ready();
          if (waiting !== undefined) await waiting;
          if (stopped) return;
        }
        if (count === scratch.length) scratch.push(tick);
        else scratch[count] = tick;
        count += 1;
      }
      if (count > 0) {
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
