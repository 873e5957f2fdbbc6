/**
 * A table's columns declared once, so the SQL and the code that maps rows cannot drift apart:
 * for reads, each field of a record with the column it is selected from and how its value is
 * read back ({@link columnsOf}); for writes, multi-row inserts through `unnest`, one array
 * parameter per column, so a batch of any size is one statement of the same text
 * ({@link insertColumns}: the column list, the casts and the parameters from one declaration).
 */

/** A row as the adapters return it (a `bigint` may come back as a string). */
export type Row = Readonly<Record<string, unknown>>;

/** One field of a record: its item of the select list, and its value from the selected row. */
export interface Column<T> {
  readonly select: string;
  readonly read: (row: Row) => T;
}

/** A column read as it comes (`T`: what the schema keeps in it). */
export const plain = <T>(name: string): Column<T> => ({ select: name, read: (row) => row[name] as T });

/** A nullable column; SQL `NULL` is an absent field. */
export const nullable = <T>(name: string): Column<T | undefined> => ({ select: name, read: (row) => (row[name] as T | null) ?? undefined });

/** An integer column, as a number. */
export const integer = (name: string): Column<number> => ({ select: name, read: (row) => Number(row[name]) });

/** `timestamptz` → epoch ms (a `bigint`). */
const epochMsOf = (name: string): string => `(extract(epoch from ${name}) * 1000)::bigint AS ${name}_ms`;

/** A `timestamptz` column, as epoch ms. */
export const epochMs = (name: string): Column<number> => ({ select: epochMsOf(name), read: (row) => Number(row[`${name}_ms`]) });

/** A nullable `timestamptz` column, as epoch ms; SQL `NULL` is an absent field. */
export function optionalEpochMs(name: string): Column<number | undefined> {
  return {
    select: epochMsOf(name),
    read: (row) => {
      const value = row[`${name}_ms`];
      return value === null ? undefined : Number(value);
    },
  };
}

/** The columns of a record of type `R`: its select list, and the record a row makes (fields in declaration order). */
export interface Columns<R> {
  readonly list: string;
  readonly read: (row: Row) => R;
}

/** {@link Columns} from a column per field of `R`. */
export function columnsOf<R>(columns: { readonly [K in keyof R]-?: Column<R[K]> }): Columns<R> {
  const fields = Object.entries<Column<unknown>>(columns);
  return {
    list: fields.map(([, column]) => column.select).join(', '),
    read: (row) => Object.fromEntries(fields.map(([field, column]) => [field, column.read(row)])) as R,
  };
}

/** A column of an insert: its PostgreSQL type and how a row gives its value (null for NULL). */
export type InsertColumn<R> = readonly [type: string, value: (row: R) => unknown];

/** A `timestamptz` column of an insert from an epoch-ms value (sent as an ISO instant). */
export const timestampColumn = <R>(epochMsOf: (row: R) => number): InsertColumn<R> => ['timestamptz', (row) => new Date(epochMsOf(row)).toISOString()];

/** What an insert through `unnest` needs of its columns: `INSERT INTO t ${list} SELECT * FROM ${unnest}` with `params(rows)`. */
export interface InsertColumns<R> {
  /** The column names in parentheses: `(symbol, start_time, …)`. */
  readonly list: string;
  /** `unnest($1::text[], $2::bigint[], …)`: the rows, one array parameter per column. */
  readonly unnest: string;
  /** The parameters of {@link unnest} for these rows: one array per column. */
  params(rows: readonly R[]): unknown[][];
}

/** The insert of `columns`, by column name, in the order given. */
export function insertColumns<R>(columns: Readonly<Record<string, InsertColumn<R>>>): InsertColumns<R> {
  const entries = Object.entries(columns);
  return {
    list: `(${entries.map(([name]) => name).join(', ')})`,
    unnest: `unnest(${entries.map(([, [type]], index) => `$${index + 1}::${type}[]`).join(', ')})`,
    params: (rows) => entries.map(([, [, value]]) => rows.map(value)),
  };
}
