/**
 * Risk alerts kept: journaled like orders (stream {@link RISK_ALERT_STREAM}) and projected in the
 * same transaction into `risk_alerts` (migration 011), deduplicated and acknowledgeable.
 *
 * - {@link RiskAlertRecorder} takes the bus's `RiskAlert`s off the trading path: it buffers them,
 *   folds repeats of one (code, subject) into one sighting ({@link coalesceAlerts}) and writes
 *   them every `flushMs`. A storm of 728 rate-limit refusals is a handful of journal entries and
 *   one row with `count` 728, not 728 rows. What it cannot write is counted and logged, never
 *   dropped silently.
 * - {@link RiskAlertJournal} appends `RiskAlertRaised` / `RiskAlertAcknowledged` entries and
 *   projects them: a sighting joins the newest unacknowledged row of its (code, subject) when it
 *   comes within `windowMs` (wall clock) of that row's first sighting, else opens a new row.
 */
import { firstSighting, foldSighting, joinsSighting, sightingSubject, type AlertSighting, type RiskAlert } from '../model/index.js';
import type { Logger } from '../observability/logger.js';
import type { Database, Queryable } from './database.js';
import { SqlJournal } from './journal.js';
import { checkFences, type Fence } from './lease.js';

/** The journal stream of risk alerts. */
export const RISK_ALERT_STREAM = 'risk/alerts';
/** Repeats of one (code, subject) within this long of the first sighting share a row. */
export const DEFAULT_ALERT_WINDOW_MS = 60_000;

/** One alert as the recorder received it: the bus's alert and the wall-clock time it arrived. */
export interface ReceivedAlert {
  readonly alert: RiskAlert;
  readonly seenAtMs: number;
}

/**
 * Folds received alerts into sightings: consecutive repeats of a (code, subject) within
 * `windowMs` of the sighting's first alert share it (the most severe severity, the latest message).
 * Sightings come out in the order of their first alert.
 */
export function coalesceAlerts(received: readonly ReceivedAlert[], windowMs = DEFAULT_ALERT_WINDOW_MS): AlertSighting[] {
  const out: AlertSighting[] = [];
  const open = new Map<string, number>();
  for (const { alert, seenAtMs } of received) {
    const key = `${alert.code}\u0000${sightingSubject(alert)}`;
    const index = open.get(key);
    const current = index === undefined ? undefined : out[index];
    if (current !== undefined && index !== undefined && joinsSighting(current, seenAtMs, windowMs)) {
      out[index] = foldSighting(current, alert, seenAtMs);
      continue;
    }
    open.set(key, out.length);
    out.push(firstSighting(alert, seenAtMs));
  }
  return out;
}

/** An acknowledgement as journaled. */
export interface AlertAcknowledgement {
  readonly alertId: number;
  readonly by: string;
  readonly atMs: number;
  readonly note?: string;
}

/** How an acknowledgement went. */
export type AcknowledgeOutcome =
  | { readonly outcome: 'acknowledged'; readonly acknowledgement: AlertAcknowledgement }
  | { readonly outcome: 'already'; readonly acknowledgement: AlertAcknowledgement }
  | { readonly outcome: 'not-found' };

const iso = (ms: number): string => new Date(ms).toISOString();

/** Journal + `risk_alerts` projection, one transaction per call (fenced like the order journal). */
export class RiskAlertJournal {
  readonly windowMs: number;

  /** `fences`: as `OrderJournal`'s: each append checks this process still holds the single-writer lease. */
  constructor(
    private readonly db: Database,
    private readonly options: { readonly fences?: () => readonly Fence[]; readonly windowMs?: number } = {},
  ) {
    this.windowMs = options.windowMs ?? DEFAULT_ALERT_WINDOW_MS;
  }

  private async begin(tx: Queryable): Promise<number | undefined> {
    if (!this.options.fences) return undefined;
    const fences = this.options.fences();
    if (fences.length === 0) throw new Error('this process holds no single-writer lease: journal write refused');
    await checkFences(tx, fences);
    return fences[0]!.token;
  }

  /** Journals the sightings and folds them into `risk_alerts`; resolves with the ids of the rows they went to. */
  async record(sightings: readonly AlertSighting[]): Promise<number[]> {
    if (sightings.length === 0) return [];
    return this.db.transaction(async (tx) => {
      const fence = await this.begin(tx);
      const sequences = await new SqlJournal(tx).append(
        sightings.map((sighting) => ({ stream: RISK_ALERT_STREAM, type: 'RiskAlertRaised', payload: { ...sighting, windowMs: this.windowMs } })),
        fence,
      );
      const ids: number[] = [];
      for (const [index, sighting] of sightings.entries()) ids.push(await this.project(tx, sighting, sequences[index]!));
      return ids;
    });
  }

