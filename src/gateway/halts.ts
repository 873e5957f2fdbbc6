/**
 * Why trading is stopped right now, from every source that can stop it, in one list: the
 * daily-loss kill switch (the risk manager's state, so it survives restarts), the order journal
 * failing closed, an expired broker session, and the market-data feed (disconnected, or silent
 * while the market is open). The desk shows it on every page; `npm start` says it at start-up.
 */
import { isMarketOpenAt } from '../model/index.js';
import type { RuntimeFacade } from '../runtime/facade.js';

export type HaltKind = 'kill-switch' | 'journal' | 'broker-session' | 'feed';

export interface Halt {
  readonly kind: HaltKind;
  /** `critical`: no order goes out; `warning`: trading continues on stale or missing data. */
  readonly severity: 'critical' | 'warning';
  /** Since when, epoch ms (market time for the kill switch), when known. */
  readonly sinceMs: number | null;
  /** What happened, in a sentence. */
  readonly reason: string;
  /** What a person does about it. */
  readonly action: string;
  /** The API call that releases it, when one does (admins, after a confirmation on the desk). */
  readonly release: { readonly method: 'POST'; readonly path: string } | null;
}

/** No tick for this long while the market is open is a stalled feed. */
export const FEED_STALL_MS = 30_000;

export interface HaltBoard {
  current(): Promise<readonly Halt[]>;
  close(): void;
}

/** What the board reads besides the runtime (the gateway's feed and store states). */
export interface HaltSources {
  readonly feedState: () => { readonly connected: boolean; readonly lastTickAgeMs: number | undefined; readonly followsExchangeHours?: boolean };
  readonly persistenceState: () => { readonly journal: 'ok' | 'down' | 'not configured' };
  readonly nowMs?: () => number;
}

export function haltBoard(runtime: RuntimeFacade, sources: HaltSources): HaltBoard {
  const nowMs = sources.nowMs ?? Date.now;
  let session: { readonly sinceMs: number; readonly reason: string } | undefined;
  let journalDownSinceMs: number | undefined;
  const offs = [
    runtime.onEvent('RiskAlert', (alert) => {
      if (alert.code === 'broker-session-expired') session ??= { sinceMs: alert.atMs, reason: alert.message };
      if (alert.code === 'broker-session-renewed') session = undefined;
      if (alert.code === 'journal-unavailable') journalDownSinceMs ??= nowMs();
      if (alert.code === 'journal-recovered') journalDownSinceMs = undefined;
    }),
  ];
  return {
    async current() {
      const halts: Halt[] = [];
      const report = await runtime.riskReport().catch(() => undefined);
      const kill = report?.killSwitch;
      if (kill) {
        halts.push({
          kind: 'kill-switch',
          severity: 'critical',
          sinceMs: kill.trippedAtMs,
          reason: `Daily-loss kill switch: ${kill.message}. Strategies are paused and every new order is refused.`,
          action: 'Review the day’s loss on the Risk page; an admin re-arms trading (it trips again at once while the loss is past the limit).',
          release: { method: 'POST', path: '/api/v1/risk/kill-switch/reset' },
        });
      }
      if (sources.persistenceState().journal === 'down') {
        halts.push({
          kind: 'journal',
          severity: 'critical',
          sinceMs: journalDownSinceMs ?? null,
          reason: 'The order journal (database) is unavailable: new orders are refused until it is back (fail closed).',
          action: 'Check the database (System page, /api/v1/health); trading resumes by itself when the journal is back.',
          release: null,
        });
      }
      if (session) {
        halts.push({
          kind: 'broker-session',
          severity: 'critical',
          sinceMs: session.sinceMs,
          reason: `The broker session expired: ${session.reason}`,
          action: 'Log in to Kite again (`troupe kite login`); placement resumes with the new session.',
          release: null,
        });
      }
      const feed = sources.feedState();
      if (!feed.connected) {
        halts.push({
          kind: 'feed',
          severity: 'warning',
          sinceMs: null,
          reason: 'The market-data feed is disconnected: strategies see no prices.',
          action: 'Check the feed on the System page; it reconnects by itself.',
          release: null,
        });
      } else if (feed.lastTickAgeMs !== undefined && feed.lastTickAgeMs > FEED_STALL_MS && (!feed.followsExchangeHours || isMarketOpenAt(nowMs()))) {
        halts.push({
          kind: 'feed',
          severity: 'warning',
          sinceMs: nowMs() - feed.lastTickAgeMs,
          reason: `No market data for ${Math.round(feed.lastTickAgeMs / 1000)} s while the market is open: strategies act on stale prices.`,
          action: 'Check the feed on the System page (and the broker’s status); orders still go out.',
          release: null,
        });
      }
      return halts;
    },
    close() {
      for (const off of offs) off();
    },
  };
}
