/**
 * Range partitions of the time-series tables: `ticks` per UTC day (`ticks_p20240102`), `bars_1m`
 * per month (`bars_1m_p202401`), `bars_1h` per year (`bars_1h_p2024`). The NSE session
 * (09:15–15:30 IST = 03:45–10:00 UTC) always falls inside one UTC day.
 */
import type { Queryable } from '../database.js';

/** The partitioned time-series tables. */
export type SeriesTable = 'ticks' | 'bars_1m' | 'bars_1h';

/** How a table is cut. */
export type PartitionGrain = 'day' | 'month' | 'year';

/** Grain of each table. */
export const PARTITION_GRAIN: Readonly<Record<SeriesTable, PartitionGrain>> = { ticks: 'day', bars_1m: 'month', bars_1h: 'year' };

/** One partition: `[fromMs, toMs)`. */
export interface PartitionRange {
  readonly table: SeriesTable;
  readonly name: string;
  readonly fromMs: number;
  readonly toMs: number;
}

const DAY_MS = 86_400_000;

/** The partition of `table` that holds instant `atMs`. */
export function partitionFor(table: SeriesTable, atMs: number): PartitionRange {
  const date = new Date(atMs);
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth();
  switch (PARTITION_GRAIN[table]) {
    case 'day': {
      const fromMs = Math.floor(atMs / DAY_MS) * DAY_MS;
      const key = new Date(fromMs).toISOString().slice(0, 10).replaceAll('-', '');
      return { table, name: `${table}_p${key}`, fromMs, toMs: fromMs + DAY_MS };
    }
    case 'month':
      return { table, name: `${table}_p${year}${String(month + 1).padStart(2, '0')}`, fromMs: Date.UTC(year, month, 1), toMs: Date.UTC(year, month + 1, 1) };
    case 'year':
      return { table, name: `${table}_p${year}`, fromMs: Date.UTC(year, 0, 1), toMs: Date.UTC(year + 1, 0, 1) };
  }
}

/** The range of a partition from its name (undefined for names this module did not make). */
export function parsePartitionName(table: SeriesTable, name: string): PartitionRange | undefined {
  const match = new RegExp(`^${table}_p(\\d{4})(\\d{2})?(\\d{2})?$`).exec(name);
  if (match === null) return undefined;
  const [, year, month, day] = match;
  const grain = PARTITION_GRAIN[table];
  if ((grain === 'day') !== (day !== undefined) || (grain === 'year') !== (month === undefined)) return undefined;
  const atMs = Date.UTC(Number(year), month === undefined ? 0 : Number(month) - 1, day === undefined ? 1 : Number(day));
  const range = partitionFor(table, atMs);
  return range.name === name ? range : undefined;
}

function isDuplicate(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '42P07' || code === '23505';
}

/** Creates the partition (idempotent; a concurrent creator is not an error). */
export async function ensurePartition(db: Queryable, range: PartitionRange): Promise<void> {
  const from = new Date(range.fromMs).toISOString();
  const to = new Date(range.toMs).toISOString();
  try {
    await db.exec(`CREATE TABLE IF NOT EXISTS ${range.name} PARTITION OF ${range.table} FOR VALUES FROM ('${from}') TO ('${to}')`);
  } catch (error) {
    if (!isDuplicate(error)) throw error;
  }
}

/** The partitions of `table` that exist, oldest first (only those named by this module). */
export async function listPartitions(db: Queryable, table: SeriesTable): Promise<PartitionRange[]> {
  const rows = await db.query<{ name: string }>(
    `SELECT child.relname AS name FROM pg_inherits
       JOIN pg_class child ON child.oid = pg_inherits.inhrelid
       JOIN pg_class parent ON parent.oid = pg_inherits.inhparent
       JOIN pg_namespace ns ON ns.oid = parent.relnamespace
      WHERE parent.relname = $1 AND ns.nspname = current_schema()`,
    [table],
  );
  return rows
    .map((row) => parsePartitionName(table, row.name))
    .filter((range): range is PartitionRange => range !== undefined)
    .sort((a, b) => a.fromMs - b.fromMs);
}

/** Caches which partitions exist so the hot path asks the database once per partition. */
export class PartitionCache {
  private readonly known = new Set<string>();

  /** `enabled: false`: the tables are not partitioned by us (TimescaleDB hypertables): `ensure` does nothing. */
  constructor(
    private readonly db: Queryable,
    private readonly enabled = true,
  ) {}

  /** Makes sure the partition holding `atMs` exists. */
  async ensure(table: SeriesTable, atMs: number): Promise<void> {
    if (!this.enabled) return;
    const range = partitionFor(table, atMs);
    if (this.known.has(range.name)) return;
    await ensurePartition(this.db, range);
    this.known.add(range.name);
  }

  /** Forgets a partition (after the retention job dropped it). */
  forget(name: string): void {
    this.known.delete(name);
  }
}

/** Name of the `(symbol, exchange_time)` index of a tick partition. */
export function tickIndexName(partition: string): string {
  return `${partition}_symbol_time`;
}

/**
 * Indexes the tick partitions whose day is over (`toMs <= nowMs`) and are not indexed yet, and
 * returns their names. The partition being written has no btree: maintaining one row by row
 * tripled the server's CPU per tick (bench/ingest.bench.ts); one sort when the day is closed is
 * cheaper and runs outside the session. Until then a query on today's ticks scans its partition.
 */
export async function indexClosedTickPartitions(db: Queryable, nowMs: number): Promise<string[]> {
  const indexed = new Set(
    (
      await db.query<{ name: string }>(
        "SELECT tablename AS name FROM pg_indexes WHERE schemaname = current_schema() AND tablename LIKE 'ticks\\_p%' AND indexname LIKE '%\\_symbol\\_time'",
      )
    ).map((row) => row.name),
  );
  const created: string[] = [];
  for (const partition of await listPartitions(db, 'ticks')) {
    if (partition.toMs > nowMs || indexed.has(partition.name)) continue;
    await db.exec(`CREATE INDEX IF NOT EXISTS ${tickIndexName(partition.name)} ON ${partition.name} (symbol, exchange_time)`);
    created.push(partition.name);
  }
  return created;
}
