// Usernames and emails (SPEC §5): NFKC, one script per username, case-insensitive normal forms.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { normalizeLogin, parseEmail, parseUsername } from '../../src/auth/identity/index.ts';

// [name, input, expected value and normalized form | undefined when refused]
type Case = [string, string, { value: string; normalized: string } | undefined];

const usernames: Case[] = [
  ['plain', 'alice', { value: 'alice', normalized: 'alice' }],
  ['admin', 'admin', { value: 'admin', normalized: 'admin' }],
  ['ADMIN keeps its case, normalises to admin', 'ADMIN', { value: 'ADMIN', normalized: 'admin' }],
  ['punctuation and digits', 'al.ice_-42', { value: 'al.ice_-42', normalized: 'al.ice_-42' }],
  ['3 characters', 'abc', { value: 'abc', normalized: 'abc' }],
  ['32 characters', 'a'.repeat(32), { value: 'a'.repeat(32), normalized: 'a'.repeat(32) }],
  ['2 characters', 'ab', undefined],
  ['33 characters', 'a'.repeat(33), undefined],
  ['empty', '', undefined],
  ['full-width ＡＬＩＣＥ (NFKC)', 'ＡＬＩＣＥ', { value: 'ALICE', normalized: 'alice' }],
  ['ligature ﬁona (NFKC)', 'ﬁona', { value: 'fiona', normalized: 'fiona' }],
  ['Kelvin sign (NFKC)', '\u212Aelvin', { value: 'Kelvin', normalized: 'kelvin' }],
  ['NFD input composes', 'e\u0301lodie', { value: 'élodie', normalized: 'élodie' }],
  ['superscript digit (NFKC)', 'bob²', { value: 'bob2', normalized: 'bob2' }],
  ['Cyrillic', 'Алиса', { value: 'Алиса', normalized: 'алиса' }],
  ['Greek final sigma folds', 'ΟΔΟΣ', { value: 'ΟΔΟΣ', normalized: 'οδος' }],
  ['Greek medial sigma at the end folds the same', 'οδοσ', { value: 'οδοσ', normalized: 'οδος' }],
  ['German ß folds like ss', 'Straße', { value: 'Straße', normalized: 'strasse' }],
  ['dotless ı folds like i', 'ıvan', { value: 'ıvan', normalized: 'ivan' }],
  ['Devanagari with vowel signs', 'नमस्ते', { value: 'नमस्ते', normalized: 'नमस्ते' }],
  ['Thai with tone marks', 'ไทยรัฐ', { value: 'ไทยรัฐ', normalized: 'ไทยรัฐ' }],
  [
    'Japanese: Han + Hiragana (UTS #39)',
    '山田たろう',
    { value: '山田たろう', normalized: '山田たろう' },
  ],
  ['Korean Hangul', '김철수', { value: '김철수', normalized: '김철수' }],
  ['Arabic with Arabic-Indic digits', 'علي١٢٣', { value: 'علي١٢٣', normalized: 'علي١٢٣' }],
  ['Latin with ASCII digits', 'user123', { value: 'user123', normalized: 'user123' }],
  ['Latin paypal with one Cyrillic а', 'p\u0430ypal', undefined],
  [
    'all-Cyrillic look-alike of paypal mixed with Latin l',
    '\u0440\u0430\u0443\u0440\u0430l',
    undefined,
  ],
  ['Latin + Greek omicron', 'g\u03bfogle', undefined],
  ['Latin + Han', 'bob山田', undefined],
  ['Latin + Arabic-Indic digit that looks like l', 'paypa\u0661', undefined],
  ['Latin + Arabic tatweel', 'a\u0640bc', undefined],
  ['space inside', 'al ice', undefined],
  ['leading space', ' alice', undefined],
  ['trailing newline', 'alice\n', undefined],
  ['zero-width space', 'ali\u200bce', undefined],
  ['right-to-left override', 'ali\u202ece', undefined],
  ['i + combining dot above (looks like i)', 'i\u0307van', undefined],
  ['leading combining mark', '\u0301abc', undefined],
  ['@ sign', 'alice@home', undefined],
  ['slash', 'al/ice', undefined],
  ['emoji', 'alice🔐', undefined],
  ['only punctuation', '...', undefined],
  ['only punctuation, longer', '_-_-', undefined],
  ['a modifier letter without a script (ʻ)', 'ʻokina', undefined],
  ['50 000 characters', 'a'.repeat(50_000), undefined],
];

describe('parseUsername', () => {
  for (const [name, input, expected] of usernames) {
    test(`${name} → ${expected ? 'accepted' : 'refused'}`, () => {
      const result = parseUsername(input);
      if (expected === undefined) {
        assert.equal(result.ok, false);
        assert.ok(!result.ok && result.reason.length > 0);
      } else {
        assert.deepEqual(result, { ok: true, ...expected });
        // Login lookups reach the same key.
        assert.deepEqual(normalizeLogin(input), {
          kind: 'username',
          normalized: expected.normalized,
        });
      }
    });
  }

  test('admin, ADMIN, Admin and ＡＤＭＩＮ are one name', () => {
    const keys = ['admin', 'ADMIN', 'Admin', 'ＡＤＭＩＮ'].map((u) => {
      const r = parseUsername(u);
      assert.ok(r.ok);
      return r.normalized;
    });
    assert.deepEqual(new Set(keys), new Set(['admin']));
  });

  test('refusal reasons say what is wrong', () => {
    const reason = (u: string): string => {
      const r = parseUsername(u);
      return r.ok ? '' : r.reason;
    };
    assert.match(reason('ab'), /3 to 32/);
    assert.match(reason('p\u0430ypal'), /one script/);
    assert.match(reason('al ice'), /letters, digits/);
  });
});

