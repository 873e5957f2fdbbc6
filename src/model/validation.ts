/** A validation issue as a schema checker reports it: where (a JSON pointer into the value) and what. */
export interface ValidationIssue {
  readonly instancePath: string;
  readonly message: string;
}

/**
 * The issue that names the field best: the deepest one (a union's own issue only says "must
 * match"); of equally deep ones, the first.
 */
export function deepestIssue<I extends ValidationIssue>(issues: Iterable<I>): I | undefined {
  let best: I | undefined;
  for (const issue of issues) if (best === undefined || issue.instancePath.length > best.instancePath.length) best = issue;
  return best;
}
