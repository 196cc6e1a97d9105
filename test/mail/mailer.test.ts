// The mailer on its own: the outbox writes RFC 5322 files, SMTP delivers to a real (loopback) SMTP
// server, failures are retried with delays and logged, and the token of a link never reaches the log.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createMailer, type Mailer, type MailLog } from '../../src/mail/mailer.ts';
import {
  accountLink,
  emailVerificationMail,
  type MailMessage,
  passwordResetMail,
} from '../../src/mail/templates.ts';
import { parseMail, readOutbox, type SmtpSink, startSmtpSink } from '../support/mail.ts';

interface Line {
  level: 'info' | 'warn' | 'error';
  details: Record<string, unknown>;
  message: string;
}

function capture(): MailLog & { lines: Line[] } {
  const lines: Line[] = [];
  const at =
    (level: Line['level']) =>
    (details: object, message: string): void => {
      lines.push({ level, details: details as Record<string, unknown>, message });
    };
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}

const TOKEN = 'T0kenT0kenT0kenT0kenT0kenT0kenT0kenT0kenT0k';

function resetMessage(to = 'alice@example.com'): MailMessage {
  return passwordResetMail({
    to,
    username: 'alice',
    link: accountLink('http://localhost:8000', 'reset', TOKEN),
    minutes: 30,
  });
}

const FROM = 'Portcullis <no-reply@example.com>';

describe('templates', () => {
  it('links keep a PUBLIC_URL path prefix and carry the token in the fragment (never sent to a server)', () => {
    assert.equal(
      accountLink('https://example.com/auth', 'reset', 'abc-_1'),
      'https://example.com/auth/reset#token=abc-_1',
    );
    assert.equal(
      accountLink('https://example.com/auth/', 'verify', 'x'),
      'https://example.com/auth/verify#token=x',
    );
  });

  it('text and HTML bodies both carry the link; HTML escapes what it interpolates', () => {
    const message = emailVerificationMail({
      to: 'a@example.com',
      username: '<b>&"',
      link: 'https://example.com/verify?token=a&b=<c>',
      hours: 24,
    });
    assert.match(message.text, /^https:\/\/example\.com\/verify\?token=a&b=<c>$/m);
    assert.ok(message.html.includes('href="https://example.com/verify?token=a&amp;b=&lt;c&gt;"'));
    assert.ok(message.html.includes('Hello &lt;b&gt;&amp;&quot;,'));
    assert.ok(!message.html.includes('<b>&"'));
  });
});

describe('outbox (no SMTP_URL)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-mail-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes an RFC 5322 message with text and HTML parts, readable by the owner only', async () => {
    const log = capture();
    const mailer = createMailer({ smtpUrl: undefined, dataDir: dir, from: FROM });
    mailer.useLog(log);
    assert.equal(mailer.kind, 'outbox');
    mailer.later(async () => resetMessage());
    await mailer.idle();
    const [mail] = await readOutbox(dir);
    assert.ok(mail?.file);
    const raw = await readFile(mail.file, 'latin1');
    // Every line ends in CRLF, and no line is longer than RFC 5322 §2.1.1 allows.
    assert.doesNotMatch(raw, /[^\r]\n/);
    for (const line of raw.split('\r\n')) assert.ok(line.length <= 998);
    assert.equal(mail.headers.get('from'), FROM);
    assert.equal(mail.headers.get('to'), 'alice@example.com');
    assert.equal(mail.headers.get('subject'), 'Reset your password');
    assert.equal(mail.headers.get('mime-version'), '1.0');
    assert.match(mail.headers.get('message-id') ?? '', /^<[^@\s]+@[^>\s]+>$/);
    assert.ok(!Number.isNaN(Date.parse(mail.headers.get('date') ?? '')));
    assert.match(mail.headers.get('content-type') ?? '', /^multipart\/alternative;/);
    assert.ok(mail.text.includes(`http://localhost:8000/reset#token=${TOKEN}`));
    assert.ok(mail.html.includes(`href="http://localhost:8000/reset#token=${TOKEN}"`));
    assert.equal(statSync(mail.file).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'outbox')).mode & 0o777, 0o700);
    assert.deepEqual(
      log.lines.map((l) => [l.level, l.message]),
      [['info', 'mail written to the outbox']],
    );
    assert.equal(log.lines[0]?.details.file, mail.file);
    assert.ok(!JSON.stringify(log.lines).includes(TOKEN), 'the token is not logged');
    await mailer.close();
  });

  it('a failing composition is logged, never thrown at the caller', async () => {
    const log = capture();
    const mailer = createMailer({ smtpUrl: undefined, dataDir: dir, from: FROM });
    mailer.useLog(log);
    mailer.later(async () => {
      throw new Error('database went away');
    });
    mailer.later(async () => undefined);
    await mailer.idle();
    assert.deepEqual(
      log.lines.map((l) => [l.level, l.message, l.details.reason]),
      [['error', 'mail not composed', 'database went away']],
    );
    await mailer.close();
  });
});

