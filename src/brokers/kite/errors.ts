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

/** The error each of Kite's `error_type`s maps to, and whether the call may be retried (network and data trouble). */
const ERROR_TYPES = new Map<string, readonly [error: typeof KiteBrokerError, retryable: boolean]>([
  ['PermissionException', [KitePermissionError, false]],
  ['InputException', [KiteInputError, false]],
  ['OrderException', [KiteOrderError, false]],
  ['MarginException', [KiteMarginError, false]],
  ['HoldingException', [KiteMarginError, false]],
  ['UserException', [KiteUserError, false]],
  ['NetworkException', [KiteNetworkError, true]],
  ['DataException', [KiteDataError, true]],
]);

/** Turns whatever a `kiteconnect` promise rejected with into a {@link KiteBrokerError}. */
export function mapKiteError(raw: unknown): KiteBrokerError {
  if (raw instanceof KiteBrokerError) return raw;
  const body = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  const type = typeof body['error_type'] === 'string' ? body['error_type'] : 'GeneralException';
  const message = typeof body['message'] === 'string' ? body['message'] : raw instanceof Error ? raw.message : String(raw);
  if (type === 'TokenException') {
    return new KiteSessionExpiredError(`Kite session expired or invalid (${message}); log in again to resume trading.`, type, false);
  }
  const [KiteError, retryable] = ERROR_TYPES.get(type) ?? [KiteGeneralError, false];
  return new KiteError(message, type, retryable);
}
