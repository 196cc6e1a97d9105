// Where a message goes: SMTP (SMTP_URL), or, with no SMTP_URL, an RFC 5322 .eml file in
// <DATA_DIR>/outbox/. nodemailer builds the message either way, so the file is what SMTP would carry.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import type { MailMessage } from './templates.ts';

export interface Delivered {
  messageId: string;
  /** The .eml file, for the outbox. */
  file?: string;
}

export interface Transport {
  readonly kind: 'smtp' | 'outbox';
  deliver(message: MailMessage): Promise<Delivered>;
  close(): void;
}

export interface TransportOptions {
  smtpUrl: string | undefined;
  dataDir: string;
  from: string;
}

function envelope(from: string, message: MailMessage) {
  return {
    from,
    to: message.to,
    subject: message.subject,
    text: message.text,
    html: message.html,
    headers: { 'X-Portcullis-Mail': message.kind },
  };
}

export function createTransport(options: TransportOptions): Transport {
  return options.smtpUrl === undefined
    ? outboxTransport(options.dataDir, options.from)
    : smtpTransport(options.smtpUrl, options.from);
}

function smtpTransport(url: string, from: string): Transport {
  const transporter = nodemailer.createTransport({
    url,
    // A dead or slow relay must fail the attempt (and be retried), not hold it for minutes.
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  });
  return {
    kind: 'smtp',
    async deliver(message) {
      const info = await transporter.sendMail(envelope(from, message));
      return { messageId: info.messageId };
    },
    close: () => transporter.close(),
  };
}

function outboxTransport(dataDir: string, from: string): Transport {
  const dir = join(dataDir, 'outbox');
  // CRLF line ends: an .eml file is an RFC 5322 message as SMTP would carry it.
  const composer = nodemailer.createTransport({
    streamTransport: true,
    buffer: true,
    newline: 'windows',
  });
  return {
    kind: 'outbox',
    async deliver(message) {
      const info = await composer.sendMail(envelope(from, message));
      // Only the owner may read the outbox: its messages carry live reset and verification links.
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      const file = join(dir, `${stamp}-${message.kind}-${randomBytes(4).toString('hex')}.eml`);
      await writeFile(file, info.message as Buffer, { mode: 0o600, flag: 'wx' });
      return { messageId: info.messageId, file };
    },
    close: () => composer.close(),
  };
}
