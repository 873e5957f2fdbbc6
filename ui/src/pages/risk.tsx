import { useState } from 'react';
import { AlertHistory } from '../components/alert-history.js';
import { useStale } from '../components/connection-indicator.js';
import { roleAtLeast } from '../lib/api.js';
import { humanise } from '../lib/errors.js';
import { ago, dateTime, quantity, rupees, signedRupees } from '../lib/format.js';
import { useDesk, useNow, useRemote } from '../lib/hooks.js';

export interface Utilisation {
  readonly id: string;
  readonly label: string;
  readonly unit: 'paise' | 'shares' | 'orders/s';
  readonly used: number;
  readonly limit: number;
  readonly portfolioId?: string;
  readonly detail?: string;
}

export interface RiskResponse {
  readonly limits: {
    readonly maxOrderValuePaise: number;
    readonly maxOrderQuantity: number;
    readonly maxPositionQuantity: number;
    readonly maxOrdersPerSecond: number;
    readonly maxOrdersPerSecondPerStrategy: number;
    readonly maxGrossExposurePaise: number;
    readonly maxNetExposurePaise: number;
    readonly maxDailyLossPaise: number;
    readonly fatFingerBps: number;
  };
  readonly utilisation: readonly Utilisation[];
  readonly killSwitch: {
    readonly portfolioId: string;
    readonly trippedAtMs: number;
    readonly dayPnlPaise: number;
    readonly maxDailyLossPaise: number;
    readonly message: string;
  } | null;
  readonly approved: number;
  readonly rejected: number;
  readonly pausedStrategies: readonly string[];
  readonly atMs: number;
}

/** Share of a limit in use, in whole percent (integer arithmetic; capped at 999 for display). */
export function usedPercent(used: number, limit: number): number {
  if (limit <= 0) return used > 0 ? 999 : 0;
  return Math.min(999, Math.floor((Math.abs(used) * 100) / limit));
}

function amount(unit: Utilisation['unit'], value: number): string {
  if (unit === 'paise') return rupees(value);
  return `${quantity(value)}${unit === 'shares' ? ' sh' : '/s'}`;
}

/** A limit and how much of it is used: a bar (green, amber from 75 %, red from 90 %) with the figures in words. */
export function UtilisationBar({ item }: { readonly item: Utilisation }) {
  const percent = usedPercent(item.used, item.limit);
  const level = percent >= 90 ? 'high' : percent >= 75 ? 'medium' : 'low';
  return (
    <div className="util" data-testid="utilisation" data-limit={item.id} data-percent={percent}>
      <div className="util-head">
        <span>
          {item.label}
          {item.detail ? <span className="muted small"> · {item.detail}</span> : null}
        </span>
        <span className="num">
          {amount(item.unit, item.used)} <span className="muted">of {amount(item.unit, item.limit)}</span>
        </span>
      </div>
      <div
        className={`util-track util-${level}`}
        role="meter"
        aria-label={item.label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.min(100, percent)}
        aria-valuetext={`${percent}% used`}
      >
        <div className="util-fill" style={{ width: `${Math.min(100, percent)}%` }} />
      </div>
      <div className="util-percent num small">{percent}%</div>
    </div>
  );
}

