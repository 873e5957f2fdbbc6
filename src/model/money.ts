/**
 * Exact money. Every price and amount is an integer number of paise (1 rupee = 100 paise),
 * held in a JS number that stays a safe integer (|x| < 2^53, about ₹90 trillion).
 * Multiplication of two safe integers is exact while the product stays safe; division
 * always goes through {@link divRound}, which rounds with integer remainders, never floats.
 */

/** An integer amount of paise. A plain number at run time; the brand stops mixing units. */
export type Paise = number & { readonly __unit?: 'paise' };

/** Thrown when an amount would leave the range where integer arithmetic is exact. */
export class MoneyOverflowError extends RangeError {
  constructor(operation: string) {
    super(`money arithmetic out of exact range in ${operation}`);
    this.name = 'MoneyOverflowError';
  }
}

/** Throws unless `value` is a safe integer. Returns it for chaining. */
export function assertPaise(value: number, what = 'amount'): Paise {
  if (!Number.isSafeInteger(value)) {
    throw new TypeError(`${what} must be an integer number of paise, got ${String(value)}`);
  }
  return value;
}

/** Exact product of two integers; throws when the product is not a safe integer. */
export function mul(a: number, b: number): number {
  const product = a * b;
  if (!Number.isSafeInteger(product)) {
    const big = BigInt(a) * BigInt(b);
    if (big > BigInt(Number.MAX_SAFE_INTEGER) || big < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new MoneyOverflowError('mul');
    }
    return Number(big);
  }
  return product;
}

/**
 * `n / d` rounded down, with its remainder (0 ≤ remainder < d), for safe integers n ≥ 0 and
 * d > 0. Exact: float division may be off by one for large operands, so the quotient is fixed
 * with exact remainders.
 */
export function floorDivMod(n: number, d: number): [quotient: number, remainder: number] {
  let quotient = Math.floor(n / d);
  let remainder = n - quotient * d;
  while (remainder < 0) {
    quotient -= 1;
    remainder += d;
  }
  while (remainder >= d) {
    quotient += 1;
    remainder -= d;
  }
  return [quotient, remainder];
}

/**
 * `numerator / denominator` rounded to the nearest integer, halves away from zero
 * (the convention brokers use for charges). Exact for all safe integers.
 */
export function divRound(numerator: number, denominator: number): number {
  if (!Number.isSafeInteger(numerator) || !Number.isSafeInteger(denominator)) {
    throw new TypeError(`divRound needs integers, got ${numerator}/${denominator}`);
  }
  if (denominator === 0) throw new RangeError('divRound by zero');
  const negative = numerator < 0 !== denominator < 0;
  const d = Math.abs(denominator);
  const [floor, remainder] = floorDivMod(Math.abs(numerator), d);
  const quotient = remainder * 2 >= d ? floor + 1 : floor;
  // Never return -0: Object.is(-0, 0) is false and strict-equality tests would trip on it.
  return negative && quotient !== 0 ? -quotient : quotient;
}

/** `value * numerator / denominator` rounded half away from zero, exact (BigInt when needed). */
export function mulDivRound(value: number, numerator: number, denominator: number): number {
  if (!Number.isSafeInteger(value) || !Number.isSafeInteger(numerator)) {
    throw new TypeError(`mulDivRound needs integers, got ${value}*${numerator}`);
  }
  const product = value * numerator;
  if (Number.isSafeInteger(product)) return divRound(product, denominator);
  const big = BigInt(value) * BigInt(numerator);
  if (!Number.isSafeInteger(denominator)) throw new TypeError(`mulDivRound needs an integer denominator, got ${denominator}`);
  if (denominator === 0) throw new RangeError('mulDivRound by zero');
  const d = BigInt(denominator);
  const negative = big < 0n !== d < 0n;
  const absN = big < 0n ? -big : big;
  const absD = d < 0n ? -d : d;
  let q = absN / absD;
  if ((absN % absD) * 2n >= absD) q += 1n;
  const result = negative ? -q : q;
  if (result > BigInt(Number.MAX_SAFE_INTEGER) || result < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new MoneyOverflowError('mulDivRound');
  }
  return Number(result);
}

const DECIMAL = /^([+-])?(\d+)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/**
 * Parses a decimal rupee string ("1319.90", "1319.9000244140625", "42") into paise,
 * rounding half away from zero at the third decimal. No float is involved.
 */
export function parseRupees(text: string): Paise {
  const match = DECIMAL.exec(text.trim());
  if (!match) throw new SyntaxError(`not a decimal rupee amount: "${text}"`);
  const [, sign, whole = '0', fractionRaw = '', exponentRaw] = match;
  let digits = whole + fractionRaw;
  let scale = fractionRaw.length - Number(exponentRaw ?? 0); // digits after the point
  if (scale < 0) {
    digits += '0'.repeat(-scale);
    scale = 0;
  }
  // value = digits / 10^scale rupees = digits * 100 / 10^scale paise
  let paiseDigits: string;
  let roundUp = false;
  if (scale <= 2) {
    paiseDigits = digits + '0'.repeat(2 - scale);
  } else {
    const keep = digits.length - (scale - 2);
    paiseDigits = keep > 0 ? digits.slice(0, keep) : '0';
    const firstDropped = keep >= 0 ? digits.charAt(keep) : '0';
    roundUp = firstDropped >= '5';
  }
  let paise = Number(paiseDigits.replace(/^0+(?=\d)/, ''));
  if (roundUp) paise += 1;
  if (!Number.isSafeInteger(paise)) throw new MoneyOverflowError('parseRupees');
  return sign === '-' && paise !== 0 ? -paise : paise;
}

/**
 * Converts a rupee amount that arrived as a JS number (a JSON field, a CSV cell already
 * parsed by someone else) into paise. Goes through the shortest decimal representation,
 * so 1319.9000244140625 becomes 131990 and 0.1 + 0.2 becomes 30.
 */
export function rupeesToPaise(rupees: number): Paise {
  if (!Number.isFinite(rupees)) throw new RangeError(`not a finite rupee amount: ${rupees}`);
  return parseRupees(String(rupees));
}

/** Paise as a plain decimal rupee string with two places: 131990 → "1319.90". */
export function paiseToRupeeString(paise: Paise): string {
  const negative = paise < 0;
  const abs = Math.abs(paise);
  const rupees = Math.floor(abs / 100);
  const rest = abs - rupees * 100;
  return `${negative ? '-' : ''}${rupees}.${rest < 10 ? '0' : ''}${rest}`;
}

/** Paise formatted for people, en-IN grouping: 12345678 → "₹1,23,456.78". */
export function formatInr(paise: Paise): string {
  const plain = paiseToRupeeString(paise);
  const negative = plain.startsWith('-');
  const [whole = '0', fraction = '00'] = (negative ? plain.slice(1) : plain).split('.');
  const lastThree = whole.slice(-3);
  const head = whole.slice(0, -3);
  const grouped = head ? `${head.replace(/\B(?=(\d{2})+(?!\d))/g, ',')},${lastThree}` : lastThree;
  return `${negative ? '-' : ''}₹${grouped}.${fraction}`;
}

/**
 * Paise as rupees in a JS number, for display and statistics only (charts, Sharpe ratio).
 * Never feed the result back into money arithmetic.
 */
export function paiseToRupeesForDisplay(paise: Paise): number {
  return paise / 100;
}
