import { useEffect, useMemo, useRef, useState } from 'react';
import { ActorTree } from '../components/actor-tree.js';
import type { ActorNode, ActorsResponse, MetricsResponse } from '../lib/api.js';
import { ago, clock, quantity } from '../lib/format.js';
import { useLive, useNow, useRemote } from '../lib/hooks.js';

const FLASH_MS = 15_000;

function flatten(nodes: readonly ActorNode[], into: ActorNode[] = []): ActorNode[] {
  for (const node of nodes) {
    into.push(node);
    flatten(node.children, into);
  }
  return into;
}

function metricTotal(metrics: MetricsResponse | undefined, name: string): number | undefined {
  const metric = metrics?.metrics[name];
  if (!metric) return undefined;
  return metric.values.filter((value) => value.name === undefined || value.name === name).reduce((sum, value) => sum + value.value, 0);
}

export function SystemPage() {
  const actorEvents = useLive((state) => state.actorEvents);
  const lastActorEvent = actorEvents[0]?.seq;
  // polled (the stream's actors topic carries lifecycle events, not the figures); an actor event reloads at once
  const actors = useRemote<ActorsResponse>((session) => session.request<ActorsResponse>('GET', '/api/v1/actors'), [lastActorEvent], 2_000);
  const metrics = useRemote<MetricsResponse>((session) => session.request<MetricsResponse>('GET', '/api/v1/metrics'), [], 5_000);
  const now = useNow();
  const restartsSeen = useRef(new Map<string, number>());
  const [flashes, setFlashes] = useState<ReadonlyMap<string, number>>(new Map());

  useEffect(() => {
    if (!actors.data) return;
    const changed: string[] = [];
    for (const node of flatten(actors.data.tree)) {
      const before = restartsSeen.current.get(node.path);
      if (before !== undefined && node.restarts > before) changed.push(node.path);
      restartsSeen.current.set(node.path, node.restarts);
    }
    if (changed.length > 0) setFlashes((previous) => new Map([...previous, ...changed.map((path) => [path, Date.now()] as const)]));
  }, [actors.data]);
  const recent = useMemo(() => {
    const set = new Set<string>();
    for (const [path, atMs] of flashes) if (now - atMs < FLASH_MS) set.add(path);
    for (const event of actorEvents) if (now - event.atMs < FLASH_MS && event.event === 'ActorRestarted') set.add(event.path);
    return set;
  }, [flashes, actorEvents, now]);

  const all = actors.data ? flatten(actors.data.tree) : [];
  const notRunning = all.filter((node) => node.status !== 'running');
  const restarts = all.reduce((sum, node) => sum + node.restarts, 0);
  const mailbox = all.reduce((sum, node) => sum + node.mailboxDepth, 0);
  const figures: [string, number | undefined][] = [
    ['Actors', all.length],
    ['Not running', notRunning.length],
    ['Restarts', restarts],
    ['Mailbox total', mailbox],
    ['Dead letters', actors.data?.deadLetters],
    ['Ticks', metricTotal(metrics.data, 'troupe_ticks_total')],
    ['Orders', metricTotal(metrics.data, 'troupe_orders_total')],
    ['Fills', metricTotal(metrics.data, 'troupe_fills_total')],
  ];

  return (
    <div className="page">
      <h1>System</h1>
      {actors.error ? (
        <div className="banner banner-error" role="alert">
          {actors.error} {actors.data ? `Showing the tree from ${ago(actors.loadedAtMs, now)}.` : ''}
        </div>
      ) : null}
      <section className="cards" aria-label="Runtime figures">
        {figures.map(([label, value]) => (
          <div className="card" key={label}>
            <div className="card-label">{label}</div>
            <div className={`card-value num${label === 'Not running' && (value ?? 0) > 0 ? ' down' : ''}`}>{quantity(value)}</div>
          </div>
        ))}
      </section>
      <div className="columns">
        <section className="panel grow" aria-label="Supervision tree">
          <h2>
            Supervision tree <span className="muted small">updated {ago(actors.loadedAtMs, now)}</span>
          </h2>
          {actors.data ? (
            <ActorTree tree={actors.data.tree} recentlyRestarted={recent} nowMs={now} />
          ) : (
            <p className="muted">{actors.loading ? 'Loading…' : ''}</p>
          )}
        </section>
        <aside className="side">
          <section className="panel" aria-label="Actor events">
            <h2>Actor events</h2>
            {actorEvents.length === 0 ? (
              <p className="muted">No crashes or restarts since this page opened.</p>
            ) : (
              <ul className="events" data-testid="actor-events">
                {actorEvents.slice(0, 20).map((event) => (
                  <li key={event.seq} className={event.event === 'ActorFailed' ? 'down' : ''}>
                    <span className="muted small">{clock(event.atMs)}</span> <strong>{event.event.replace(/^Actor/, '')}</strong>{' '}
                    <span className="mono">{event.path}</span>
                    {event.restarts !== undefined ? ` (restart #${event.restarts})` : ''}
                    {event.error ? ` — ${event.error}` : ''}
                  </li>
                ))}
              </ul>
            )}
          </section>
        </aside>
      </div>
    </div>
  );
}
