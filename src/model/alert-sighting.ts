/**
 * Repeats of one risk alert folded into a sighting: the one rule the alert journal (`risk_alerts`)
 * and the in-memory session history share. Pure: no clock, no I/O.
 */
import type { RiskAlert, RiskSeverity } from './events.js';

/** What an alert is about: `strategy/symbol`, `strategy`, `symbol`, or '' (the process). */
export function alertSubject(alert: { readonly strategyId?: string | undefined; readonly symbol?: string | undefined }): string {
  return [alert.strategyId, alert.symbol].filter((part) => part !== undefined && part !== '').join('/');
}

/** Repeats of one alert (code, subject) folded together: what one `RiskAlertRaised` entry holds. */
export interface AlertSighting {
  readonly code: string;
  readonly subject: string;
  readonly severity: RiskSeverity;
  /** The latest alert's message. */
  readonly message: string;
  readonly strategyId?: string;
  readonly symbol?: string;
  readonly count: number;
  /** Market time of the first and last alert. */
  readonly firstAtMs: number;
  readonly lastAtMs: number;
  /** Wall clock of the first and last alert. */
  readonly firstSeenMs: number;
  readonly lastSeenMs: number;
}

const RANK: Readonly<Record<RiskSeverity, number>> = { info: 0, warning: 1, critical: 2 };

/** The symbol an alert is about: its own, else its intent's. */
function alertSymbol(alert: RiskAlert): string | undefined {
  return alert.symbol ?? alert.intent?.symbol;
}

/** The subject of an alert as a sighting files it. */
export function sightingSubject(alert: RiskAlert): string {
  return alertSubject({ strategyId: alert.strategyId, symbol: alertSymbol(alert) });
}

/** An alert seen once, at wall-clock `seenAtMs`. */
export function firstSighting(alert: RiskAlert, seenAtMs: number): AlertSighting {
  const symbol = alertSymbol(alert);
  return {
    code: alert.code,
    subject: sightingSubject(alert),
    severity: alert.severity,
    message: alert.message,
    ...(alert.strategyId === undefined ? {} : { strategyId: alert.strategyId }),
    ...(symbol === undefined ? {} : { symbol }),
    count: 1,
    firstAtMs: alert.atMs,
    lastAtMs: alert.atMs,
    firstSeenMs: seenAtMs,
    lastSeenMs: seenAtMs,
  };
}

/** Whether a repeat seen at `seenAtMs` joins `sighting`: within `windowMs` of its first sighting. */
export function joinsSighting(sighting: AlertSighting, seenAtMs: number, windowMs: number): boolean {
  return seenAtMs - sighting.firstSeenMs < windowMs;
}

/** `sighting` with a repeat folded in: the most severe severity, the latest message, one more, the time bounds widened. */
export function foldSighting<S extends AlertSighting>(sighting: S, alert: RiskAlert, seenAtMs: number): S {
  return {
    ...sighting,
    severity: RANK[alert.severity] > RANK[sighting.severity] ? alert.severity : sighting.severity,
    message: alert.message,
    count: sighting.count + 1,
    firstAtMs: Math.min(sighting.firstAtMs, alert.atMs),
    lastAtMs: Math.max(sighting.lastAtMs, alert.atMs),
    lastSeenMs: Math.max(sighting.lastSeenMs, seenAtMs),
  };
}
