// Password policy after NIST SP 800-63B: length in code points, a blocklist, no composition rules.
// The blocklist is @zxcvbn-ts/language-common's list; @zxcvbn-ts/core's strength score is not used:
// NIST SP 800-63B asks for a blocklist and no composition rules, and a strength threshold is another policy.
import { createRequire } from 'node:module';

export type PasswordProblem =
  | 'too_short'
  | 'too_long'
  | 'common'
  | 'matches_username'
  | 'matches_email';

export interface PolicyOptions {
  minLength: number;
  maxLength: number;
  username?: string;
  email?: string;
}

// Context-specific words (ASVS 6.2.11): the service's own name is the first thing an attacker tries.
const CONTEXT_WORDS = ['portcullis'];
// A password made of one short unit repeated ('abab…', '1234 1234') is as weak as the unit.
const MAX_REPEATED_UNIT = 4;

let blocklist: ReadonlySet<string> | undefined;

// Loaded on first use (it is large: loading it at start would slow every start), then kept for the
// life of the process.
function commonPasswords(): ReadonlySet<string> {
  if (blocklist === undefined) {
    const require = createRequire(import.meta.url);
    const common = require('@zxcvbn-ts/language-common') as {
      dictionary: Record<string, readonly string[] | undefined>;
    };
    const list = common.dictionary['passwords-common'];
    // An empty blocklist would silently accept 'password': fail loudly instead.
    if (list === undefined || list.length === 0) throw new Error('common-password list not found');
    blocklist = new Set([...list, ...CONTEXT_WORDS].map(fold));
  }
  return blocklist;
}

// Case-insensitive comparison after NFKC: 'ＰＡＳＳＷＯＲＤ' is 'password'.
function fold(text: string): string {
  return text.normalize('NFKC').toUpperCase().toLowerCase().normalize('NFKC');
}

function codePoints(text: string): number[] {
  return Array.from(text, (ch) => ch.codePointAt(0) ?? 0);
}

// One character repeated, or a straight run up or down ('12345678', 'hgfedcba', '7890123').
function isRunOrRepeat(points: readonly number[]): boolean {
  if (points.length < 2) return true;
  const step = (points[1] ?? 0) - (points[0] ?? 0);
  for (let i = 1; i < points.length; i += 1) {
    const prev = points[i - 1] ?? 0;
    const next = points[i] ?? 0;
    if (next - prev === step) continue;
    // Digits wrap around: '…7890…' and '…2109…' are still runs.
    const wraps =
      (step === 1 && prev === 0x39 && next === 0x30) ||
      (step === -1 && prev === 0x30 && next === 0x39);
    if (!wraps) return false;
  }
  return step >= -1 && step <= 1;
}

// The whole password is one unit repeated, where the unit is short or itself weak.
function isRepeatedUnit(points: readonly number[], list: ReadonlySet<string>): boolean {
  for (let size = 1; size <= points.length / 2; size += 1) {
    if (points.length % size !== 0) continue;
    const unit = points.slice(0, size);
    if (!points.every((p, i) => p === unit[i % size])) continue;
    if (
      size <= MAX_REPEATED_UNIT ||
      isRunOrRepeat(unit) ||
      list.has(String.fromCodePoint(...unit))
    ) {
      return true;
    }
  }
  return false;
}

function isCommon(folded: string): boolean {
  const list = commonPasswords();
  if (list.has(folded)) return true;
  const points = codePoints(folded);
  return isRunOrRepeat(points) || isRepeatedUnit(points, list);
}

function sameAs(folded: string, other: string | undefined): boolean {
  return other !== undefined && other.length > 0 && fold(other) === folded;
}

/** The reasons a new password is refused; an empty list means it is acceptable. */
export function checkPassword(password: string, opts: PolicyOptions): PasswordProblem[] {
  // UTF-16 length is at least the code-point count: a huge input is refused before any work.
  if (password.length > 2 * opts.maxLength) return ['too_long'];
  // NIST counts each Unicode code point as one character, whatever its encoded size.
  const length = codePoints(password).length;
  if (length < opts.minLength) return ['too_short'];
  if (length > opts.maxLength) return ['too_long'];
  const problems: PasswordProblem[] = [];
  const folded = fold(password);
  if (isCommon(folded)) problems.push('common');
  if (sameAs(folded, opts.username)) problems.push('matches_username');
  const email = opts.email;
  const at = email === undefined ? -1 : email.lastIndexOf('@');
  if (sameAs(folded, email) || (at > 0 && sameAs(folded, email?.slice(0, at)))) {
    problems.push('matches_email');
  }
  return problems;
}

/** A sentence for the user, ending with a full stop. */
export function describeProblem(p: PasswordProblem, opts: PolicyOptions): string {
  switch (p) {
    case 'too_short':
      return `Use at least ${opts.minLength} characters.`;
    case 'too_long':
      return `Use at most ${opts.maxLength} characters.`;
    case 'common':
      return 'This password is too common or too easy to guess; choose another.';
    case 'matches_username':
      return 'The password must not be the same as the username.';
    case 'matches_email':
      return 'The password must not be the same as the email address.';
  }
}
