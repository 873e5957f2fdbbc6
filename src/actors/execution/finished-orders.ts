/**
 * The execution actor's finished orders: the most recent {@link KEEP_FINISHED_ORDERS} (a Kite
 * account's day), kept for queries and duplicate detection, as columns in chunks of
 * {@link FINISHED_CHUNK_ROWS} rows rather than as one object graph per order.
 *
 * Why columns: kept as objects, every finished order outlived a dozen young-generation collections
 * and was copied into the old generation with its strings and number boxes, about 600 bytes and
 * six objects an order; that promotion was most of the garbage collection the actor tree paid
 * beyond the bare loop (`bench/run.ts`, docs/performance.md). A chunk is a couple of dozen arrays
 * for 512 orders. A full chunk is never changed again (a rare late update of one of its orders
 * replaces the chunk with a copy), so a snapshot shares the full chunks and copies only the last.
 */
import { buildOrder, type Order, type OrderStatus, type OrderType, type Product, type Side, type Validity } from '../../model/index.js';
import type { OrderExplanation } from '../../model/index.js';

/** How many finished orders the actor keeps (at least; up to a chunk more): a Kite account's orders in a day. */
export const KEEP_FINISHED_ORDERS = 5_000;

/** Rows of a chunk. */
export const FINISHED_CHUNK_ROWS = 512;

/** Distinct reasons and status messages remembered for sharing. */
const INTERNED_TEXTS = 1_024;

/** One chunk of finished orders, a column per `Order` field; an absent optional field is `null`. JSON as it stands (a snapshot holds it). */
export interface FinishedChunk {
  readonly clientOrderId: string[];
  readonly intentId: string[];
  readonly strategyId: string[];
  readonly portfolioId: string[];
  readonly symbol: string[];
  readonly side: Side[];
  readonly orderType: OrderType[];
  readonly product: Product[];
  readonly validity: Validity[];
  readonly quantity: number[];
  readonly status: OrderStatus[];
  readonly filledQuantity: number[];
  readonly cancelledQuantity: number[];
  readonly filledValuePaise: number[];
  readonly createdAtMs: number[];
  readonly updatedAtMs: number[];
  readonly limitPricePaise: (number | null)[];
  readonly triggerPricePaise: (number | null)[];
  readonly reason: (string | null)[];
  readonly explanation: (OrderExplanation | null)[];
  readonly brokerOrderId: (string | null)[];
  readonly statusMessage: (string | null)[];
}

/** The columns of a chunk, in `Order`'s field order. */
export const FINISHED_CHUNK_COLUMNS = [
  'clientOrderId',
  'intentId',
  'strategyId',
  'portfolioId',
  'symbol',
  'side',
  'orderType',
  'product',
  'validity',
  'quantity',
  'status',
  'filledQuantity',
  'cancelledQuantity',
  'filledValuePaise',
  'createdAtMs',
  'updatedAtMs',
  'limitPricePaise',
  'triggerPricePaise',
  'reason',
  'explanation',
  'brokerOrderId',
  'statusMessage',
] as const satisfies readonly (keyof FinishedChunk)[];

// the list names every column (a column left out is a compile error here)
const everyColumn: [Exclude<keyof FinishedChunk, (typeof FINISHED_CHUNK_COLUMNS)[number]>] extends [never] ? true : never = true;
void everyColumn;

/** A chunk with `column(name)` as each column (the list above names them all, so the object is a whole chunk). */
const chunkOf = (column: (name: keyof FinishedChunk) => unknown[]): FinishedChunk =>
  Object.fromEntries(FINISHED_CHUNK_COLUMNS.map((name) => [name, column(name)])) as unknown as FinishedChunk;

/** A chunk with room for all its rows (columns grown one row at a time would be reallocated about seven times each). */
const emptyChunk = (): FinishedChunk => chunkOf(() => new Array<unknown>(FINISHED_CHUNK_ROWS));

/** A copy of the first `rows` rows of `chunk` (each column copied; the values are immutable). */
const copyChunk = (chunk: FinishedChunk, rows: number): FinishedChunk => chunkOf((name) => chunk[name].slice(0, rows));