export function RiskPage() {
  const { session } = useDesk();
  const stale = useStale();
  const risk = useRemote<RiskResponse>((current) => current.request<RiskResponse>('GET', '/api/v1/risk'), [], 5_000);
  const now = useNow();
  const [confirming, setConfirming] = useState(false);
  const [message, setMessage] = useState<string | undefined>();
  const isAdmin = roleAtLeast(session.role, 'admin');

  const engage = async (): Promise<void> => {
    setConfirming(false);
    try {
      const result = await session.request<{ paused: string[] }>('POST', '/api/v1/kill-switch');
      setMessage(
        `Kill switch engaged: every new order is refused, open orders are cancelled, and it paused ${result.paused.length} strateg${result.paused.length === 1 ? 'y' : 'ies'} (${result.paused.join(', ') || 'none'}). Re-arm trading from the banner, then resume strategies on the Strategies page.`,
      );
      risk.reload();
    } catch (error) {
      setMessage(humanise(error));
    }
  };
  const reset = async (): Promise<void> => {
    try {
      await session.request<{ reset: boolean }>('POST', '/api/v1/risk/kill-switch/reset');
      setMessage('Trading re-armed. If the day’s loss is still past the limit, the kill switch trips again at once.');
      risk.reload();
    } catch (error) {
      setMessage(humanise(error));
    }
  };

  const data = risk.data;
  const groups = new Map<string, Utilisation[]>();
  for (const item of data?.utilisation ?? []) {
    const key = item.portfolioId ? `Portfolio ${item.portfolioId}` : 'Order rate';
    groups.set(key, [...(groups.get(key) ?? []), item]);
  }

  return (
    <div className={`page${stale ? ' stale' : ''}`}>
      <h1>Risk</h1>
      {risk.error ? (
        <div className="banner banner-error" role="alert">
          Risk figures unavailable: {risk.error} {data ? `Showing those from ${ago(risk.loadedAtMs, now)}.` : ''}
        </div>
      ) : null}
      {data?.killSwitch ? (
        <div className="banner banner-error" role="alert" data-testid="kill-switch-tripped">
          <strong>Trading halted by the daily-loss kill switch</strong> at {dateTime(data.killSwitch.trippedAtMs)}: {data.killSwitch.message}. Every new order
          is refused.
          {isAdmin ? (
            <>
              {' '}
              <button type="button" className="warning" onClick={() => void reset()}>
                Re-arm trading
              </button>
            </>
          ) : null}
        </div>
      ) : null}
      <div className="columns">
        <section className="panel grow" aria-label="Limits and utilisation">
          <h2>
            Limits and utilisation{' '}
            <span className="muted small">
              {data ? `market time ${dateTime(data.atMs)} · updated ${ago(risk.loadedAtMs, now)}` : risk.loading ? 'loading…' : ''}
            </span>
          </h2>
          {[...groups].map(([title, items]) => (
            <div key={title} className="util-group">
              <h3>{title}</h3>
              {items.map((item) => (
                <UtilisationBar key={`${item.portfolioId ?? ''}:${item.id}`} item={item} />
              ))}
            </div>
          ))}
          {data ? (
            <>
              <h3>Per-order limits</h3>
              <dl className="facts limits" data-testid="order-limits">
                <dt>Order value</dt>
                <dd className="num">{rupees(data.limits.maxOrderValuePaise)}</dd>
                <dt>Order quantity</dt>
                <dd className="num">{quantity(data.limits.maxOrderQuantity)} sh</dd>
                <dt>Fat finger (distance from last price)</dt>
                <dd className="num">{(data.limits.fatFingerBps / 100).toFixed(2)}%</dd>
                <dt>Intents approved / refused</dt>
                <dd className="num">
                  {quantity(data.approved)} / {quantity(data.rejected)}
                </dd>
              </dl>
            </>
          ) : null}
        </section>
        <aside className="side">
          {isAdmin ? (
            <section className="panel kill-switch" aria-label="Kill switch">
              <h2>Kill switch</h2>
              <p>
                Stops trading at once: the risk manager refuses every new order (manual ones too), cancels the open ones and pauses every strategy. It stays
                until an admin re-arms trading, also across restarts.
              </p>
              {data && data.pausedStrategies.length > 0 ? <p className="small muted">Paused or stopped now: {data.pausedStrategies.join(', ')}</p> : null}
              {confirming ? (
                <div role="alertdialog" aria-label="Confirm kill switch" className="confirm">
                  <strong>Stop all trading now?</strong>{' '}
                  <button type="button" className="danger" onClick={() => void engage()} autoFocus>
                    Yes, stop everything
                  </button>{' '}
                  <button type="button" onClick={() => setConfirming(false)}>
                    No
                  </button>
                </div>
              ) : (
                <button type="button" className="danger" onClick={() => setConfirming(true)}>
                  Engage kill switch…
                </button>
              )}
              {message ? (
                <p role="status" className="small" data-testid="kill-switch-message">
                  {message}
                </p>
              ) : null}
            </section>
          ) : null}
          {data ? (
            <section className="panel" aria-label="Daily loss">
              <h2>Day</h2>
              <dl className="facts">
                {data.utilisation
                  .filter((item) => item.id === 'maxDailyLossPaise')
                  .map((item) => (
                    <div key={item.portfolioId} className="contents">
                      <dt>Loss today · {item.portfolioId}</dt>
                      <dd className="num">{item.used === 0 ? 'none' : signedRupees(-item.used)}</dd>
                    </div>
                  ))}
                <dt>Kill switch trips at a loss of</dt>
                <dd className="num">{rupees(data.limits.maxDailyLossPaise)}</dd>
              </dl>
            </section>
          ) : null}
        </aside>
      </div>
      <AlertHistory />
    </div>
  );
}
