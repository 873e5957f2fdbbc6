import { createContext, useCallback, useContext, useEffect, useRef, useState, useSyncExternalStore } from 'react';
import type { Session } from './api.js';
import type { Desk } from './desk.js';
import { humanise } from './errors.js';
import type { LiveState } from './live-store.js';

export interface DeskContextValue {
  readonly session: Session;
  readonly desk: Desk;
  readonly logout: () => void;
}

export const DeskContext = createContext<DeskContextValue | null>(null);

export function useDesk(): DeskContextValue {
  const value = useContext(DeskContext);
  if (!value) throw new Error('useDesk outside the desk');
  return value;
}

/** Reads a part of the live state; re-renders only when that part changes (at most once per frame). */
export function useLive<T>(select: (state: LiveState) => T): T {
  const { desk } = useDesk();
  const store = desk.store;
  return useSyncExternalStore(store.subscribe, () => select(store.getState()));
}

/** The current time, refreshed every `intervalMs` (for "4 s ago" and staleness). */
export function useNow(intervalMs = 1_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}

export interface Loaded<T> {
  readonly data: T | undefined;
  readonly error: string | undefined;
  readonly loading: boolean;
  readonly loadedAtMs: number | undefined;
  readonly reload: () => void;
}

/**
 * Loads with a REST call and, with `intervalMs`, keeps polling (for what the stream does
 * not carry). A failed poll keeps the last data and says why.
 */
export function useRemote<T>(load: (session: Session) => Promise<T>, deps: readonly unknown[], intervalMs?: number): Loaded<T> {
  const { session } = useDesk();
  const [state, setState] = useState<{ data: T | undefined; error: string | undefined; loading: boolean; loadedAtMs: number | undefined }>({
    data: undefined,
    error: undefined,
    loading: true,
    loadedAtMs: undefined,
  });
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = (): void => {
      loadRef.current(session).then(
        (data) => {
          if (cancelled) return;
          setState({ data, error: undefined, loading: false, loadedAtMs: Date.now() });
          if (intervalMs !== undefined) timer = setTimeout(run, intervalMs);
        },
        (error: unknown) => {
          if (cancelled) return;
          setState((previous) => ({ ...previous, error: humanise(error), loading: false }));
          if (intervalMs !== undefined) timer = setTimeout(run, Math.max(intervalMs, 2_000));
        },
      );
    };
    run();
    return () => {
      cancelled = true;
      if (timer) clearTimeout(timer);
    };
  }, [session, intervalMs, tick, ...deps]);
  const reload = useCallback(() => setTick((value) => value + 1), []);
  return { ...state, reload };
}
