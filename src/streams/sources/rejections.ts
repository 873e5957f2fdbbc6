/**
 * What a data reader left out, told the same way everywhere (backtest, paper trading from a
 * file, fetch-history): counted, named, with the first examples and their line numbers.
 */

/** A data row (or a whole file, at line 0) that was left out, with where and why. */
export interface RejectedRow {
  readonly file: string;
  /** 1-based line number in the file (0 when the whole file was left out). */
  readonly line: number;
  readonly reason: string;
}

/** Counts and first examples of a list of rejections. */
export interface RejectionSummary {
  /** Whole files left out (line 0). */
  readonly files: number;
  /** Rows left out. */
  readonly rows: number;
  /** Every file left out, then the first rows, in the order given. */
  readonly examples: readonly RejectedRow[];
  /** Rejected rows not among the examples. */
  readonly moreRows: number;
}

/** How many rejected rows are shown by name. */
export const REJECTION_EXAMPLES = 10;

export function summariseRejections(rejected: readonly RejectedRow[], maxRowExamples = REJECTION_EXAMPLES): RejectionSummary {
  const files = rejected.filter((r) => r.line === 0);
  const rows = rejected.filter((r) => r.line > 0);
  const shown = rows.slice(0, maxRowExamples);
  return { files: files.length, rows: rows.length, examples: [...files, ...shown], moreRows: rows.length - shown.length };
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** "2 files and 3 rows", "1 row", or "nothing". */
export function rejectionCounts(summary: RejectionSummary): string {
  const parts = [summary.files > 0 ? plural(summary.files, 'file') : '', summary.rows > 0 ? plural(summary.rows, 'row') : ''].filter(Boolean);
  return parts.length === 0 ? 'nothing' : parts.join(' and ');
}

/** `file:line: reason` (a whole file: `file: reason`). */
export function rejectionLine(rejection: RejectedRow): string {
  return `${rejection.file}${rejection.line > 0 ? `:${rejection.line}` : ''}: ${rejection.reason}`;
}

/**
 * Lines for a terminal or a log: a headline with the totals, each file left out, the first
 * rows with their line numbers, and how many more. Empty when nothing was rejected.
 * `where` says where the full list is (e.g. "result.json meta.rejectedRows").
 */
export function describeRejections(rejected: readonly RejectedRow[], options: { readonly where?: string; readonly maxRowExamples?: number } = {}): string[] {
  if (rejected.length === 0) return [];
  const summary = summariseRejections(rejected, options.maxRowExamples);
  const lines = [`rejected input: ${rejectionCounts(summary)} left out:`];
  for (const example of summary.examples) lines.push(`  ${rejectionLine(example)}`);
  if (summary.moreRows > 0) lines.push(`  … and ${plural(summary.moreRows, 'more row')}${options.where ? ` (every one in ${options.where})` : ''}`);
  return lines;
}
