/**
 * Small streaming indicators whose whole state is plain JSON (so it survives the strategy
 * snapshot codec). Values are floats: they are indicator readings, never money.
 */
import { Type, type Static } from 'typebox';

/** Appends `value` and drops the oldest entries beyond `length`. Mutates and returns `window`. */
export function pushWindow(window: number[], value: number, length: number): number[] {
  window.push(value);
  while (window.length > length) window.shift();
  return window;
}

/** Arithmetic mean; NaN for an empty list. */
export function mean(values: readonly number[]): number {
  let sum = 0;
  for (const value of values) sum += value;
  return sum / values.length;
}

/** Population standard deviation. */
export function standardDeviation(values: readonly number[]): number {
  const average = mean(values);
  let squares = 0;
  for (const value of values) squares += (value - average) ** 2;
  return Math.sqrt(squares / values.length);
}

/** Wilder's RSI as plain data. */
export const RsiState = Type.Object({
  previous: Type.Union([Type.Number(), Type.Null()]),
  averageGain: Type.Number(),
  averageLoss: Type.Number(),
  /** Price changes seen so far. */
  changes: Type.Integer(),
});
export type RsiState = Static<typeof RsiState>;

/** A fresh RSI state. */
export function rsiInit(): RsiState {
  return { previous: null, averageGain: 0, averageLoss: 0, changes: 0 };
}

/**
 * Feeds one price; returns the RSI (0..100) once `period` changes are in, else null. The
 * first average is the simple mean of the first `period` changes, then Wilder smoothing.
 */
export function rsiUpdate(state: RsiState, price: number, period: number): number | null {
  const previous = state.previous;
  state.previous = price;
  if (previous === null) return null;
  const change = price - previous;
  const gain = Math.max(change, 0);
  const loss = Math.max(-change, 0);
  state.changes += 1;
  if (state.changes <= period) {
    state.averageGain += gain / period;
    state.averageLoss += loss / period;
    if (state.changes < period) return null;
  } else {
    state.averageGain = (state.averageGain * (period - 1) + gain) / period;
    state.averageLoss = (state.averageLoss * (period - 1) + loss) / period;
  }
  if (state.averageLoss === 0) return state.averageGain === 0 ? 50 : 100;
  return 100 - 100 / (1 + state.averageGain / state.averageLoss);
}
