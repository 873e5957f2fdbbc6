import { ago } from '../lib/format.js';
import { useLive, useNow } from '../lib/hooks.js';
import type { ConnectionStatus } from '../lib/live-store.js';

const LABELS: Readonly<Record<ConnectionStatus, string>> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
};

/** The stream's state, always visible in the top bar. */
export function ConnectionIndicator() {
  const connection = useLive((state) => state.connection);
  const now = useNow();
  const title = [
    `Stream: ${LABELS[connection.status]}`,
    `last event ${ago(connection.lastEventAtMs, now)}`,
    connection.reconnects > 0 ? `${connection.reconnects} reconnect(s)` : '',
    connection.detail ?? '',
  ]
    .filter(Boolean)
    .join(' · ');
  return (
    <div className={`connection connection-${connection.status}`} role="status" aria-live="polite" title={title} data-testid="connection" data-status={connection.status}>
      <span className="dot" aria-hidden="true" />
      <span>{LABELS[connection.status]}</span>
      {connection.status !== 'live' && connection.detail ? <span className="muted small"> — {connection.detail}</span> : null}
    </div>
  );
}

/** Says plainly when the figures below are not live. */
export function StaleBanner() {
  const connection = useLive((state) => state.connection);
  const now = useNow();
  if (connection.status === 'live' || connection.status === 'connecting') return null;
  return (
    <div className="banner banner-warning" role="alert">
      Connection to the server lost — the figures below are from {ago(connection.lastEventAtMs ?? connection.sinceMs, now)} and are <strong>not live</strong>. Reconnecting
      automatically.
    </div>
  );
}

/** True when live data should be shown as stale. */
export function useStale(): boolean {
  return useLive((state) => state.connection.status !== 'live');
}
