/** Pre-trade risk: the risk manager, its limits, pacing and position sizing. */
export { PACING_CODES, RISK_REJECTION_CODES, type RiskRejectionCode } from './codes.js';
export { DEFAULT_MAX_ENTRY_WAIT_MS, PACING_EXPIRED, PacingQueue, type EncodedPacingQueue, type PacedIntent, type PacingOutcome } from './pacing-queue.js';
export { RateWindow } from './rate-window.js';
export { DEFAULT_RISK_LIMITS, type ExposureView, type RiskLimits, type RiskRejection } from './limits.js';
export {
  DEFAULT_RISK_MANAGER_LIMITS,
  exposures,
  KILL_SWITCH_ACTIONS,
  RiskManager,
  type EncodedRiskManager,
  type KillSwitchState,
  type PortfolioRisk,
  type RiskAction,
  type RiskFill,
  type RiskManagerLimits,
  type RiskManagerOptions,
  type RiskManagerRejection,
  type RiskVerdict,
  type SymbolBook,
} from './risk-manager.js';
export { fixedFractionQuantity, fixedRiskQuantity, volatilityTargetQuantity, volatilityToBps, type SizingBase } from './sizing.js';
