/**
 * The gateway's `GatewayStateStore` on the {@link Queryable} port (PostgreSQL or PGlite):
 * API-made strategies in `strategies` (migration 001, `state` and `created_by` from 004) and
 * the manual order sequence in `gateway_sequences` (004).
 */
import type { GatewayStateStore, StoredStrategy, StrategyRunState } from './gateway-state-store.types.js';
import type { Queryable } from './database.js';

interface StrategyRow {
  id: string;
  kind: string;
  portfolio_id: string;
  config: Record<string, unknown> | string;
  state: StrategyRunState;
  created_by: string | null;
}

/** {@link GatewayStateStore} in PostgreSQL/PGlite. Survives restarts. */
export class PostgresGatewayStateStore implements GatewayStateStore {
  constructor(private readonly db: Queryable) {}

  async loadStrategies(): Promise<readonly StoredStrategy[]> {
    const rows = await this.db.query<StrategyRow>('SELECT id, kind, portfolio_id, config, state, created_by FROM strategies ORDER BY created_at, id');
    return rows.map((row) => ({
      strategyId: row.id,
      kind: row.kind,
      portfolioId: row.portfolio_id,
      config: typeof row.config === 'string' ? (JSON.parse(row.config) as Record<string, unknown>) : row.config,
      state: row.state,
      ...(row.created_by === null ? {} : { createdBy: row.created_by }),
    }));
  }

  async saveStrategy(strategy: StoredStrategy): Promise<void> {
    await this.db.query(
      `INSERT INTO strategies (id, kind, portfolio_id, config, enabled, state, created_by)
       VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7)
       ON CONFLICT (id) DO UPDATE SET kind = EXCLUDED.kind, portfolio_id = EXCLUDED.portfolio_id, config = EXCLUDED.config,
         enabled = EXCLUDED.enabled, state = EXCLUDED.state, created_by = COALESCE(strategies.created_by, EXCLUDED.created_by), updated_at = now()`,
      [
        strategy.strategyId,
        strategy.kind,
        strategy.portfolioId,
        JSON.stringify(strategy.config),
        strategy.state === 'started',
        strategy.state,
        strategy.createdBy ?? null,
      ],
    );
  }

  async setStrategyState(strategyId: string, state: StrategyRunState): Promise<boolean> {
    const rows = await this.db.query<{ id: string }>('UPDATE strategies SET state = $2, enabled = $3, updated_at = now() WHERE id = $1 RETURNING id', [
      strategyId,
      state,
      state === 'started',
    ]);
    return rows.length === 1;
  }

  async nextManualSequence(): Promise<number> {
    const [row] = await this.db.query<{ value: number | string }>(
      `INSERT INTO gateway_sequences (name, value) VALUES ('manual-order', 1)
       ON CONFLICT (name) DO UPDATE SET value = gateway_sequences.value + 1 RETURNING value`,
    );
    return Number(row?.value);
  }
}
