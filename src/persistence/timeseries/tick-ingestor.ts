/**
 * Tick ingest behind a bounded buffer. `offer` never blocks and never awaits: it appends to the
 * buffer, or — when `capacity` ticks are already waiting or being written — sheds the tick and
 * counts it. Batches are written in the background with `COPY … FROM STDIN (FORMAT binary)` on
 * PostgreSQL and a multi-row `INSERT … SELECT unnest(…)` on PGlite, into day partitions created on
 * demand (known days are remembered by day number: no date formatting per tick).
 *
 * Where the time goes (bench/ingest.bench.ts, CPU per 1000 ticks): the server's row-by-row btree
 * on the live partition was most of it (gone: closed days are indexed by the retention job, see
 * `indexClosedTickPartitions`); on this side, encoding (now one `DataView` pass per batch, about
 * 0.16 µs a tick) and the partition lookup per tick (now an integer compare).
 *
 * Only ticks are ever shed here; orders and fills go through the journal, which never sheds.
 * A batch that fails to write is counted in `failed` and reported to `onError`; it is not retried.
 */
import type { Tick } from '../../model/market.js';
import { PostgresDatabase, type Database } from '../database.js';
import { insertColumns, timestampColumn } from '../columns.js';
import { PartitionCache, parsePartitionName } from './partitions.js';

/** Options of {@link TickIngestor}. */
export interface TickIngestorOptions {
  /** Most ticks waiting or being written; beyond it `offer` sheds (config `persistence.tickBufferCapacity`). */
  readonly capacity: number;
  /** Ticks per write (config `persistence.tickBatchSize`). */
  readonly batchSize: number;
  /** A partial batch is written after this long (default 200 ms). 0 disables the timer (call `flush`). */
  readonly flushIntervalMs?: number;
  /** Batches written at the same time (default 2 on PostgreSQL: one formats while one copies; PGlite has one connection). */
  readonly concurrency?: number;
  /**
   * Commit tick batches without waiting for the WAL flush (PostgreSQL `synchronous_commit = off`
   * for these transactions only; default true: ticks may be shed anyway, so a crash losing the
   * last ~0.6 s of them is acceptable; the journal always commits synchronously).
   */
  readonly asynchronousCommit?: boolean;
  /** COPY format on PostgreSQL: `binary` (default: no timestamp or number formatting on either side) or `text`. */
  readonly format?: 'binary' | 'text';
  /** Create day partitions on demand (default true; false on TimescaleDB hypertables). */
  readonly partitions?: boolean;
  /** Called when a batch fails; its ticks are lost (counted in `failed`). */
  readonly onError?: (error: unknown, lostTicks: number) => void;
}

/** Counters of a {@link TickIngestor}. */
export interface IngestStats {
  /** Ticks offered. */
  readonly offered: number;
  /** Ticks refused because the buffer was full. */
  readonly shed: number;
  /** Ticks committed to the database. */
  readonly written: number;
  /** Ticks lost in failed batches. */
  readonly failed: number;
  /** Batches committed. */
  readonly batches: number;
  /** Ticks accepted and not yet committed or failed. */
  readonly pending: number;
}

const NULL = '\\N';

/** One tick as a line of COPY text format. */
function copyLine(tick: Tick): string {
  return `${escapeCopy(tick.symbol)}\t${tick.token}\t${new Date(tick.exchangeTimeMs).toISOString()}\t${tick.ltpPaise}\t${tick.lastQuantity}\t${tick.volume}\t${
    tick.bidPaise ?? NULL
  }\t${tick.askPaise ?? NULL}\t${tick.bidQuantity ?? NULL}\t${tick.askQuantity ?? NULL}\n`;
}

const NEEDS_ESCAPE = /[\\\t\n\r]/;
function escapeCopy(text: string): string {
  return NEEDS_ESCAPE.test(text)
    ? text.replace(/[\\\t\n\r]/g, (character) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[character] ?? character)
    : text;
}

/** The `ticks` columns a batch writes, in the order of the COPY rows ({@link copyLine}, {@link encodeTicksBinary}) and of {@link insertTicks}. */
const TICK_COLUMNS = insertColumns<Tick>({
  symbol: ['text', (tick) => tick.symbol],
  token: ['int', (tick) => tick.token],
  exchange_time: timestampColumn((tick) => tick.exchangeTimeMs),
  ltp_paise: ['bigint', (tick) => tick.ltpPaise],
  last_quantity: ['int', (tick) => tick.lastQuantity],
  volume: ['bigint', (tick) => tick.volume],
  bid_paise: ['bigint', (tick) => tick.bidPaise ?? null],
  ask_paise: ['bigint', (tick) => tick.askPaise ?? null],
  bid_quantity: ['int', (tick) => tick.bidQuantity ?? null],
  ask_quantity: ['int', (tick) => tick.askQuantity ?? null],
});
const COPY_SQL = `COPY ticks ${TICK_COLUMNS.list} FROM STDIN`;
const COPY_BINARY_SQL = `COPY ticks ${TICK_COLUMNS.list} FROM STDIN (FORMAT binary)`;
const ROWS_PER_CHUNK = 2000;
const DAY_MS = 86_400_000;

