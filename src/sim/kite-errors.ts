/** Kite's error envelope (kite-reference §3) as a throwable the simulator's router turns into a response. */

/** Kite `error_type` values. */
export type KiteErrorType =
  | 'TokenException'
  | 'PermissionException'
  | 'InputException'
  | 'OrderException'
  | 'MarginException'
  | 'HoldingException'
  | 'UserException'
  | 'NetworkException'
  | 'DataException'
  | 'GeneralException';

/** An error answered as `{"status":"error","message":..,"error_type":..,"data":null}` with an HTTP status. */
export class KiteApiError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly errorType: KiteErrorType,
    message: string,
  ) {
    super(message);
    this.name = 'KiteApiError';
  }
}

/** 400 InputException. */
export const inputError = (message: string): KiteApiError => new KiteApiError(400, 'InputException', message);
/** 403 TokenException. */
export const tokenError = (message = 'Incorrect `api_key` or `access_token`.'): KiteApiError => new KiteApiError(403, 'TokenException', message);
