// The mailer: messages are composed after the HTTP answer has gone out and sent in the background,
// with retries and growing delays. Nothing here can change an HTTP answer: a failure is only logged.
import type { MailMessage } from './templates.ts';
import { createTransport, type Transport, type TransportOptions } from './transport.ts';

/** The part of a pino logger the mailer uses. */
export interface MailLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

export interface Mailer {
  readonly kind: 'smtp' | 'outbox';
  /**
   * Runs `compose` on a later turn of the event loop and sends what it returns (nothing when it
   * returns undefined). Never throws and never waits: the caller's answer does not depend on it.
   */
  later(compose: () => Promise<MailMessage | undefined>): void;
  useLog(log: MailLog): void;
  /** Resolves once nothing is being composed, sent or waiting for a retry. */
  idle(): Promise<void>;
  /** Finishes what is in flight (bounded), then drops pending retries, saying so in the log. */
  close(): Promise<void>;
}

export interface MailerOptions extends TransportOptions {
  /** Delays before each retry; the message is dropped (and logged) when they run out. */
  retryDelaysMs?: readonly number[];
  /** A transport to use instead of SMTP/outbox (tests of the queue itself). */
  transport?: Transport;
}

export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [1_000, 5_000, 30_000, 120_000, 600_000];
const CLOSE_GRACE_MS = 10_000;

const silent: MailLog = { info() {}, warn() {}, error() {} };

/** What may be logged of a failure: codes and the server's words, never the message itself. */
function describe(error: unknown): Record<string, unknown> {
  const e = error as { code?: unknown; responseCode?: unknown; message?: unknown };
  return {
    code: typeof e.code === 'string' ? e.code : undefined,
    responseCode: typeof e.responseCode === 'number' ? e.responseCode : undefined,
    reason: typeof e.message === 'string' ? e.message.slice(0, 300) : String(error).slice(0, 300),
  };
}

// An SMTP 5xx reply is a permanent refusal (RFC 5321 §4.2.1): retrying cannot help.
function permanent(error: unknown): boolean {
  const code = (error as { responseCode?: unknown }).responseCode;
  return typeof code === 'number' && code >= 500 && code < 600;
}

export function createMailer(options: MailerOptions): Mailer {
  const transport = options.transport ?? createTransport(options);
  const delays = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  let log = silent;
  let closed = false;
  let closing: Promise<void> | undefined;
  const running = new Set<Promise<void>>();
  const waiting = new Map<NodeJS.Timeout, MailMessage>();
  let idleWaiters: Array<() => void> = [];

  function settle(): void {
    if (running.size > 0 || waiting.size > 0) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const wake of waiters) wake();
  }

  function track(work: Promise<void>): void {
    running.add(work);
    void work.finally(() => {
      running.delete(work);
      settle();
    });
  }

  async function attempt(message: MailMessage, number: number): Promise<void> {
    // Kind and recipient only: the body holds the link, and the link holds the token.
    const about = { mail: message.kind, to: message.to, attempt: number };
    try {
      const done = await transport.deliver(message);
      if (done.file) log.info({ ...about, file: done.file }, 'mail written to the outbox');
      else log.info({ ...about, messageId: done.messageId }, 'mail sent');
    } catch (error) {
      const delay = delays[number - 1];
      if (closed || delay === undefined || permanent(error)) {
        log.error({ ...about, ...describe(error) }, 'mail not sent; giving up');
        return;
      }
      log.warn({ ...about, ...describe(error), retryInMs: delay }, 'mail not sent; will retry');
      const timer = setTimeout(() => {
        waiting.delete(timer);
        track(attempt(message, number + 1));
      }, delay);
      // A pending retry must not keep a finished process alive.
      timer.unref();
      waiting.set(timer, message);
    }
  }

  return {
    kind: transport.kind,
    later(compose) {
      if (closed) {
        log.error({}, 'mail not composed: the mailer is closed');
        return;
      }
      const work = new Promise<void>((resolve) => setImmediate(resolve))
        .then(compose)
        .then((message) => (message ? attempt(message, 1) : undefined))
        .catch((error: unknown) => log.error(describe(error), 'mail not composed'));
      track(work);
    },
    useLog(next) {
      log = next;
    },
    idle() {
      if (running.size === 0 && waiting.size === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
    close() {
      closing ??= shutDown();
      return closing;
    },
  };

  async function shutDown(): Promise<void> {
    closed = true;
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, CLOSE_GRACE_MS);
      timer.unref();
    });
    await Promise.race([Promise.allSettled([...running]), grace]);
    clearTimeout(timer);
    for (const [pending, message] of waiting) {
      clearTimeout(pending);
      log.error(
        { mail: message.kind, to: message.to },
        'mail not sent: shutting down before its retry',
      );
    }
    waiting.clear();
    transport.close();
    settle();
  }
}