describe('SMTP (SMTP_URL)', () => {
  let sink: SmtpSink;
  let mailer: Mailer | undefined;
  before(async () => {
    sink = await startSmtpSink();
  });
  after(async () => {
    await mailer?.close();
    await sink.close();
  });

  function open(retryDelaysMs: number[], url = sink.url) {
    const log = capture();
    mailer = createMailer({ smtpUrl: url, dataDir: '/nonexistent', from: FROM, retryDelaysMs });
    mailer.useLog(log);
    return { log, mailer };
  }

  it('delivers to the SMTP server with the envelope of the message', async () => {
    const { log, mailer: m } = open([]);
    assert.equal(m.kind, 'smtp');
    m.later(async () => resetMessage('smtp1@example.com'));
    const got = await sink.waitFor('smtp1@example.com');
    assert.equal(got.from, 'no-reply@example.com');
    assert.deepEqual(got.rcpt, ['smtp1@example.com']);
    assert.ok(got.text.includes(`/reset#token=${TOKEN}`));
    await m.idle();
    assert.deepEqual(
      log.lines.map((l) => l.message),
      ['mail sent'],
    );
    await m.close();
  });

  it('retries a temporary refusal (4xx) after a delay, and logs it without the token', async () => {
    const { log, mailer: m } = open([50, 50]);
    sink.refuseNext(2, 451);
    const before = sink.refused();
    m.later(async () => resetMessage('smtp2@example.com'));
    const got = await sink.waitFor('smtp2@example.com');
    assert.equal(sink.refused() - before, 2);
    assert.ok(got.text.includes(TOKEN));
    await m.idle();
    assert.deepEqual(
      log.lines.map((l) => [l.level, l.message, l.details.attempt]),
      [
        ['warn', 'mail not sent; will retry', 1],
        ['warn', 'mail not sent; will retry', 2],
        ['info', 'mail sent', 3],
      ],
    );
    assert.equal(log.lines[0]?.details.responseCode, 451);
    assert.ok(!JSON.stringify(log.lines).includes(TOKEN));
    await m.close();
  });

  it('gives up when the retries run out, and at once on a permanent refusal (5xx)', async () => {
    const { log, mailer: m } = open([20]);
    sink.refuseNext(2, 451);
    m.later(async () => resetMessage('smtp3@example.com'));
    await m.idle();
    sink.refuseNext(1, 550);
    m.later(async () => resetMessage('smtp4@example.com'));
    await m.idle();
    assert.deepEqual(
      log.lines.map((l) => [l.level, l.message, l.details.to]),
      [
        ['warn', 'mail not sent; will retry', 'smtp3@example.com'],
        ['error', 'mail not sent; giving up', 'smtp3@example.com'],
        ['error', 'mail not sent; giving up', 'smtp4@example.com'],
      ],
    );
    assert.equal(sink.messages.filter((x) => /smtp[34]@/.test(x.rcpt.join())).length, 0);
    await m.close();
  });

  it('an unreachable server is retried; closing drops the pending retry and says so', async () => {
    const { log, mailer: m } = open([60_000], 'smtp://127.0.0.1:1');
    m.later(async () => resetMessage('smtp5@example.com'));
    // Wait for the first attempt to fail and the retry to be scheduled.
    for (let i = 0; i < 200 && log.lines.length === 0; i++)
      await new Promise((r) => setTimeout(r, 10));
    assert.equal(log.lines[0]?.message, 'mail not sent; will retry');
    await m.close();
    assert.equal(log.lines.at(-1)?.message, 'mail not sent: shutting down before its retry');
    await m.idle();
  });

  it('parses what it sends: the sink sees the same message the outbox would write', () => {
    const mail = parseMail(
      'To: a@example.com\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nx=3Dy=\r\nz\r\n',
    );
    assert.equal(mail.text, 'x=yz\r\n');
  });
});
