/**
 * Multi-row inserts through `unnest`: one array parameter per column, so a batch of any size is
 * one statement of the same text. A table's columns are declared once (name, PostgreSQL type, how
 * a row gives its value) and the column list, the `unnest(…)` casts and the parameters all come
 * from that one declaration, in its order.
 */

/** A column of an insert: its PostgreSQL type and how a row gives its value (null for NULL). */
export type InsertColumn<Row> = readonly [type: string, value: (row: Row) => unknown];

/** What an insert through `unnest` needs of its columns: `INSERT INTO t ${list} SELECT * FROM ${unnest}` with `params(rows)`. */
export interface InsertColumns<Row> {
  /** The column names in parentheses: `(symbol, start_time, …)`. */
  readonly list: string;
  /** `unnest($1::text[], $2::bigint[], …)`: the rows, one array parameter per column. */
  readonly unnest: string;
  /** The parameters of {@link unnest} for these rows: one array per column. */
  params(rows: readonly Row[]): unknown[][];
}

/** The insert of `columns`, by column name, in the order given. */
export function insertColumns<Row>(columns: Readonly<Record<string, InsertColumn<Row>>>): InsertColumns<Row> {
  const entries = Object.entries(columns);
  return {
    list: `(${entries.map(([name]) => name).join(', ')})`,
    unnest: `unnest(${entries.map(([, [type]], index) => `$${index + 1}::${type}[]`).join(', ')})`,
    params: (rows) => entries.map(([, [, value]]) => rows.map(value)),
  };
}
