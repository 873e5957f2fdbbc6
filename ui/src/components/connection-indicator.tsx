import { ago } from '../lib/format.js';
import { useLive, useNow } from '../lib/hooks.js';
import { freshness, type ConnectionStatus, type Freshness } from '../lib/live-store.js';

const LABELS: Readonly<Record<ConnectionStatus, string>> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
};

const seconds = (ms: number): string => `${Math.max(0, Math.round(ms / 1000))} s`;

/** The label of the data's freshness: the socket's state, or why an open stream is not live. */
function freshnessLabel(state: Freshness, ageMs: number): string {
  if (state === 'quiet') return `No data for ${seconds(ageMs)}`;
  if (state === 'unresponsive') return `Server silent ${seconds(ageMs)}`;
  return LABELS[state];
}

/**
 * The stream's state, always visible in the top bar: green only while events keep coming and
 * the server answers heartbeats, amber when the stream is open but no data came for 10 s (a
 * stalled feed), red when heartbeats go unanswered or the socket is down.
 */
export function ConnectionIndicator() {
  const connection = useLive((state) => state.connection);
  const now = useNow();
  const fresh = freshness(connection, now);
  const title = [
    `Stream: ${LABELS[connection.status]}`,
    fresh.state === 'quiet' ? 'connected, but no event for a while: the feed may have stalled' : '',
    fresh.state === 'unresponsive' ? 'the server has not answered a heartbeat' : '',
    `last event ${ago(connection.lastEventAtMs, now)}`,
    connection.reconnects > 0 ? `${connection.reconnects} reconnect(s)` : '',
    connection.detail ?? '',
  ]
    .filter(Boolean)
    .join(' · ');
  return (
    <div
      className={`connection connection-${fresh.state === 'quiet' ? 'reconnecting' : fresh.state === 'unresponsive' ? 'offline' : connection.status}`}
      role="status"
      aria-live="polite"
      title={title}
      data-testid="connection"
      data-status={connection.status}
      data-freshness={fresh.state}
    >
      <span className="dot" aria-hidden="true" />
      <span>{freshnessLabel(fresh.state, fresh.ageMs)}</span>
      {connection.status !== 'live' && connection.detail ? <span className="muted small"> — {connection.detail}</span> : null}
    </div>
  );
}

/** Says plainly when the figures below are not live. */
export function StaleBanner() {
  const connection = useLive((state) => state.connection);
  const now = useNow();
  const fresh = freshness(connection, now);
  if (connection.status === 'connecting' || fresh.state === 'live') return null;
  if (fresh.state === 'quiet' || fresh.state === 'unresponsive') {
    return (
      <div className="banner banner-warning" role="alert" data-testid="stale-banner">
        {fresh.state === 'quiet' ? (
          <>
            Connected, but no market data or events for {seconds(fresh.ageMs)}: the figures below are <strong>not live</strong> (a stalled feed shows in the
            halt banner once the server notices).
          </>
        ) : (
          <>
            The server has not answered for {seconds(fresh.ageMs)}: the figures below are <strong>not live</strong>.
          </>
        )}
      </div>
    );
  }
  return (
    <div className="banner banner-warning" role="alert">
      Connection to the server lost — the figures below are from {ago(connection.lastEventAtMs ?? connection.sinceMs, now)} and are <strong>not live</strong>.
      Reconnecting automatically.
    </div>
  );
}

/** True when live data should be shown as stale: the socket is not open, no event came for 10 s, or the server stopped answering. */
export function useStale(): boolean {
  const connection = useLive((state) => state.connection);
  const now = useNow();
  return freshness(connection, now).state !== 'live';
}
