// Usernames and email addresses: what is accepted, and the one normal form every lookup uses.
export type IdentityResult =
  | { ok: true; value: string; normalized: string }
  | { ok: false; reason: string };

const USERNAME_MIN = 3;
const USERNAME_MAX = 32;
const EMAIL_MAX_BYTES = 254;
const LOCAL_MAX_BYTES = 64;
const LABEL_MAX = 63;
// Raw input far beyond any valid identifier is refused before normalisation (no work on huge input).
const RAW_LIMIT = { username: 256, email: 1024, login: 1024 };

// Script names the engine knows as Script_Extensions values (Common and Inherited excluded).
const SCRIPT_NAMES = `Adlam Ahom Anatolian_Hieroglyphs Arabic Armenian Avestan Balinese Bamum Bassa_Vah
  Batak Bengali Beria_Erfe Bhaiksuki Bopomofo Brahmi Braille Buginese Buhid Canadian_Aboriginal Carian
  Caucasian_Albanian Chakma Cham Cherokee Chisoi Chorasmian Coptic Cuneiform Cypriot Cypro_Minoan
  Cyrillic Deseret Devanagari Dives_Akuru Dogra Duployan Egyptian_Hieroglyphs Elbasan Elymaic Ethiopic
  Garay Georgian Glagolitic Gothic Grantha Greek Gujarati Gunjala_Gondi Gurmukhi Gurung_Khema Han
  Hangul Hanifi_Rohingya Hanunoo Hatran Hebrew Hiragana Imperial_Aramaic Inscriptional_Pahlavi
  Inscriptional_Parthian Javanese Kaithi Kannada Katakana Kawi Kayah_Li Kharoshthi Khitan_Small_Script
  Khmer Khojki Khudawadi Kirat_Rai Lao Latin Lepcha Limbu Linear_A Linear_B Lisu Lycian Lydian Mahajani
  Makasar Malayalam Mandaic Manichaean Marchen Masaram_Gondi Medefaidrin Meetei_Mayek Mende_Kikakui
  Meroitic_Cursive Meroitic_Hieroglyphs Miao Modi Mongolian Mro Multani Myanmar Nabataean Nag_Mundari
  Nandinagari New_Tai_Lue Newa Nko Nushu Nyiakeng_Puachue_Hmong Ogham Ol_Chiki Ol_Onal Old_Hungarian
  Old_Italic Old_North_Arabian Old_Permic Old_Persian Old_Sogdian Old_South_Arabian Old_Turkic
  Old_Uyghur Oriya Osage Osmanya Pahawh_Hmong Palmyrene Pau_Cin_Hau Phags_Pa Phoenician
  Psalter_Pahlavi Rejang Runic Samaritan Saurashtra Sharada Shavian Siddham Sidetic SignWriting Sinhala
  Sogdian Sora_Sompeng Soyombo Sundanese Sunuwar Syloti_Nagri Syriac Tagalog Tagbanwa Tai_Le Tai_Tham
  Tai_Viet Tai_Yo Takri Tamil Tangsa Tangut Telugu Thaana Thai Tibetan Tifinagh Tirhuta Todhri
  Tolong_Siki Toto Tulu_Tigalari Ugaritic Vai Vithkuqi Wancho Warang_Citi Yezidi Yi Zanabazar_Square`;

// UTS #39 §5.1 augmented script sets: Japanese and Korean names mix Han with kana or Hangul.
const AUGMENTED: Record<string, readonly string[]> = {
  Han: ['Han_with_Bopomofo', 'Japanese', 'Korean'],
  Hiragana: ['Japanese'],
  Katakana: ['Japanese'],
  Hangul: ['Korean'],
  Bopomofo: ['Han_with_Bopomofo'],
};

let scriptTests: ReadonlyArray<readonly [string, RegExp]> | undefined;

function scriptsTests(): ReadonlyArray<readonly [string, RegExp]> {
  if (scriptTests === undefined) {
    const tests: Array<readonly [string, RegExp]> = [];
    for (const name of SCRIPT_NAMES.split(/\s+/).filter(Boolean)) {
      try {
        tests.push([name, new RegExp(`^\\p{scx=${name}}$`, 'u')]);
      } catch {
        // A script newer than this engine's Unicode data: its letters match nothing, so are refused.
      }
    }
    scriptTests = tests;
  }
  return scriptTests;
}

// The scripts a character belongs to (Script_Extensions, augmented); empty for Common/Inherited.
function scriptsOf(ch: string): Set<string> {
  if (/^[A-Za-z]$/.test(ch)) return new Set(['Latin']);
  const found = new Set<string>();
  for (const [name, test] of scriptsTests()) {
    if (!test.test(ch)) continue;
    found.add(name);
    for (const extra of AUGMENTED[name] ?? []) found.add(extra);
  }
  return found;
}

/** The normal form for comparing identifiers: NFKC, then case-insensitive. */
function foldIdentifier(text: string): string {
  // Upper then lower approximates Unicode case folding, which JavaScript lacks: final sigma 'ς',
  // 'ß'/'ss' and dotless 'ı'/'i' compare equal, so look-alike registrations collide.
  return text.normalize('NFKC').toUpperCase().toLowerCase().normalize('NFKC');
}

