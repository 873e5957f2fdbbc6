import { createProbe, type ActorSystem } from '../../../src/actors/core/index.js';
import { Directory } from '../../../src/actors/directory.js';
import type { PortfolioCommand } from '../../../src/actors/portfolio/portfolio.protocol.js';
import type { RiskCommand } from '../../../src/actors/risk/risk.protocol.js';
import type { StrategyCommand } from '../../../src/actors/strategy/strategy.protocol.js';

/** Probes for everyone the execution actor reports to (risk, portfolio p1, strategy s1), in a directory. */
export function reportRecipients(system: ActorSystem) {
  const directory = new Directory();
  const risk = createProbe<RiskCommand>(system);
  const portfolio = createProbe<PortfolioCommand>(system);
  const strategy = createProbe<StrategyCommand>(system);
  directory.risk = risk.ref;
  directory.portfolios.set('p1', portfolio.ref);
  directory.strategies.set('s1', strategy.ref);
  return { directory, risk, portfolio, strategy };
}