/** Writes ticks to the `ticks` table in batches (see the module comment). */
export class TickIngestor {
  private current: Tick[] = [];
  private readonly ready: Tick[][] = [];
  private inFlight = 0;
  private pendingCount = 0;
  private counters = { offered: 0, shed: 0, written: 0, failed: 0, batches: 0 };
  private readonly partitions: PartitionCache;
  private readonly concurrency: number;
  private timer: NodeJS.Timeout | undefined;
  private scheduled = false;
  private forcing = 0;
  private drainWaiters: Array<() => void> = [];
  private roomWaiters: Array<() => void> = [];
  /** UTC day numbers (ms / 86 400 000) whose partition is known to exist. */
  private readonly knownDays = new Set<number>();

  constructor(
    private readonly db: Database,
    private readonly options: TickIngestorOptions,
  ) {
    if (!Number.isInteger(options.capacity) || options.capacity < 1) throw new RangeError('capacity must be a positive integer');
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) throw new RangeError('batchSize must be a positive integer');
    this.partitions = new PartitionCache(db, options.partitions ?? true);
    this.concurrency = db.kind === 'postgres' ? Math.max(1, options.concurrency ?? 2) : 1;
    const intervalMs = options.flushIntervalMs ?? 200;
    if (intervalMs > 0) {
      this.timer = setInterval(() => this.pump(true), intervalMs);
      this.timer.unref();
    }
  }

  /** Takes a tick in, or sheds it when the buffer is full. Never blocks. Returns false when shed. */
  offer(tick: Tick): boolean {
    this.counters.offered += 1;
    if (this.pendingCount >= this.options.capacity) {
      this.counters.shed += 1;
      return false;
    }
    this.pendingCount += 1;
    this.current.push(tick);
    if (this.current.length >= this.options.batchSize) {
      this.ready.push(this.current);
      this.current = [];
      this.schedule();
    }
    return true;
  }

  /** Forgets partitions the retention job dropped (a later tick for that day creates it again). */
  forgetPartitions(names: readonly string[]): void {
    for (const name of names) {
      this.partitions.forget(name);
      const range = parsePartitionName('ticks', name);
      if (range !== undefined) this.knownDays.delete(Math.floor(range.fromMs / DAY_MS));
    }
  }

  /**
   * Resolves once `count` more ticks would be accepted (at once when they would be now): for a
   * producer that prefers waiting to shedding, e.g. an import or a benchmark. Live market data
   * does not wait: it offers and lets the buffer shed.
   */
  async whenRoom(count: number): Promise<void> {
    const needed = Math.min(count, this.options.capacity);
    while (this.options.capacity - this.pendingCount < needed) await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
  }

  /** Counters so far. */
  stats(): IngestStats {
    return { ...this.counters, pending: this.pendingCount };
  }

  /** Writes everything accepted so far; resolves when it is committed (or failed and counted). */
  async flush(): Promise<void> {
    if (this.pendingCount === 0) return;
    this.forcing += 1;
    try {
      const drained = new Promise<void>((resolve) => this.drainWaiters.push(resolve));
      this.pump(true);
      await drained;
    } finally {
      this.forcing -= 1;
    }
  }

  /** Stops the timer and flushes. The ingestor may still be offered ticks, but only `flush` writes them. */
  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump(false);
    });
  }

  private pump(force: boolean): void {
    while (this.inFlight < this.concurrency) {
      let batch = this.ready.shift();
      if (batch === undefined && (force || this.forcing > 0) && this.current.length > 0) {
        batch = this.current;
        this.current = [];
      }
      if (batch === undefined) break;
      this.inFlight += 1;
      void this.write(batch).then(() => {
        this.inFlight -= 1;
        this.pendingCount -= batch.length;
        if (this.roomWaiters.length > 0) {
          const waiters = this.roomWaiters;
          this.roomWaiters = [];
          for (const resolve of waiters) resolve();
        }
        if (this.pendingCount === 0) {
          const waiters = this.drainWaiters;
          this.drainWaiters = [];
          for (const resolve of waiters) resolve();
        }
        this.pump(this.forcing > 0);
      });
    }
  }

  /** Writes one batch; never rejects (failures are counted and reported). */
  private async write(batch: readonly Tick[]): Promise<void> {
    try {
      await this.ensurePartitions(batch);
      if (this.db instanceof PostgresDatabase) {
        const binary = this.options.format !== 'text';
        await this.db.copyIn(binary ? COPY_BINARY_SQL : COPY_SQL, binary ? [encodeTicksBinary(batch)] : copyChunks(batch), {
          synchronousCommit: this.options.asynchronousCommit === false,
        });
      } else await insertTicks(this.db, batch);
      this.counters.written += batch.length;
      this.counters.batches += 1;
    } catch (error) {
      this.counters.failed += batch.length;
      this.options.onError?.(error, batch.length);
    }
  }

  /** Creates the day partitions the batch needs (asks the database once per day: integer day numbers, no dates or names on the hot path). */
  private async ensurePartitions(batch: readonly Tick[]): Promise<void> {
    let lastDay = Number.NaN;
    for (let index = 0; index < batch.length; index += 1) {
      const day = Math.floor(batch[index]!.exchangeTimeMs / DAY_MS);
      if (day === lastDay) continue;
      lastDay = day;
      if (this.knownDays.has(day)) continue;
      await this.partitions.ensure('ticks', day * DAY_MS);
      this.knownDays.add(day);
    }
  }
}