  private async project(tx: Queryable, sighting: AlertSighting, sequence: number): Promise<number> {
    const [joined] = await tx.query<{ id: number }>(
      `UPDATE risk_alerts SET count = count + $3, message = $4,
         severity = CASE WHEN $5 = 'critical' OR severity = 'critical' THEN 'critical' WHEN $5 = 'warning' OR severity = 'warning' THEN 'warning' ELSE 'info' END,
         first_at = LEAST(first_at, $6::timestamptz), last_at = GREATEST(last_at, $7::timestamptz), last_seen = GREATEST(last_seen, $8::timestamptz), journal_sequence = $9
       WHERE id = (SELECT id FROM risk_alerts WHERE code = $1 AND subject = $2 ORDER BY id DESC LIMIT 1)
         AND acknowledged_at IS NULL
         AND $10::timestamptz >= first_seen AND $10::timestamptz < first_seen + window_ms * interval '1 millisecond'
       RETURNING id`,
      [
        sighting.code,
        sighting.subject,
        sighting.count,
        sighting.message,
        sighting.severity,
        iso(sighting.firstAtMs),
        iso(sighting.lastAtMs),
        iso(sighting.lastSeenMs),
        sequence,
        iso(sighting.firstSeenMs),
      ],
    );
    if (joined) return joined.id;
    const [inserted] = await tx.query<{ id: number }>(
      `INSERT INTO risk_alerts (code, subject, severity, message, strategy_id, symbol, count, first_at, last_at, first_seen, last_seen, window_ms, journal_sequence)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8::timestamptz, $9::timestamptz, $10::timestamptz, $11::timestamptz, $12, $13) RETURNING id`,
      [
        sighting.code,
        sighting.subject,
        sighting.severity,
        sighting.message,
        sighting.strategyId ?? null,
        sighting.symbol ?? null,
        sighting.count,
        iso(sighting.firstAtMs),
        iso(sighting.lastAtMs),
        iso(sighting.firstSeenMs),
        iso(sighting.lastSeenMs),
        this.windowMs,
        sequence,
      ],
    );
    return inserted!.id;
  }

  /** Acknowledges one row (journaled, then projected): once; a second time says who did it first. */
  async acknowledge(alertId: number, by: string, atMs: number, note?: string): Promise<AcknowledgeOutcome> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx.query<{ acknowledged_by: string | null; acknowledged_at: Date | null; acknowledged_note: string | null }>(
        'SELECT acknowledged_by, acknowledged_at, acknowledged_note FROM risk_alerts WHERE id = $1',
        [alertId],
      );
      if (!row) return { outcome: 'not-found' } as const;
      if (row.acknowledged_at !== null) {
        return {
          outcome: 'already',
          acknowledgement: {
            alertId,
            by: row.acknowledged_by ?? '',
            atMs: new Date(row.acknowledged_at).getTime(),
            ...(row.acknowledged_note === null ? {} : { note: row.acknowledged_note }),
          },
        } as const;
      }
      const fence = await this.begin(tx);
      const acknowledgement: AlertAcknowledgement = { alertId, by, atMs, ...(note === undefined ? {} : { note }) };
      await new SqlJournal(tx).append([{ stream: RISK_ALERT_STREAM, type: 'RiskAlertAcknowledged', payload: { ...acknowledgement } }], fence);
      await tx.query('UPDATE risk_alerts SET acknowledged_by = $2, acknowledged_at = $3::timestamptz, acknowledged_note = $4 WHERE id = $1', [
        alertId,
        by,
        iso(atMs),
        note ?? null,
      ]);
      return { outcome: 'acknowledged', acknowledgement } as const;
    });
  }
}

/** What the recorder did, for metrics and health. */
export interface RecorderCounts {
  readonly received: number;
  readonly written: number;
  /** Alerts lost: the buffer was full, or a write failed {@link RiskAlertRecorder}'s retries. */
  readonly dropped: number;
}

/**
 * Writes the bus's risk alerts through a {@link RiskAlertJournal}, in the background: `offer` only
 * buffers (no I/O on the publisher's turn); a timer flushes every `flushMs`. A failed write is
 * retried with the next flush (the batch stays buffered, bounded by `maxBuffered`); alerts past
 * the bound are counted as dropped and logged once per flush.
 */
export class RiskAlertRecorder {
  private buffer: ReceivedAlert[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;
  private flushing: Promise<void> | undefined;
  private counts = { received: 0, written: 0, dropped: 0 };
  private droppedSinceLog = 0;

  constructor(
    private readonly journal: RiskAlertJournal,
    private readonly options: { readonly nowMs?: () => number; readonly flushMs?: number; readonly maxBuffered?: number; readonly log?: Logger } = {},
  ) {}

  start(): this {
    this.timer ??= setInterval(() => void this.flush(), this.options.flushMs ?? 500);
    this.timer.unref();
    return this;
  }

  offer(alert: RiskAlert): void {
    this.counts.received += 1;
    if (this.buffer.length >= (this.options.maxBuffered ?? 50_000)) {
      this.counts.dropped += 1;
      this.droppedSinceLog += 1;
      return;
    }
    this.buffer.push({ alert, seenAtMs: (this.options.nowMs ?? Date.now)() });
  }

  status(): RecorderCounts {
    return { ...this.counts };
  }

  /** Writes what is buffered (waits for a flush in progress first). */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.droppedSinceLog > 0) {
      this.options.log?.error(
        { dropped: this.droppedSinceLog, total: this.counts.dropped },
        'risk alerts dropped: the alert buffer is full (the database is not keeping up or is down)',
      );
      this.droppedSinceLog = 0;
    }
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    this.flushing = (async () => {
      try {
        await this.journal.record(coalesceAlerts(batch, this.journal.windowMs));
        this.counts.written += batch.length;
      } catch (error) {
        // keep them for the next flush, oldest first, within the bound
        const room = Math.max(0, (this.options.maxBuffered ?? 50_000) - this.buffer.length);
        const kept = batch.slice(Math.max(0, batch.length - room));
        this.counts.dropped += batch.length - kept.length;
        this.buffer = [...kept, ...this.buffer];
        this.options.log?.warn({ err: error, buffered: this.buffer.length }, 'could not write risk alerts; retrying with the next flush');
      } finally {
        this.flushing = undefined;
      }
    })();
    await this.flushing;
  }

  /** Stops the timer and writes what is left (one attempt). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}
