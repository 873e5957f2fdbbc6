/** State shapes several strategies keep alike. */
import { Type, type Static, type TSchema } from 'typebox';

/**
 * The schema of a state that keeps one `symbolState` per symbol, keyed by symbol (a symbol
 * not seen yet has none): `perSymbol(SymbolState)`, typed {@link PerSymbol}.
 */
export function perSymbol<S extends TSchema>(symbolState: S) {
  return Type.Record(Type.String(), symbolState);
}

/** The state {@link perSymbol} declares: `PerSymbol<typeof SymbolState>`. */
export type PerSymbol<S extends TSchema> = Static<ReturnType<typeof perSymbol<S>>>;