/** Writes `order` into row `row` of `chunk` (`row` = the chunk's length appends); free text goes through `intern`. */
function writeRow(chunk: FinishedChunk, row: number, order: Order, intern: (text: string | undefined) => string | null): void {
  chunk.clientOrderId[row] = order.clientOrderId;
  chunk.intentId[row] = order.intentId;
  chunk.strategyId[row] = order.strategyId;
  chunk.portfolioId[row] = order.portfolioId;
  chunk.symbol[row] = order.symbol;
  chunk.side[row] = order.side;
  chunk.orderType[row] = order.orderType;
  chunk.product[row] = order.product;
  chunk.validity[row] = order.validity;
  chunk.quantity[row] = order.quantity;
  chunk.status[row] = order.status;
  chunk.filledQuantity[row] = order.filledQuantity;
  chunk.cancelledQuantity[row] = order.cancelledQuantity;
  chunk.filledValuePaise[row] = order.filledValuePaise;
  chunk.createdAtMs[row] = order.createdAtMs;
  chunk.updatedAtMs[row] = order.updatedAtMs;
  chunk.limitPricePaise[row] = order.limitPricePaise ?? null;
  chunk.triggerPricePaise[row] = order.triggerPricePaise ?? null;
  chunk.reason[row] = intern(order.reason);
  chunk.explanation[row] = order.explanation ?? null;
  chunk.brokerOrderId[row] = order.brokerOrderId ?? null;
  chunk.statusMessage[row] = intern(order.statusMessage);
}

/** The order in row `row` of `chunk`, made as every order is ({@link buildOrder}: same fields, same order). */
export function readRow(chunk: FinishedChunk, row: number): Order {
  return buildOrder(
    {
      intentId: chunk.intentId[row]!,
      strategyId: chunk.strategyId[row]!,
      portfolioId: chunk.portfolioId[row]!,
      symbol: chunk.symbol[row]!,
      side: chunk.side[row]!,
      orderType: chunk.orderType[row]!,
      product: chunk.product[row]!,
      validity: chunk.validity[row]!,
      quantity: chunk.quantity[row]!,
      limitPricePaise: chunk.limitPricePaise[row] ?? undefined,
      triggerPricePaise: chunk.triggerPricePaise[row] ?? undefined,
      reason: chunk.reason[row] ?? undefined,
      explanation: chunk.explanation[row] ?? undefined,
    },
    {
      clientOrderId: chunk.clientOrderId[row]!,
      status: chunk.status[row]!,
      filledQuantity: chunk.filledQuantity[row]!,
      cancelledQuantity: chunk.cancelledQuantity[row]!,
      filledValuePaise: chunk.filledValuePaise[row]!,
      createdAtMs: chunk.createdAtMs[row]!,
      updatedAtMs: chunk.updatedAtMs[row]!,
      brokerOrderId: chunk.brokerOrderId[row] ?? undefined,
      statusMessage: chunk.statusMessage[row] ?? undefined,
    },
  );
}

/** The rows of a chunk read from JSON (every column has this many; a decoder checks they agree). */
export const chunkRows = (chunk: FinishedChunk): number => chunk.clientOrderId.length;

/**
 * Finished orders, oldest first: at least the last `keep` of them (up to a chunk more). Lookup by
 * client order id; an order is made afresh on each read.
 */
export class FinishedOrders {
  /** Oldest first; all full but the last, which is being filled (never shared while it is). */
  private readonly chunks: FinishedChunk[] = [];
  /** Rows used in the last chunk. */
  private lastRows = 0;
  /** Absolute row of the first row of `chunks[0]` (rows are numbered from the first order ever added). */
  private firstRow = 0;
  private rowCount = 0;
  private readonly rowOf = new Map<string, number>();
  /**
   * One copy of each recent reason and status message: strategies repeat a few of them ("EMA12
   * crossed above EMA26"), each order's own copy (often a chain of concatenations) would otherwise
   * be kept with it. Cleared when full, so unique texts cannot grow it.
   */
  private readonly texts = new Map<string, string>();
  private readonly intern = (text: string | undefined): string | null => {
    if (text === undefined) return null;
    const known = this.texts.get(text);
    if (known !== undefined) return known;
    if (this.texts.size >= INTERNED_TEXTS) this.texts.clear();
    this.texts.set(text, text);
    return text;
  };

  constructor(private readonly keep: number = KEEP_FINISHED_ORDERS) {}

  /** Orders kept. */
  get size(): number {
    return this.rowCount;
  }