function* copyChunks(batch: readonly Tick[]): Generator<string> {
  for (let start = 0; start < batch.length; start += ROWS_PER_CHUNK) {
    let chunk = '';
    const end = Math.min(batch.length, start + ROWS_PER_CHUNK);
    for (let index = start; index < end; index += 1) chunk += copyLine(batch[index]!);
    yield chunk;
  }
}

// COPY binary: header, tuples (int16 field count, then int32 length + bytes per field, -1 = NULL), trailer -1
const BINARY_HEADER = Buffer.from([0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]);
const PG_EPOCH_MS = 946_684_800_000;
const TWO_32 = 4_294_967_296;
const symbolBytes = new Map<string, Buffer>();

function symbolBuffer(symbol: string): Buffer {
  let bytes = symbolBytes.get(symbol);
  if (bytes === undefined) {
    bytes = Buffer.from(symbol, 'utf8');
    if (symbolBytes.size < 100_000) symbolBytes.set(symbol, bytes);
  }
  return bytes;
}

/** Bytes of one row besides the symbol: field count, then length + value of each of the 10 fields (NULLs are shorter). */
const ROW_FIXED_BYTES = 2 + (4 + 4) + (4 + 8) + (4 + 8) + (4 + 4) + (4 + 8) + (4 + 8) + (4 + 8) + (4 + 4) + (4 + 4) + 4;

/**
 * A batch of ticks as one COPY binary stream (header, rows, trailer). Written through a
 * `DataView` (big-endian) with the lengths inlined: about five times cheaper than `Buffer`
 * write calls, and this runs on the trading thread.
 */
export function encodeTicksBinary(batch: readonly Tick[]): Buffer {
  let size = BINARY_HEADER.length + 2;
  for (let index = 0; index < batch.length; index += 1) size += ROW_FIXED_BYTES + symbolBuffer(batch[index]!.symbol).length;
  const buffer = Buffer.allocUnsafe(size);
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  let at = BINARY_HEADER.copy(buffer, 0);
  for (let index = 0; index < batch.length; index += 1) {
    const tick = batch[index]!;
    view.setInt16(at, 10);
    const symbol = symbolBuffer(tick.symbol);
    view.setInt32(at + 2, symbol.length);
    at += 6;
    for (let byte = 0; byte < symbol.length; byte += 1) buffer[at + byte] = symbol[byte]!;
    at += symbol.length;
    at = int4(view, at, tick.token);
    at = int8(view, at, (tick.exchangeTimeMs - PG_EPOCH_MS) * 1000); // timestamptz: µs since 2000-01-01 UTC
    at = int8(view, at, tick.ltpPaise);
    at = int4(view, at, tick.lastQuantity);
    at = int8(view, at, tick.volume);
    at = tick.bidPaise === undefined ? nullField(view, at) : int8(view, at, tick.bidPaise);
    at = tick.askPaise === undefined ? nullField(view, at) : int8(view, at, tick.askPaise);
    at = tick.bidQuantity === undefined ? nullField(view, at) : int4(view, at, tick.bidQuantity);
    at = tick.askQuantity === undefined ? nullField(view, at) : int4(view, at, tick.askQuantity);
  }
  view.setInt16(at, -1);
  at += 2;
  return at === size ? buffer : buffer.subarray(0, at);
}

function nullField(view: DataView, at: number): number {
  view.setInt32(at, -1);
  return at + 4;
}

function int4(view: DataView, at: number, value: number): number {
  view.setInt32(at, 4);
  view.setInt32(at + 4, value);
  return at + 8;
}

/** An int8 field from a safe integer (exact: high and low 32-bit words). */
function int8(view: DataView, at: number, value: number): number {
  view.setInt32(at, 8);
  const high = Math.floor(value / TWO_32);
  view.setInt32(at + 4, high);
  view.setUint32(at + 8, value - high * TWO_32);
  return at + 12;
}

/** Multi-row insert through `unnest` (PGlite, or any `Database` without COPY). */
export async function insertTicks(db: Database, batch: readonly Tick[]): Promise<void> {
  await db.query(`INSERT INTO ticks ${TICK_COLUMNS.list} SELECT * FROM ${TICK_COLUMNS.unnest}`, TICK_COLUMNS.params(batch));
}
