import { KiteConnect } from 'kiteconnect';
import type { Connect } from 'kiteconnect/types/connect.js';
import { createKiteSimulator, type KiteSimulator, type KiteSimulatorOptions } from '../../src/sim/index.js';

export const API_KEY = 'simkey';
export const API_SECRET = 'simsecret';

/** A manual-paced simulator (ticks only on admin.step) with generous limits unless overridden. */
export async function startSimulator(overrides: Partial<KiteSimulatorOptions> = {}): Promise<KiteSimulator> {
  return createKiteSimulator({
    port: 0,
    apiKey: API_KEY,
    apiSecret: API_SECRET,
    seed: 7,
    ticksPerSecond: 0,
    market: { kind: 'synthetic', symbols: 5 },
    rateLimits: { quotePerSecond: 1000, historicalPerSecond: 1000, ordersPerSecond: 1000, ordersPerMinute: 100_000, otherPerSecond: 1000 },
    ...overrides,
  });
}

/** An unmodified KiteConnect client logged in through the simulator's request token. */
export async function login(sim: KiteSimulator, userId?: string, timeoutMs?: number): Promise<{ kite: Connect; accessToken: string }> {
  const kite = new KiteConnect({ api_key: API_KEY, root: sim.url, ...(timeoutMs === undefined ? {} : { timeout: timeoutMs }) });
  const session = await kite.generateSession(sim.admin.createRequestToken(userId), API_SECRET);
  return { kite, accessToken: session.access_token };
}

/** Polls until `check` passes (no fixed sleeps). */
export async function eventually(check: () => void | Promise<void>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}
