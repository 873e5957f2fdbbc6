/**
 * Batching inlet: producers `offer` items; the target actor receives everything that arrived since
 * it last ran as ONE message. Coalesced `tell`s share a nact turn too, but still run `receive` once
 * per message and never shed; market data comes in through an inlet (bounded, conflating), not one
 * `tell` per tick.
 *
 * At most one envelope (`BatchSignal`) per inlet is queued at a time. The buffer is swapped out
 * when the actor starts processing that envelope, so later offers start a new buffer and envelope.
 */

import type { AnyCell } from './cell.js';
import { type BatchSource, BatchSignal, type CellHost, NO_BATCH } from './internal.js';
import type { DeadLetterReason, Inlet, InletOptions } from './types.js';

/** Default bound of an inlet's pending buffer. */
export const DEFAULT_MAX_PENDING = 100_000;

/** The `Inlet` implementation (returned by `system.inlet`). */
export class InletImpl<T, M> implements Inlet<T>, BatchSource {
  /**
   * The pending items are `items[head, tail)`. The array is kept between batches (a batch is
   * an exact-size copy), so offering to an idle inlet does not allocate a fresh, oversized
   * backing store every time; slots are cleared when a batch is taken.
   */
  private items: (T | undefined)[] = [];
  private head = 0;
  private tail = 0;
  /** Conflating inlets: key → position of its pending item (entries from earlier batches are stale, see `offer`). */
  private readonly index: Map<string, number> | undefined;
  private readonly keyOf: ((item: T) => string) | undefined;
  private readonly maxPending: number;
  private readonly signal: BatchSignal;
  private target: AnyCell | undefined;
  private scheduled = false;
  private shedTotal = 0;
  private shedSinceBatch = 0;

  constructor(
    private readonly host: CellHost,
    private readonly path: string,
    private readonly resolveCell: () => AnyCell | DeadLetterReason,
    private readonly wrap: (items: readonly T[]) => M,
    readonly name: string,
    options: InletOptions<T> | undefined,
  ) {
    this.maxPending = Math.max(1, options?.maxPending ?? DEFAULT_MAX_PENDING);
    const overflow = options?.overflow;
    this.keyOf = overflow?.kind === 'conflate' ? overflow.key : undefined;
    this.index = this.keyOf === undefined ? undefined : new Map();
    this.signal = new BatchSignal(this);
  }

  /** Items waiting for the next batch. */
  get pending(): number {
    return this.tail - this.head;
  }

  /** Items dropped or conflated away so far. */
  get shed(): number {
    return this.shedTotal;
  }

  offer(item: T): void {
    if (this.host.shuttingDown) {
      this.host.deadLetter(this.path, 'shutting-down', item, 1);
      return;
    }
    let cell = this.target;
    if (cell === undefined || cell.terminated) {
      const resolved = this.resolveCell();
      if (typeof resolved === 'string') {
        this.host.deadLetter(this.path, resolved, item, 1);
        return;
      }
      cell = resolved;
      this.target = cell;
      this.scheduled = false;
      cell.attachInlet(this);
    }
    if (!cell.accepting) {
      this.host.deadLetter(this.path, 'stopping', item, 1);
      return;
    }
    const keyOf = this.keyOf;
    const index = this.index;
    if (keyOf !== undefined && index !== undefined) {
      const key = keyOf(item);
      const at = index.get(key);
      // the index outlives batches (no rebuilding it per batch): an entry counts only if it points
      // into the pending range at an item of this key
      if (at !== undefined && at >= this.head && at < this.tail && keyOf(this.items[at] as T) === key) {
        this.items[at] = item;
        this.countShed(cell);
      } else {
        if (this.pending >= this.maxPending) this.dropOldest(cell);
        index.set(key, this.tail);
        this.append(item);
      }
    } else {
      if (this.pending >= this.maxPending) this.dropOldest(cell);
      this.append(item);
    }
    if (!this.scheduled) {
      this.scheduled = true;
      cell.enqueueSignal(this.signal);
    }
  }

  /** Called by the target actor when it processes the envelope. */
  takeBatch(): unknown {
    this.scheduled = false;
    if (this.pending === 0) return NO_BATCH;
    const batch = this.items.slice(this.head, this.tail) as T[];
    this.clear();
    if (this.shedSinceBatch > 0) {
      const count = this.shedSinceBatch;
      this.shedSinceBatch = 0;
      this.host.emit({ type: 'Shed', path: this.path, inlet: this.name, count, totalShed: this.shedTotal, atMs: this.host.clock.nowMs() });
    }
    return this.wrap(batch);
  }

  /** The target terminated: drop the pending items (the cell reports them as dead letters). */
  detach(cell: object): number {
    if (cell !== this.target) return 0;
    const dropped = this.pending;
    this.clear();
    this.scheduled = false;
    this.target = undefined;
    return dropped;
  }

  private append(item: T): void {
    if (this.tail === this.items.length) this.items.push(item);
    else this.items[this.tail] = item;
    this.tail += 1;
  }

  /** Empties the buffer, keeping its array (slots cleared so items can be collected). */
  private clear(): void {
    const items = this.items;
    if (this.tail > 4096)
      this.items = []; // a burst: let the big array go
    else for (let i = this.head; i < this.tail; i += 1) items[i] = undefined;
    this.head = 0;
    this.tail = 0;
    if (this.index !== undefined && this.index.size > 4096) this.index.clear(); // stale entries are harmless, but bounded
  }

  private dropOldest(cell: AnyCell): void {
    const oldest = this.items[this.head] as T;
    this.items[this.head] = undefined;
    this.head += 1;
    if (this.keyOf !== undefined) this.index?.delete(this.keyOf(oldest));
    this.countShed(cell);
    if (this.head >= this.maxPending) this.compact();
  }

  private compact(): void {
    this.items = this.items.slice(this.head, this.tail);
    this.tail -= this.head;
    this.head = 0;
    const keyOf = this.keyOf;
    const index = this.index;
    if (keyOf === undefined || index === undefined) return;
    index.clear();
    this.items.forEach((item, at) => index.set(keyOf(item as T), at));
  }

  private countShed(cell: AnyCell): void {
    this.shedTotal += 1;
    this.shedSinceBatch += 1;
    cell.shed += 1;
  }
}