  has(clientOrderId: string): boolean {
    return this.rowOf.has(clientOrderId);
  }

  get(clientOrderId: string): Order | undefined {
    const at = this.rowOf.get(clientOrderId);
    if (at === undefined) return undefined;
    const [chunk, row] = this.locate(at);
    return readRow(chunk, row);
  }

  /**
   * Keeps `order` (a finished one), or replaces the kept version of it. The oldest orders are
   * forgotten (a whole chunk at a time) to stay within `keep`: `forgotten` hears each one's ids.
   */
  add(order: Order, forgotten?: (clientOrderId: string, brokerOrderId: string | undefined) => void): void {
    const at = this.rowOf.get(order.clientOrderId);
    if (at !== undefined) {
      this.replace(at, order);
      return;
    }
    let last = this.chunks[this.chunks.length - 1];
    if (last === undefined || this.lastRows === FINISHED_CHUNK_ROWS) {
      last = emptyChunk();
      this.chunks.push(last);
      this.lastRows = 0;
    }
    this.rowOf.set(order.clientOrderId, this.firstRow + this.rowCount);
    writeRow(last, this.lastRows, order, this.intern);
    this.lastRows += 1;
    this.rowCount += 1;
    this.trim(forgotten);
  }

  /** Every order kept, oldest first. */
  *values(): IterableIterator<Order> {
    for (const [index, chunk] of this.chunks.entries()) for (let row = 0; row < this.rowsOf(index); row += 1) yield readRow(chunk, row);
  }

  /** Client order ids kept, oldest first. */
  ids(): string[] {
    return this.chunks.flatMap((chunk, index) => chunk.clientOrderId.slice(0, this.rowsOf(index)));
  }

  /** The chunks as a snapshot holds them: the full ones shared (never changed again), the last one copied. */
  toJson(): FinishedChunk[] {
    return this.chunks.map((chunk, index) => (this.isFull(index) ? chunk : copyChunk(chunk, this.rowsOf(index))));
  }

  /** The archive of `orders` (finished, oldest first), as `add` would have made it. */
  static of(orders: Iterable<Order>, keep: number = KEEP_FINISHED_ORDERS): FinishedOrders {
    const archive = new FinishedOrders(keep);
    for (const order of orders) archive.add(order);
    return archive;
  }

  /** Rows of chunk `index`: all but the last are full. */
  private rowsOf(index: number): number {
    return index === this.chunks.length - 1 ? this.lastRows : FINISHED_CHUNK_ROWS;
  }

  /** A full chunk never changes again: it may be in a snapshot. */
  private isFull(index: number): boolean {
    return this.rowsOf(index) === FINISHED_CHUNK_ROWS;
  }

  private locate(at: number): [FinishedChunk, number] {
    // every chunk but the last is full
    const offset = at - this.firstRow;
    return [this.chunks[Math.floor(offset / FINISHED_CHUNK_ROWS)]!, offset % FINISHED_CHUNK_ROWS];
  }

  /** A late update of a kept order: a full chunk may be in a snapshot, so it is copied first. */
  private replace(at: number, order: Order): void {
    const offset = at - this.firstRow;
    const index = Math.floor(offset / FINISHED_CHUNK_ROWS);
    const chunk = this.chunks[index]!;
    const writable = this.isFull(index) ? copyChunk(chunk, FINISHED_CHUNK_ROWS) : chunk;
    writeRow(writable, offset % FINISHED_CHUNK_ROWS, order, this.intern);
    this.chunks[index] = writable;
  }

  /** Drops the oldest chunk while the rest still hold `keep` orders. */
  private trim(forgotten: ((clientOrderId: string, brokerOrderId: string | undefined) => void) | undefined): void {
    for (let oldest = this.chunks[0]; oldest !== undefined && this.rowCount - this.rowsOf(0) >= this.keep; oldest = this.chunks[0]) {
      const rows = this.rowsOf(0);
      for (let row = 0; row < rows; row += 1) {
        const id = oldest.clientOrderId[row]!;
        this.rowOf.delete(id);
        forgotten?.(id, oldest.brokerOrderId[row] ?? undefined);
      }
      this.chunks.shift();
      this.firstRow += rows;
      this.rowCount -= rows;
      if (this.chunks.length === 0) this.lastRows = 0;
    }
  }
}
