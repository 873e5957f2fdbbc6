/**
 * CSV for the history exports (RFC 4180): comma separated, CRLF line ends, a field quoted when it
 * holds a comma, a quote or a line break. A text field that a spreadsheet would run as a formula
 * (starting with =, +, @, tab or CR) gets a leading apostrophe. Rupee amounts are exact decimals
 * from integer paise (12345 → 123.45, -5 → -0.05), never floats.
 */

/** Paise → rupees as an exact decimal string with two places. */
export function rupeesExact(paise: number): string {
  if (!Number.isSafeInteger(paise)) throw new RangeError(`not an integer amount of paise: ${paise}`);
  const sign = paise < 0 ? '-' : '';
  const abs = Math.abs(paise);
  return `${sign}${Math.trunc(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

function field(value: string | number | undefined): string {
  if (value === undefined) return '';
  if (typeof value === 'number') return String(value);
  let text = value;
  if (/^[=+@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One CSV line (with its CRLF). */
export function csvLine(values: readonly (string | number | undefined)[]): string {
  return `${values.map(field).join(',')}\r\n`;
}
