import { createContext, useContext, useState, type ReactNode } from 'react';
import { roleAtLeast, type Halts } from '../lib/api.js';
import { humanise } from '../lib/errors.js';
import { ago, dateTime } from '../lib/format.js';
import { useDesk, useNow, useRemote, type Loaded } from '../lib/hooks.js';

/** How often the desk asks why trading may be stopped (risk alerts on the stream also trigger a look). */
const POLL_MS = 3_000;

const HaltsContext = createContext<Loaded<Halts> | null>(null);

/** Loads `GET /api/v1/halts` once for the whole desk (the banner, the top bar, the strategies page). */
export function HaltsProvider({ children }: { readonly children: ReactNode }) {
  const halts = useRemote((session) => session.call((client) => client.halts()), [], POLL_MS);
  return <HaltsContext.Provider value={halts}>{children}</HaltsContext.Provider>;
}

export function useHalts(): Loaded<Halts> {
  const value = useContext(HaltsContext);
  if (!value) throw new Error('useHalts outside HaltsProvider');
  return value;
}

const TITLES: Readonly<Record<Halts['halts'][number]['kind'], string>> = {
  'kill-switch': 'Trading halted by the daily-loss kill switch',
  journal: 'Trading halted: the order journal is unavailable',
  'broker-session': 'Trading halted: the broker session expired',
  feed: 'Market data stalled',
};

/** On every page: why trading is stopped, what to do, and (admins) the release, after a confirmation. */
export function HaltBanner() {
  const { session } = useDesk();
  const halts = useHalts();
  const now = useNow();
  const [confirming, setConfirming] = useState<string | undefined>();
  const [message, setMessage] = useState<string | undefined>();
  const isAdmin = roleAtLeast(session.role, 'admin');
  const list = halts.data?.halts ?? [];
  if (list.length === 0 && message === undefined) return null;
  const release = async (path: string): Promise<void> => {
    setConfirming(undefined);
    try {
      await session.request('POST', path);
      setMessage('Released. If the cause is still there (the day’s loss past the limit, say), trading halts again at once.');
    } catch (error) {
      setMessage(humanise(error));
    }
    halts.reload();
  };
  return (
    <div className="halts" data-testid="halt-banner" data-halted={String(halts.data?.halted ?? false)}>
      {list.map((halt) => (
        <div key={halt.kind} className={`banner ${halt.severity === 'critical' ? 'banner-error' : 'banner-warning'}`} role="alert" data-halt={halt.kind}>
          <strong>{TITLES[halt.kind]}</strong>
          {halt.sinceMs !== null ? <span className="muted small"> since {dateTime(halt.sinceMs)}</span> : null}. {halt.reason}{' '}
          <span className="muted">{halt.action}</span>
          {halt.release && isAdmin ? (
            confirming === halt.kind ? (
              <span className="confirm">
                {' '}
                Release it now?{' '}
                <button type="button" className="danger" onClick={() => void release(halt.release!.path)}>
                  Yes, release
                </button>{' '}
                <button type="button" onClick={() => setConfirming(undefined)}>
                  Cancel
                </button>
              </span>
            ) : (
              <>
                {' '}
                <button type="button" className="warning" onClick={() => setConfirming(halt.kind)}>
                  Release…
                </button>
              </>
            )
          ) : null}
        </div>
      ))}
      {message ? (
        <div className="banner banner-info" role="status">
          {message}{' '}
          <button type="button" onClick={() => setMessage(undefined)}>
            Dismiss
          </button>
        </div>
      ) : null}
      {halts.error ? (
        <p className="muted small">
          Halt status not refreshed ({halts.error}); last checked {ago(halts.loadedAtMs, now)}.
        </p>
      ) : null}
    </div>
  );
}

/** The top bar's trading state: HALTED (red) while a critical halt stops orders. */
export function TradingState() {
  const halts = useHalts();
  const critical = (halts.data?.halts ?? []).filter((halt) => halt.severity === 'critical');
  if (critical.length === 0) return null;
  return (
    <a className="trading-halted" href="#/risk" data-testid="trading-state" title={critical.map((halt) => halt.reason).join('\n')}>
      HALTED
    </a>
  );
}
