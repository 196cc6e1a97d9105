// The messages Portcullis sends: plain text and HTML bodies built from the same words. Links are built
// from PUBLIC_URL only, never from a request's Host header, so a forged header cannot redirect them.

export type MailKind = 'password_reset' | 'email_verification' | 'password_changed';

export interface MailMessage {
  kind: MailKind;
  /** The stored address of the account, never an address as typed by the requester. */
  to: string;
  subject: string;
  text: string;
  html: string;
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** `${PUBLIC_URL}/path#token=…`, with the token percent-encoded as a form value. */
export function accountLink(publicUrl: string, path: string, token: string): string {
  const url = new URL(path, publicUrl.endsWith('/') ? publicUrl : `${publicUrl}/`);
  // In the fragment, which browsers never send: no server, proxy or access log on the way sees it.
  url.hash = new URLSearchParams({ token }).toString();
  return url.toString();
}

interface Body {
  greeting: string;
  paragraphs: string[];
  link?: { href: string; label: string };
  footer: string;
}

function render(body: Body): { text: string; html: string } {
  const text = [
    body.greeting,
    '',
    ...body.paragraphs.flatMap((p) => [p, '']),
    ...(body.link ? [body.link.href, ''] : []),
    body.footer,
    '',
  ].join('\n');
  const html = [
    '<!doctype html>',
    '<html><body style="font-family: sans-serif; line-height: 1.5">',
    `<p>${escapeHtml(body.greeting)}</p>`,
    ...body.paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`),
    ...(body.link
      ? [
          `<p><a href="${escapeHtml(body.link.href)}">${escapeHtml(body.link.label)}</a></p>`,
          `<p style="font-size: small">Or paste this address into your browser: ${escapeHtml(body.link.href)}</p>`,
        ]
      : []),
    `<p style="font-size: small; color: #555">${escapeHtml(body.footer)}</p>`,
    '</body></html>',
    '',
  ].join('\n');
  return { text, html };
}

export function passwordResetMail(input: {
  to: string;
  username: string;
  link: string;
  minutes: number;
}): MailMessage {
  return {
    kind: 'password_reset',
    to: input.to,
    subject: 'Reset your password',
    ...render({
      greeting: `Hello ${input.username},`,
      paragraphs: [
        'Someone, hopefully you, asked to reset the password of your account.',
        `To choose a new password, open this link within ${input.minutes} minutes. It works once.`,
      ],
      link: { href: input.link, label: 'Choose a new password' },
      footer:
        'If you did not ask for this, ignore this message: your password stays as it is. Resetting it signs you out everywhere.',
    }),
  };
}

export function emailVerificationMail(input: {
  to: string;
  username: string;
  link: string;
  hours: number;
}): MailMessage {
  return {
    kind: 'email_verification',
    to: input.to,
    subject: 'Confirm your email address',
    ...render({
      greeting: `Hello ${input.username},`,
      paragraphs: [
        'Please confirm that this address belongs to your account.',
        `Open this link within ${input.hours} hours. It works once.`,
      ],
      link: { href: input.link, label: 'Confirm my address' },
      footer: 'If you did not create an account or change its address, ignore this message.',
    }),
  };
}

export function passwordChangedMail(input: { to: string; username: string }): MailMessage {
  return {
    kind: 'password_changed',
    to: input.to,
    subject: 'Your password was changed',
    ...render({
      greeting: `Hello ${input.username},`,
      paragraphs: [
        'The password of your account was just reset with a link sent to this address, and every session was signed out.',
      ],
      footer:
        'If this was not you, reset your password again at once and contact your administrator.',
    }),
  };
}
