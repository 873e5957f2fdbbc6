/** A desk for page tests: a fake session answering REST calls from a table, and a store flushed on demand. */
import type { ReactNode } from 'react';
import { vi } from 'vitest';
import type { Session } from '../lib/api.js';
import type { Desk } from '../lib/desk.js';
import { DeskContext } from '../lib/hooks.js';
import { LiveStore } from '../lib/live-store.js';

export type Handler = (body: unknown) => unknown;

export function fakeDesk(role: 'viewer' | 'trader' | 'admin', routes: Record<string, Handler>) {
  const request = vi.fn((method: string, path: string, body?: unknown): Promise<unknown> => {
    const handler = routes[`${method} ${path}`];
    if (!handler) return Promise.reject(new Error(`no fake for ${method} ${path}`));
    try {
      return Promise.resolve(handler(body));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  });
  const client = {
    strategies: () => request('GET', '/api/v1/strategies'),
    halts: () => request('GET', '/api/v1/halts'),
    trades: () => Promise.resolve({ items: [], nextCursor: null }),
    orders: () => Promise.resolve({ items: [], nextCursor: null }),
  };
  const session = { role, username: 'tester', request, call: (run: (c: typeof client) => Promise<unknown>) => run(client) } as unknown as Session;
  const frames: (() => void)[] = [];
  const store = new LiveStore(
    (flush) => frames.push(flush),
    () => 1_000,
  );
  const desk = { store, instruments: [], session } as unknown as Desk;
  const flush = (): void => {
    for (const run of frames.splice(0)) run();
  };
  const wrapper = ({ children }: { children: ReactNode }) => (
    <DeskContext.Provider value={{ session, desk, logout: () => undefined }}>{children}</DeskContext.Provider>
  );
  return { request, store, flush, wrapper };
}
