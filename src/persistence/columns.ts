/**
 * A record's columns declared once: each field with the column it is selected from and how its
 * value is read back, so the select list and the mapper from a row cannot drift apart.
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
