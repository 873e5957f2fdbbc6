/**
 * Where each actor kind lives in the supervision tree: the one place actor paths (and so
 * snapshot keys) are built. The runtime spawns under these names; recovery and tools find the
 * snapshots by them.
 */
export const ACTOR_PATHS = {
  /** The risk manager. */
  risk: '/risk',
  /** The regime detector. */
  regime: '/regime',
  /** The signal aggregator. */
  aggregator: '/aggregator',
  /** A portfolio actor. */
  portfolio: (portfolioId: string): string => `/portfolios/${portfolioId}`,
  /** A strategy host. */
  strategy: (strategyId: string): string => `/strategies/${strategyId}`,
  /** A symbol actor. */
  market: (symbol: string): string => `/market/${symbol}`,
  /** The execution actor of a venue. */
  execution: (venue: 'paper' | 'kite'): string => `/execution/${venue}`,
} as const;

/** The strategy id of a strategy host's path, undefined for any other path. */
export function strategyIdOfPath(path: string): string | undefined {
  const prefix = ACTOR_PATHS.strategy('');
  return path.startsWith(prefix) && path.length > prefix.length ? path.slice(prefix.length) : undefined;
}
