/** The portfolio actor's snapshot: its schema, codec, and how the journal applies to it. */
import { Type } from 'typebox';
import { schemaCodec, type SchemaCodec } from '../core/index.js';
import { applyFillToPortfolio, copyPortfolio, newPortfolio, type MutablePortfolioState, type Paise, type PortfolioState } from '../../model/index.js';
import type { JournalReplay } from '../journal-replay.js';
import { PaiseSchema, PositionSchema } from '../schemas.js';

/** `PortfolioState` (src/model/portfolio.ts), as snapshotted. */
export const PortfolioSnapshotSchema = Type.Object({
  portfolioId: Type.String(),
  initialCashPaise: PaiseSchema,
  cashPaise: PaiseSchema,
  positions: Type.Record(Type.String(), PositionSchema),
  fillCount: Type.Integer({ minimum: 0 }),
});

/** The portfolio actor's codec (version 1): the working state is updated in place, so snapshots take copies. */
export const portfolioCodec: SchemaCodec<MutablePortfolioState> = schemaCodec(PortfolioSnapshotSchema, 'portfolio snapshot', copyPortfolio, (json) => json);

/** A stored portfolio snapshot → state; throws `SnapshotDecodeError` naming the bad field. */
export const decodePortfolioSnapshot = portfolioCodec.decode;

/** What the journal did to a portfolio snapshot. */
export interface PortfolioRecovery {
  readonly state: PortfolioState;
  /** Fills applied on top of the snapshot (0: the snapshot was complete). */
  readonly replayed: number;
}

/**
 * The journal on a portfolio: the snapshot holds exactly its first `fillCount` fills, so the
 * fills after them are applied (positions = Σ fills, P&L continues). Without a snapshot it
 * starts from `initialCashPaise`.
 */
export function applyJournalToPortfolio(
  snapshot: PortfolioState | undefined,
  replay: JournalReplay,
  portfolioId: string,
  initialCashPaise: Paise,
): PortfolioRecovery {
  let state = snapshot ?? newPortfolio(portfolioId, initialCashPaise);
  const fills = replay.fills.filter((fill) => fill.portfolioId === portfolioId);
  const missing = fills.slice(state.fillCount - replay.fillsBeforeOf(portfolioId));
  for (const fill of missing) state = applyFillToPortfolio(state, fill);
  return { state, replayed: missing.length };
}
