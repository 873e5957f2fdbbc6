import { useState } from 'react';
import { roleAtLeast, type Strategy } from '../lib/api.js';
import { humanise } from '../lib/errors.js';
import { ago, quantity } from '../lib/format.js';
import { useDesk, useNow, useRemote } from '../lib/hooks.js';

export function StrategiesPage() {
  const { session } = useDesk();
  const remote = useRemote((current) => current.call((client) => client.strategies()), [], 5_000);
  const [busy, setBusy] = useState<string | undefined>();
  const [message, setMessage] = useState<string | undefined>();
  // the answer of a pause/resume wins until the next poll is newer
  const [overrides, setOverrides] = useState<ReadonlyMap<string, { readonly strategy: Strategy; readonly atMs: number }>>(new Map());
  const now = useNow();
  const canTrade = roleAtLeast(session.role, 'trader');
  const items = (remote.data?.items ?? []).map((item) => {
    const override = overrides.get(item.strategyId);
    return override && (remote.loadedAtMs ?? 0) < override.atMs ? override.strategy : item;
  });

  const toggle = async (strategy: Strategy): Promise<void> => {
    setBusy(strategy.strategyId);
    setMessage(undefined);
    try {
      const updated = await session.call((client) => client.setStrategyPaused(strategy.strategyId, !strategy.paused));
      setOverrides((previous) => new Map(previous).set(updated.strategyId, { strategy: updated, atMs: Date.now() }));
      setMessage(`${updated.strategyId} is ${updated.paused ? 'paused: it places no new orders' : 'running again'}.`);
      remote.reload();
    } catch (error) {
      setMessage(humanise(error));
    } finally {
      setBusy(undefined);
    }
  };

  return (
    <div className="page">
      <h1>Strategies</h1>
      {remote.error ? (
        <div className="banner banner-error" role="alert">
          {remote.error}
        </div>
      ) : null}
      {message ? (
        <div className="banner banner-info" role="status">
          {message}
        </div>
      ) : null}
      <section className="panel">
        <table className="grid" data-testid="strategies-table">
          <thead>
            <tr>
              <th>Strategy</th>
              <th>Kind</th>
              <th>State</th>
              <th className="num">Ticks</th>
              <th className="num">Bars</th>
              <th className="num">Intents</th>
              <th className="num">Rejected</th>
              <th className="num">Fills</th>
              <th className="num">Working</th>
              <th>Positions (own)</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {items.map((strategy) => (
              <tr key={strategy.strategyId} data-strategy={strategy.strategyId} data-paused={String(strategy.paused)}>
                <th scope="row">{strategy.strategyId}</th>
                <td>{strategy.kind}</td>
                <td>
                  <span className={`badge ${strategy.paused ? 'badge-restarting' : 'badge-running'}`}>{strategy.paused ? 'paused' : 'running'}</span>
                </td>
                <td className="num">{quantity(strategy.stats.ticks)}</td>
                <td className="num">{quantity(strategy.stats.bars)}</td>
                <td className="num">{quantity(strategy.stats.intents)}</td>
                <td className="num">{quantity(strategy.stats.rejected)}</td>
                <td className="num">{quantity(strategy.stats.fills)}</td>
                <td className="num">{quantity(strategy.workingIntents)}</td>
                <td className="small">
                  {Object.entries(strategy.positions)
                    .filter(([, net]) => net !== 0)
                    .map(([symbol, net]) => `${symbol} ${net > 0 ? '+' : ''}${quantity(net)}`)
                    .join(', ') || '—'}
                </td>
                <td>
                  {canTrade ? (
                    <button type="button" className={strategy.paused ? 'primary' : 'warning'} disabled={busy === strategy.strategyId} onClick={() => void toggle(strategy)}>
                      {strategy.paused ? 'Resume' : 'Pause'}
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <p className="muted small">Updated {ago(remote.loadedAtMs, now)} · refreshes every 5 s.</p>
      </section>
      <section className="panel">
        <h2>Parameters and new instances</h2>
        <p className="muted">
          The gateway does not expose strategy config schemas yet (PATCH and POST /api/v1/strategies answer 501), so parameters cannot be edited here. Strategies are configured at
          start.
        </p>
      </section>
    </div>
  );
}
