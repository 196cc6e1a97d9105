// Password policy (NIST SP 800-63B): length in code points, blocklist, no composition rules.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  checkPassword,
  describeProblem,
  type PasswordProblem,
  type PolicyOptions,
} from '../../src/crypto/password-policy.ts';

const opts: PolicyOptions = {
  minLength: 8,
  maxLength: 64,
  username: 'alice',
  email: 'Alice.Smith@example.com',
};

const cases: Array<[string, string, PasswordProblem[]]> = [
  // length, counted in code points
  ['7 characters', 'k9#vR2q', ['too_short']],
  ['8 characters', 'k9#vR2qz', []],
  ['empty', '', ['too_short']],
  ['64 characters', `${'Zq7!'.repeat(15)}abcd`, []],
  ['65 characters', `${'Zq7!'.repeat(16)}x`, ['too_long']],
  ['200 characters', `${'k9#vR2qzW'.repeat(22)}xy`, ['too_long']],
  ['1 MiB', 'x'.repeat(1024 * 1024), ['too_long']],
  ['8 emoji = 8 characters (32 bytes)', '🔐🐍🦀🎉🌍🍕🚀🎸', []],
  ['7 emoji', '🔐🐍🦀🎉🌍🍕🚀'.slice(0, 14), ['too_short']],
  ['64 emoji = 64 characters (256 bytes, 128 UTF-16 units)', '🔐🐍🦀🎉🌍🍕🚀🎸'.repeat(8), []],
  ['65 emoji', `${'🔐🐍🦀🎉🌍🍕🚀🎸'.repeat(8)}🎺`, ['too_long']],
  ['no composition rules: all lower case', 'correct horse battery staple', []],
  ['no composition rules: digits only but not a run', '90317462', []],
  ['trailing space is part of the password', 'k9#vR2q ', []],
  // blocklist (zxcvbn-ts common passwords, case-insensitive)
  ['password', 'password', ['common']],
  ['Password1', 'Password1', ['common']],
  ['PASSWORD', 'PASSWORD', ['common']],
  ['qwertyui', 'qwertyui', ['common']],
  ['iloveyou', 'iloveyou', ['common']],
  ['full-width ｐａｓｓｗｏｒｄ (NFKC)', 'ｐａｓｓｗｏｒｄ', ['common']],
  ['the service name', 'Portcullis', ['common']],
  // repeats and straight runs
  ['12345678', '12345678', ['common']],
  ['87654321', '87654321', ['common']],
  ['7890123456 (digits wrap)', '7890123456', ['common']],
  ['abcdefgh', 'abcdefgh', ['common']],
  ['ZYXWVUTS', 'ZYXWVUTS', ['common']],
  ['Cyrillic run абвгдежз', 'абвгдежз', ['common']],
  ['aaaaaaaa', 'aaaaaaaa', ['common']],
  ['8 spaces', '        ', ['common']],
  ['8 identical emoji', '🔐'.repeat(8), ['common']],
  ['abababab', 'abababab', ['common']],
  ['abcdabcd', 'abcdabcd', ['common']],
  ['passwordpassword', 'passwordpassword', ['common']],
  ['a run broken at the end is not a run', 'bcdefghj', []],
  ['a step of 2 is not a run', 'acegikmo', []],
  // context
  ['= username (case-insensitive)', 'ALICE', ['too_short']],
  ['= email', 'alice.smith@EXAMPLE.com', ['matches_email']],
  ['= email local part', 'Alice.Smith', ['matches_email']],
  ['= full-width email local part (NFKC)', 'ａｌｉｃｅ．ｓｍｉｔｈ', ['matches_email']],
  ['contains the username but is not equal', 'alice-in-wonderland-42', []],
];

describe('checkPassword', () => {
  for (const [name, password, expected] of cases) {
    test(name, () => assert.deepEqual(checkPassword(password, opts), expected));
  }

  test('equal to the username (long enough to be checked)', () => {
    const o = { ...opts, username: 'Bartholomew' };
    assert.deepEqual(checkPassword('bartholomew', o), ['matches_username']);
    assert.deepEqual(checkPassword('ＢＡＲＴＨＯＬＯＭＥＷ', o), ['matches_username']);
    assert.deepEqual(checkPassword('bartholomew', { minLength: 8, maxLength: 64 }), []);
  });

  test('several problems are all reported', () => {
    const o = { minLength: 8, maxLength: 64, username: 'password', email: 'password@example.com' };
    assert.deepEqual(checkPassword('password', o), ['common', 'matches_username', 'matches_email']);
  });

  test('the limits come from the options', () => {
    assert.deepEqual(checkPassword('k9#vR2qzW1', { minLength: 15, maxLength: 64 }), ['too_short']);
    assert.deepEqual(checkPassword('k9#vR2qzW1x8!bT', { minLength: 15, maxLength: 64 }), []);
    assert.deepEqual(checkPassword('k9#vR2qzW1', { minLength: 8, maxLength: 9 }), ['too_long']);
  });

  test('a huge input is refused quickly', () => {
    const start = performance.now();
    assert.deepEqual(checkPassword('ab'.repeat(5_000_000), opts), ['too_long']);
    assert.ok(performance.now() - start < 50);
  });

  test('deterministic', () => {
    for (const [, password, expected] of cases.slice(0, 10)) {
      assert.deepEqual(checkPassword(password, opts), expected);
    }
  });
});

describe('describeProblem', () => {
  test('one sentence per problem, with the configured limits', () => {
    const o = { minLength: 12, maxLength: 128 };
    assert.match(describeProblem('too_short', o), /at least 12 characters\.$/);
    assert.match(describeProblem('too_long', o), /at most 128 characters\.$/);
    for (const p of ['common', 'matches_username', 'matches_email'] as const) {
      assert.match(describeProblem(p, o), /^[A-Z].+\.$/);
    }
    assert.doesNotMatch(describeProblem('common', o), /upper|lower|digit|symbol|special/i);
  });
});
