/**
 * The metric names a PromQL expression reads, found by a small tokenizer (not a regex over
 * the text): function and aggregation names, keywords (`by`, `without`, `on`, `ignoring`,
 * `group_left`, `group_right`, `bool`, `offset`, set operators) and their label lists, label
 * matchers inside `{…}`, string literals, numbers, durations and range/subquery windows are
 * skipped; `{__name__="…"}` counts as the name it matches exactly.
 */

const AGGREGATIONS = new Set(['sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile']);
/** Keywords followed by a parenthesised list of label names (optional for group_left/right). */
const LABEL_LIST_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const OTHER_KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'atan2']);
const NUMBER_WORDS = new Set(['inf', 'nan']);

const isIdentifierStart = (c: string): boolean => /[A-Za-z_:]/.test(c);
const isIdentifierPart = (c: string): boolean => /[A-Za-z0-9_:]/.test(c);

/** The metric names read by `expr`, in order of first appearance. Throws on a `$variable` left in (outside string literals, where `$1` is a replacement) or an unbalanced bracket. */
export function promqlMetricNames(expr: string): string[] {
  const names: string[] = [];
  const add = (name: string): void => {
    if (!names.includes(name)) names.push(name);
  };
  let i = 0;
  const n = expr.length;
  const skipSpace = (): void => {
    while (i < n) {
      if (/\s/.test(expr[i]!)) i += 1;
      else if (expr[i] === '#') while (i < n && expr[i] !== '\n') i += 1;
      else return;
    }
  };
  /** Reads a string literal starting at i (the quote); returns its raw contents. */
  const readString = (): string => {
    const quote = expr[i]!;
    i += 1;
    let value = '';
    while (i < n && expr[i] !== quote) {
      if (expr[i] === '\\' && quote !== '`') {
        value += expr[i + 1] ?? '';
        i += 2;
      } else {
        value += expr[i];
        i += 1;
      }
    }
    if (i >= n) throw new Error(`unterminated string in: ${expr}`);
    i += 1;
    return value;
  };
  /** Skips a `(…)` group of label names starting at i. */
  const skipParens = (): void => {
    let depth = 0;
    do {
      if (i >= n) throw new Error(`unbalanced parentheses in: ${expr}`);
      if (expr[i] === '(') depth += 1;
      else if (expr[i] === ')') depth -= 1;
      i += 1;
    } while (depth > 0);
  };
  /** Reads a `{…}` matcher block starting at i; `{__name__="x"}` adds x. */
  const readMatchers = (): void => {
    i += 1;
    for (;;) {
      skipSpace();
      if (i >= n) throw new Error(`unbalanced braces in: ${expr}`);
      const c = expr[i]!;
      if (c === '}') {
        i += 1;
        return;
      }
      if (c === ',') {
        i += 1;
        continue;
      }
      const start = i;
      while (i < n && isIdentifierPart(expr[i]!)) i += 1;
      if (i === start) throw new Error(`unexpected "${c}" in label matchers of: ${expr}`);
      const label = expr.slice(start, i);
      skipSpace();
      const op = /^(=~|!~|!=|=)/.exec(expr.slice(i))?.[1];
      if (op === undefined) throw new Error(`expected a matcher operator after ${label} in: ${expr}`);
      i += op.length;
      skipSpace();
      if (!['"', "'", '`'].includes(expr[i] ?? '')) throw new Error(`expected a string after ${label}${op} in: ${expr}`);
      const value = readString();
      if (label === '__name__' && op === '=') add(value);
    }
  };
  while (i < n) {
    skipSpace();
    if (i >= n) break;
    const c = expr[i]!;
    if (c === '"' || c === "'" || c === '`') {
      readString();
    } else if (c === '{') {
      readMatchers();
    } else if (c === '[') {
      const end = expr.indexOf(']', i);
      if (end < 0) throw new Error(`unbalanced brackets in: ${expr}`);
      if (expr.slice(i, end).includes('$')) throw new Error(`unsubstituted template variable in: ${expr}`);
      i = end + 1;
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(expr[i + 1] ?? ''))) {
      // numbers, hex, exponents and durations (offset 5m)
      const start = i;
      const exponentSign = (): boolean => /[+-]/.test(expr[i]!) && /[eE]/.test(expr[i - 1]!) && !/^0x/i.test(expr.slice(start, i));
      while (i < n && (/[0-9A-Za-z_.]/.test(expr[i]!) || exponentSign())) i += 1;
    } else if (isIdentifierStart(c)) {
      const start = i;
      while (i < n && isIdentifierPart(expr[i]!)) i += 1;
      const word = expr.slice(start, i);
      const lower = word.toLowerCase();
      const save = i;
      skipSpace();
      const next = expr[i];
      if (LABEL_LIST_KEYWORDS.has(lower)) {
        if (next === '(') skipParens();
      } else if (OTHER_KEYWORDS.has(lower) || NUMBER_WORDS.has(lower)) {
        i = save;
      } else if (next === '(') {
        i = save; // a function call or an aggregation: its arguments are read next
      } else if (AGGREGATIONS.has(lower) && /^(by|without)\b/i.test(expr.slice(i))) {
        i = save; // `sum by (x) (…)`
      } else {
        add(word);
        i = save;
      }
    } else if (c === '$') {
      throw new Error(`unsubstituted template variable in: ${expr}`);
    } else {
      i += 1; // operators, parentheses, commas, @
    }
  }
  return names;
}