const emails: Case[] = [
  ['plain', 'alice@example.com', { value: 'alice@example.com', normalized: 'alice@example.com' }],
  [
    'mixed case',
    'Alice@Example.COM',
    { value: 'Alice@Example.COM', normalized: 'alice@example.com' },
  ],
  ['localhost', 'dev@localhost', { value: 'dev@localhost', normalized: 'dev@localhost' }],
  [
    'plus and dots',
    'a.b+tag@mail.example.org',
    { value: 'a.b+tag@mail.example.org', normalized: 'a.b+tag@mail.example.org' },
  ],
  [
    'full-width (NFKC)',
    'ａｌｉｃｅ＠ｅｘａｍｐｌｅ．ｃｏｍ',
    { value: 'alice@example.com', normalized: 'alice@example.com' },
  ],
  [
    'internationalised',
    'José@Exämple.de',
    { value: 'José@Exämple.de', normalized: 'josé@exämple.de' },
  ],
  ['Chinese', '用户@例子.广告', { value: '用户@例子.广告', normalized: '用户@例子.广告' }],
  ['hyphenated domain', 'a@b.c-d.com', { value: 'a@b.c-d.com', normalized: 'a@b.c-d.com' }],
  ['leading space', ' alice@example.com', undefined],
  ['trailing space', 'alice@example.com ', undefined],
  ['space inside', 'ali ce@example.com', undefined],
  ['CRLF header injection', 'alice@example.com\r\nBcc: x@evil.example', undefined],
  ['zero-width space', 'alice\u200b@example.com', undefined],
  ['quotes', '"alice"@example.com', undefined],
  ['angle brackets', '<alice@example.com>', undefined],
  ['no @', 'alice.example.com', undefined],
  ['two @', 'a@b@example.com', undefined],
  ['empty local part', '@example.com', undefined],
  ['empty domain', 'alice@', undefined],
  ['domain without a dot', 'alice@example', undefined],
  ['domain with an empty label', 'alice@example..com', undefined],
  ['domain starting with a dot', 'alice@.example.com', undefined],
  ['label starting with a hyphen', 'alice@-example.com', undefined],
  ['numeric top-level label (bare IP)', 'alice@10.0.0.1', undefined],
  ['IP literal', 'alice@[10.0.0.1]', undefined],
  ['local part with two dots', 'a..b@example.com', undefined],
  ['local part starting with a dot', '.a@example.com', undefined],
  ['local part of 65 bytes', `${'a'.repeat(65)}@example.com`, undefined],
  ['label of 64 characters', `a@${'b'.repeat(64)}.com`, undefined],
  ['50 000 characters then @ (no regex blow-up)', `${'a'.repeat(50_000)}@`, undefined],
  ['empty', '', undefined],
];

describe('parseEmail', () => {
  for (const [name, input, expected] of emails) {
    test(`${name} → ${expected ? 'accepted' : 'refused'}`, () => {
      const start = performance.now();
      const result = parseEmail(input);
      assert.ok(performance.now() - start < 50);
      if (expected === undefined) {
        assert.equal(result.ok, false);
        assert.ok(!result.ok && result.reason.length > 0);
      } else {
        assert.deepEqual(result, { ok: true, ...expected });
        assert.deepEqual(normalizeLogin(input), { kind: 'email', normalized: expected.normalized });
      }
    });
  }

  test('254 bytes is the limit', () => {
    const local = 'a'.repeat(64);
    const domain = `${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`;
    assert.equal(`${local}@${domain}`.length, 254);
    assert.equal(parseEmail(`${local}@${domain}`).ok, true);
    assert.equal(parseEmail(`${local}@${domain}d`).ok, false);
  });
});

describe('normalizeLogin', () => {
  const cases: Array<[string, 'email' | 'username', string]> = [
    ['alice', 'username', 'alice'],
    ['ALICE', 'username', 'alice'],
    ['ＡＬＩＣＥ', 'username', 'alice'],
    ['  alice  ', 'username', 'alice'],
    ['Alice@Example.com', 'email', 'alice@example.com'],
    ['alice＠example.com', 'email', 'alice@example.com'],
    ['', 'username', ''],
  ];
  for (const [input, kind, normalized] of cases) {
    test(`${JSON.stringify(input)} → ${kind} ${JSON.stringify(normalized)}`, () => {
      assert.deepEqual(normalizeLogin(input), { kind, normalized });
    });
  }

  test('a huge login name gives a bounded key', () => {
    assert.ok(normalizeLogin('a'.repeat(1_000_000)).normalized.length <= 1024);
  });
});
