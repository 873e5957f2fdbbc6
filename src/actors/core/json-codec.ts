/**
 * Snapshot decoding by schema: a stored snapshot is checked against the TypeBox schema of its
 * actor kind before the actor sees it, so a corrupted or foreign snapshot is a clear error that
 * names the field (`portfolio snapshot: /positions/INFY:MIS/netQuantity must be integer`), not a
 * state with holes that fails later somewhere else.
 */
import type { Static, TSchema } from 'typebox';
import { Type } from 'typebox';
import { Value } from 'typebox/value';
import { deepestIssue } from '../../model/validation.js';
import type { Json, StateCodec } from './types.js';

/** A snapshot (or other persisted JSON) that does not match its schema; `path` is the JSON pointer of the first bad field. */
export class SnapshotDecodeError extends Error {
  constructor(
    readonly what: string,
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${what}: ${path === '' ? 'the value' : path} ${problem}`);
    this.name = 'SnapshotDecodeError';
  }
}

/** Any JSON value, typed as {@link Json} (for parts of a snapshot another codec decodes, e.g. a strategy plugin's state). */
export const JsonSchema = Type.Unsafe<Json>(Type.Unknown());

/**
 * Checks `json` against `schema` and returns a deep copy typed by it (the caller may own and
 * mutate it); throws {@link SnapshotDecodeError} naming the first field that does not fit.
 */
export function decodeJson<S extends TSchema>(schema: S, json: unknown, what: string): Static<S> {
  if (Value.Check(schema, json)) return structuredClone(json);
  const first = deepestIssue(Value.Errors(schema, json));
  throw new SnapshotDecodeError(what, first?.instancePath ?? '', first?.message ?? 'does not match its schema');
}

/**
 * A value of a schema's static type as {@link Json}. The schema is JSON Schema, so any value of
 * its type is JSON-safe; no copy is taken (copy first when the value is live state).
 */
export function encodeJson<S extends TSchema>(_schema: S, value: Static<S>): Json {
  return value;
}

/** A {@link StateCodec} by schema: its `decode` takes any stored value (it checks it) and needs no version (there is one). */
export interface SchemaCodec<State> extends StateCodec<State> {
  readonly decode: (json: unknown, fromVersion?: number) => State;
}

/**
 * An actor's snapshot codec (version 1) whose snapshots are checked by `schema`: `encode` writes
 * `toJson(state)` (a copy, when the state is updated in place), `decode` checks a stored snapshot
 * ({@link decodeJson}: `what` names it in the error) and makes the state from the private copy.
 */
export function schemaCodec<S extends TSchema, State>(
  schema: S,
  what: string,
  toJson: (state: State) => Static<S>,
  fromJson: (json: Static<S>) => State,
): SchemaCodec<State> {
  return {
    version: 1,
    encode: (state) => encodeJson(schema, toJson(state)),
    decode: (json) => fromJson(decodeJson(schema, json, what)),
  };
}
