/** Kite error bodies mapped to domain errors (kite-reference §3). */

/** Base class of every error the Kite adapter raises; `kiteErrorType` is Kite's `error_type`. */
export class KiteBrokerError extends Error {
  constructor(
    message: string,
    readonly kiteErrorType: string,
    /** True when the same call may be retried safely (network trouble on an idempotent call). */
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = new.target.name;
  }
}
/** The session expired or was never valid: trading halts until someone logs in again. */
export class KiteSessionExpiredError extends KiteBrokerError {}
/** The call is not permitted for this account or app. */
export class KitePermissionError extends KiteBrokerError {}
/** Missing or bad parameters: a bug or a bad order, never retried. */
export class KiteInputError extends KiteBrokerError {}
/** The order operation failed at the OMS. */
export class KiteOrderError extends KiteBrokerError {}
/** Not enough funds or holdings. */
export class KiteMarginError extends KiteBrokerError {}
/** Account-level problem. */
export class KiteUserError extends KiteBrokerError {}
/** Network trouble, 5xx or rate limiting (429): the outcome of a write is unknown. */
export class KiteNetworkError extends KiteBrokerError {}
/** Kite answered something unreadable. */
export class KiteDataError extends KiteBrokerError {}
/** Anything else. */
export class KiteGeneralError extends KiteBrokerError {}

/** Turns whatever a `kiteconnect` promise rejected with into a {@link KiteBrokerError}. */
export function mapKiteError(raw: unknown): KiteBrokerError {
  if (raw instanceof KiteBrokerError) return raw;
  const body = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  const type = typeof body['error_type'] === 'string' ? body['error_type'] : 'GeneralException';
  const message = typeof body['message'] === 'string' ? body['message'] : raw instanceof Error ? raw.message : String(raw);
  switch (type) {
    case 'TokenException':
      return new KiteSessionExpiredError(`Kite session expired or invalid (${message}); log in again to resume trading.`, type, false);
    case 'PermissionException':
      return new KitePermissionError(message, type, false);
    case 'InputException':
      return new KiteInputError(message, type, false);
    case 'OrderException':
      return new KiteOrderError(message, type, false);
    case 'MarginException':
    case 'HoldingException':
      return new KiteMarginError(message, type, false);
    case 'UserException':
      return new KiteUserError(message, type, false);
    case 'NetworkException':
      return new KiteNetworkError(message, type, true);
    case 'DataException':
      return new KiteDataError(message, type, true);
    default:
      return new KiteGeneralError(message, type, false);
  }
}
