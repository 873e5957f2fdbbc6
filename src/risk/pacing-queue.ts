/**
 * The queue of intents refused only for pacing (the orders-per-second limits). Such an
 * intent passed every other check; it waits here and is offered again when the windows
 * allow: exits (intents that reduce or close a position) first, then entries, each group in
 * arrival order. An entry that waited longer than `maxEntryWaitMs` is stale and dropped by
 * {@link PacingQueue.expire} (the owner reports it); an exit is never dropped. Pure and
 * deterministic: no clock of its own, the owner passes the time.
 */
import type { OrderIntent } from '../model/index.js';

/** `RiskAlert.code` and `IntentRejected.code` of a queued entry dropped as stale. */
export const PACING_EXPIRED = 'pacing-expired';

/** Default longest wait of a queued entry, market time: 5 minutes (a 5-minute bar's decision is still current). */
export const DEFAULT_MAX_ENTRY_WAIT_MS = 5 * 60_000;

/** One queued intent. */
export interface PacedIntent {
  readonly intent: OrderIntent;
  readonly clientOrderId: string;
  /** It reduces or closes the position it trades (it goes before every entry). */
  readonly exit: boolean;
  readonly queuedAtMs: number;
}

/** What the owner did with an intent the queue offered. */
export type PacingOutcome =
  /** Sent on, or refused for another reason: it leaves the queue. */
  | 'done'
  /** Its strategy's window is still full: it stays, later intents are still offered. */
  | 'held'
  /** The overall window is full: it stays and nothing more is offered now. */
  | 'stop';

/** JSON form for the risk actor's snapshot. */
export type EncodedPacingQueue = readonly PacedIntent[];

export class PacingQueue {
  private exits: PacedIntent[] = [];
  private entries: PacedIntent[] = [];

  constructor(readonly maxEntryWaitMs: number = DEFAULT_MAX_ENTRY_WAIT_MS) {
    if (!(maxEntryWaitMs > 0)) throw new RangeError(`maxEntryWaitMs must be positive, got ${maxEntryWaitMs}`);
  }

  /** Intents waiting. */
  get size(): number {
    return this.exits.length + this.entries.length;
  }

  /** Queues an intent behind those of its kind. */
  push(paced: PacedIntent): void {
    (paced.exit ? this.exits : this.entries).push(paced);
  }

  /** Removes and returns the entries that waited longer than `maxEntryWaitMs` at `nowMs`, oldest first. */
  expire(nowMs: number): PacedIntent[] {
    if (this.entries.length === 0) return [];
    const kept: PacedIntent[] = [];
    const stale: PacedIntent[] = [];
    for (const paced of this.entries) (nowMs - paced.queuedAtMs > this.maxEntryWaitMs ? stale : kept).push(paced);
    if (stale.length > 0) this.entries = kept;
    return stale;
  }

  /**
   * Offers the queued intents to `attempt`, exits first, then entries, each in arrival order,
   * until `attempt` says `stop`. Returns how many left the queue.
   */
  release(attempt: (paced: PacedIntent) => PacingOutcome): number {
    let done = 0;
    for (const group of ['exits', 'entries'] as const) {
      const list = this[group];
      const kept: PacedIntent[] = [];
      let stopped = false;
      for (const paced of list) {
        if (stopped) {
          kept.push(paced);
          continue;
        }
        const outcome = attempt(paced);
        if (outcome === 'done') done += 1;
        else {
          kept.push(paced);
          if (outcome === 'stop') stopped = true;
        }
      }
      this[group] = kept;
      if (stopped) break;
    }
    return done;
  }

  /** Every queued intent in the order it would be offered. */
  list(): readonly PacedIntent[] {
    return [...this.exits, ...this.entries];
  }

  /** JSON for snapshots (the order of {@link list}). */
  encode(): EncodedPacingQueue {
    return this.list().map((paced) => ({ ...paced }));
  }

  /** Restores what {@link encode} wrote. */
  restore(encoded: EncodedPacingQueue): void {
    this.exits = [];
    this.entries = [];
    for (const paced of encoded) this.push({ ...paced });
  }
}
