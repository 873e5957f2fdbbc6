import { readFileSync } from 'node:fs';

/** Fewest characters a password may have (NIST SP 800-63B allows 8; long passphrases beat short rules). */
export const MIN_PASSWORD_LENGTH = 12;

let common: ReadonlySet<string> | undefined;

/**
 * The common-password list shipped beside this file (`common-passwords.txt`: the 49,233 passwords
 * of zxcvbn's dictionary from the npm package `@zxcvbn-ts/language-common` 4.1.3, MIT, see
 * `common-passwords.LICENSE.txt`), lower-cased. Read once, on first use (~5 ms).
 */
function commonPasswords(): ReadonlySet<string> {
  common ??= new Set(
    readFileSync(new URL('./common-passwords.txt', import.meta.url), 'utf8')
      .split('\n')
      .filter((line) => line !== ''),
  );
  return common;
}

/**
 * Why a new password is refused, or undefined when it is acceptable: shorter than
 * {@link MIN_PASSWORD_LENGTH}, on the common-password list (ignoring case), a common password
 * with digits or symbols around it (`Password-2024!`, `!!dragon12345`), or one character repeated.
 */
export function passwordProblem(password: string): string | undefined {
  if ([...password].length < MIN_PASSWORD_LENGTH) return `must have at least ${MIN_PASSWORD_LENGTH} characters`;
  const lower = password.toLowerCase();
  const list = commonPasswords();
  if (list.has(lower)) return 'is one of the most common passwords; choose another';
  // the letters at its heart: "Password-123" is "password" with a suffix
  const core = lower.replace(/^[^\p{L}]+|[^\p{L}]+$/gu, '');
  if (core !== lower && core !== '' && list.has(core)) return `is a common password ("${core}") with digits or symbols added; choose another`;
  if (new Set(lower).size === 1) return 'is one character repeated; choose another';
  return undefined;
}
