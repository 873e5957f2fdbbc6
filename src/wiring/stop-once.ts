/**
 * An idempotent stop: the first call runs `stop`, every later call (a second signal, a test's
 * cleanup after a failed start) gets the same promise instead of stopping twice.
 */
export function stopOnce<A extends unknown[]>(stop: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  let stopping: Promise<void> | undefined;
  return (...args) => (stopping ??= stop(...args));
}
