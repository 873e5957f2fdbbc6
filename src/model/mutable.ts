/** `T` without `readonly`: for the one owner that builds a value field by field or updates it in place. */
export type Mutable<T> = { -readonly [K in keyof T]: T[K] };
