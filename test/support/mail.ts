// Reading the mail a server sent: .eml files in its outbox, or messages caught by a real SMTP server
// (the smtp-server package, listening on loopback) that the test starts as a sink.
import { readdir, readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { wait } from './fixtures.ts';

export interface Mail {
  /** The raw RFC 5322 message. */
  raw: string;
  headers: Map<string, string>;
  text: string;
  html: string;
  /** The .eml file, for outbox mail. */
  file?: string;
}

function splitHead(raw: string): { head: Map<string, string>; body: string } {
  const at = raw.indexOf('\r\n\r\n');
  const headText = at === -1 ? raw : raw.slice(0, at);
  const body = at === -1 ? '' : raw.slice(at + 4);
  const head = new Map<string, string>();
  // Folded header lines continue with whitespace (RFC 5322 §2.2.3).
  for (const line of headText.replace(/\r\n(?=[ \t])/g, '').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) head.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  return { head, body };
}

function decode(body: string, encoding: string | undefined): string {
  const kind = (encoding ?? '7bit').toLowerCase();
  if (kind === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (kind === 'quoted-printable') {
    const bytes = body
      .replace(/=\r\n/g, '')
      .replace(/=([0-9A-F]{2})/gi, (_m, hex: string) =>
        String.fromCharCode(Number.parseInt(hex, 16)),
      );
    return Buffer.from(bytes, 'latin1').toString('utf8');
  }
  return body;
}

/** The text and HTML bodies of a message: single part, or multipart/alternative (one level deep). */
export function parseMail(raw: string): Mail {
  const { head, body } = splitHead(raw.replace(/\r?\n/g, '\r\n'));
  const type = head.get('content-type') ?? 'text/plain';
  const parts: Array<{ head: Map<string, string>; body: string }> = [];
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (type.toLowerCase().startsWith('multipart/') && boundary) {
    for (const chunk of body.split(`--${boundary}`).slice(1)) {
      if (chunk.startsWith('--')) break;
      parts.push(splitHead(chunk.replace(/^\r\n/, '').replace(/\r\n$/, '')));
    }
  } else {
    parts.push({ head, body });
  }
  const pick = (mime: string): string => {
    const part = parts.find((p) => (p.head.get('content-type') ?? 'text/plain').startsWith(mime));
    return part ? decode(part.body, part.head.get('content-transfer-encoding')) : '';
  };
  return { raw, headers: head, text: pick('text/plain'), html: pick('text/html') };
}

export async function readOutbox(dataDir: string): Promise<Mail[]> {
  const dir = join(dataDir, 'outbox');
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.eml')).sort();
  } catch {
    return [];
  }
  const mails: Mail[] = [];
  for (const name of names) {
    const file = join(dir, name);
    mails.push({ ...parseMail(await readFile(file, 'utf8')), file });
  }
  return mails;
}

/** Polls until `find` returns something (mail is sent after the HTTP answer, in the background). */
export async function eventually<T>(
  find: () => Promise<T | undefined> | T | undefined,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await wait(20);
  }
}

/** Waits for the n-th (1-based) outbox mail to `to` and returns it. */
export async function outboxMail(
  dataDir: string,
  to: string,
  n = 1,
  subject?: RegExp,
): Promise<Mail> {
  return eventually(async () => {
    const mine = (await readOutbox(dataDir)).filter(
      (m) =>
        m.headers.get('to') === to && (!subject || subject.test(m.headers.get('subject') ?? '')),
    );
    return mine[n - 1];
  }, `mail #${n} to ${to} in the outbox`);
}

/** The token of the link to `path` in a mail's text body (and checks the HTML body has it too). */
export function linkToken(mail: Mail, base: string, path: string): string {
  const prefix = `${base.replace(/\/+$/, '')}/${path}#token=`;
  const line = mail.text.split(/\r?\n/).find((l) => l.startsWith(prefix));
  if (!line) throw new Error(`no ${prefix} link in:\n${mail.text}`);
  const token = new URLSearchParams(new URL(line.trim()).hash.slice(1)).get('token');
  if (!token) throw new Error('link without a token');
  if (!mail.html.includes(token)) throw new Error('the HTML body lacks the link');
  return token;
}

export interface SinkMessage extends Mail {
  from: string;
  rcpt: string[];
}

export interface SmtpSink {
  url: string;
  messages: SinkMessage[];
  /** Refuse the next `n` messages at RCPT TO with this SMTP reply code. */
  refuseNext(n: number, code: number): void;
  /** How many deliveries were refused so far. */
  refused(): number;
  waitFor(to: string, n?: number): Promise<SinkMessage>;
  close(): Promise<void>;
}

/** A real SMTP server on loopback that keeps every message it accepts. */
export async function startSmtpSink(): Promise<SmtpSink> {
  const messages: SinkMessage[] = [];
  let toRefuse = 0;
  let refuseCode = 451;
  let refusedCount = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(_address, _session, callback) {
      if (toRefuse > 0) {
        toRefuse -= 1;
        refusedCount += 1;
        const error = Object.assign(new Error('mailbox busy, try again later'), {
          responseCode: refuseCode,
        });
        callback(error);
        return;
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        messages.push({
          ...parseMail(raw),
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          rcpt: session.envelope.rcptTo.map((r) => r.address),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    refuseNext(n, code) {
      toRefuse = n;
      refuseCode = code;
    },
    refused: () => refusedCount,
    waitFor(to, n = 1) {
      return eventually(
        () => messages.filter((m) => m.rcpt.includes(to))[n - 1],
        `mail #${n} to ${to} at the SMTP sink`,
      );
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
