/** Errors in words a trader understands (never a stack trace, never a blank page). */
import { TroupeApiError } from './api.js';

const FIELD_NAMES: Readonly<Record<string, string>> = {
  '/symbol': 'Symbol',
  '/quantity': 'Quantity',
  '/limitPricePaise': 'Limit price',
  '/triggerPricePaise': 'Trigger price',
  '/orderType': 'Order type',
  '/product': 'Product',
  '/side': 'Side',
  '/portfolioId': 'Portfolio',
};

/** A readable label for a JSON pointer the server names in its error details. */
export function fieldLabel(path: string): string {
  return FIELD_NAMES[path] ?? (path.replace(/^\//, '') || 'Request');
}

/** One sentence for any error. */
export function humanise(error: unknown): string {
  if (error instanceof TroupeApiError) {
    switch (error.code) {
      case 'invalid-credentials':
        return 'Wrong user name or password.';
      case 'unauthenticated':
      case 'invalid-token':
        return 'Your session has ended. Please log in again.';
      case 'forbidden':
        return `You are not allowed to do that (${stripStatus(error.message)}).`;
      case 'rate-limited':
        return `Too many requests in a minute — ${stripStatus(error.message).replace(/^more than \d+ requests in a minute; /, '')}.`;
      case 'risk-rejected':
        return `Risk check refused the order: ${stripStatus(error.message)}`;
      case 'not-ready':
        return `Trading is still starting up (${stripStatus(error.message)}). Try again in a moment.`;
      case 'not-implemented':
        return `Not available yet: ${stripStatus(error.message)}`;
      case 'conflict':
      case 'not-found':
      case 'invalid-request':
        return capitalise(stripStatus(error.message));
      case 'internal':
        return 'The server hit an unexpected problem (it has been logged). Try again; if it keeps happening, tell the ops team.';
      default:
        return error.status >= 500 ? `The server could not answer (${error.status}). Try again in a moment.` : capitalise(stripStatus(error.message));
    }
  }
  if (error instanceof TypeError && /fetch|network/i.test(error.message)) {
    return 'Cannot reach the Troupe server. Check that it is running; the desk retries automatically.';
  }
  if (error instanceof Error) return `Something went wrong: ${error.message}`;
  return 'Something went wrong.';
}

function stripStatus(message: string): string {
  return message.replace(/^\d{3} [a-z-]+: /, '');
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