function fail(reason: string): IdentityResult {
  return { ok: false, reason };
}

const NEUTRAL = /^[0-9._-]$/;
const LETTER_OR_DIGIT = /^[\p{L}\p{Nd}]$/u;
const MARK = /^[\p{Mn}\p{Mc}]$/u;
const LETTER = /^\p{L}$/u;
const GENERIC_MARK = /^[\p{sc=Inherited}\p{sc=Common}]$/u;

export function parseUsername(raw: string): IdentityResult {
  if (typeof raw !== 'string' || raw.length > RAW_LIMIT.username) {
    return fail(`Usernames are ${USERNAME_MIN} to ${USERNAME_MAX} characters long.`);
  }
  // NFKC first, so full-width and other compatibility forms are judged as what they mean.
  const value = raw.normalize('NFKC');
  const chars = Array.from(value);
  if (chars.length < USERNAME_MIN || chars.length > USERNAME_MAX) {
    return fail(`Usernames are ${USERNAME_MIN} to ${USERNAME_MAX} characters long.`);
  }
  let scripts: Set<string> | undefined;
  let previous = '';
  let hasAlnum = false;
  for (const ch of chars) {
    const neutral = NEUTRAL.test(ch);
    // Only a script's own marks (Devanagari vowel signs, Thai tone marks) are letters' parts; generic
    // combining marks are refused, since 'i' + U+0307 looks just like 'i' yet compares differently.
    const mark = MARK.test(ch) && !GENERIC_MARK.test(ch);
    if (!neutral && !mark && !LETTER_OR_DIGIT.test(ch)) {
      return fail('Usernames may contain only letters, digits, ".", "_" and "-".');
    }
    // A mark only completes the letter before it.
    if (mark && !(LETTER.test(previous) || MARK.test(previous))) {
      return fail('Usernames may contain only letters, digits, ".", "_" and "-".');
    }
    previous = ch;
    if (!mark) hasAlnum ||= !/^[._-]$/.test(ch);
    if (neutral) continue;
    // Every letter, mark and non-ASCII digit must share one script: no mixed-script look-alikes
    // such as Latin 'paypal' with a Cyrillic 'а' (UTS #39 single-script, Script_Extensions).
    const own = scriptsOf(ch);
    scripts = scripts === undefined ? own : new Set([...scripts].filter((s) => own.has(s)));
    if (scripts.size === 0) return fail('All letters of a username must come from one script.');
  }
  if (!hasAlnum) return fail('Usernames must contain at least one letter or digit.');
  return { ok: true, value, normalized: foldIdentifier(value) };
}

const FORBIDDEN_IN_EMAIL = /[\p{C}\p{Z}\s"(),:;<>[\]\\]/u;
const DOMAIN_LABEL = /^[\p{L}\p{N}](?:[\p{L}\p{M}\p{N}-]*[\p{L}\p{M}\p{N}])?$/u;

function badDomain(domain: string): boolean {
  if (domain.toLowerCase() === 'localhost') return false;
  const labels = domain.split('.');
  if (labels.length < 2) return true;
  if (/^\p{N}+$/u.test(labels[labels.length - 1] ?? '')) return true;
  return labels.some((label) => Array.from(label).length > LABEL_MAX || !DOMAIN_LABEL.test(label));
}

function badLocalPart(local: string): boolean {
  return (
    local.length === 0 ||
    Buffer.byteLength(local, 'utf8') > LOCAL_MAX_BYTES ||
    local.startsWith('.') ||
    local.endsWith('.') ||
    local.includes('..')
  );
}

export function parseEmail(raw: string): IdentityResult {
  if (typeof raw !== 'string' || raw.length > RAW_LIMIT.email) {
    return fail(`Email addresses are at most ${EMAIL_MAX_BYTES} bytes long.`);
  }
  const value = raw.normalize('NFKC');
  // Spaces, control and invisible format characters are refused, not trimmed: what is stored is
  // exactly what was accepted, and nothing can smuggle a header line into a mail.
  if (FORBIDDEN_IN_EMAIL.test(value)) {
    return fail('Email addresses cannot contain spaces, control characters or quotes.');
  }
  if (Buffer.byteLength(value, 'utf8') > EMAIL_MAX_BYTES) {
    return fail(`Email addresses are at most ${EMAIL_MAX_BYTES} bytes long.`);
  }
  const parts = value.split('@');
  if (parts.length !== 2) return fail('An email address has exactly one "@".');
  const [local = '', domain = ''] = parts;
  if (badLocalPart(local)) return fail('The part of the email address before "@" is not valid.');
  if (badDomain(domain)) return fail('The domain of the email address is not valid.');
  return { ok: true, value, normalized: foldIdentifier(value) };
}

/** The lookup key for a login name: an email when it contains '@', else a username. */
export function normalizeLogin(raw: string): { kind: 'email' | 'username'; normalized: string } {
  // Garbage longer than any identifier is cut, so a lookup or throttle key stays small.
  const text = raw.slice(0, RAW_LIMIT.login).normalize('NFKC').trim();
  return { kind: text.includes('@') ? 'email' : 'username', normalized: foldIdentifier(text) };
}
