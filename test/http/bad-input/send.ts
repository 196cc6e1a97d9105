// One request of a case, sent exactly as built: over fetch, or streamed in chunks (no Content-Length)
// to show that the size limit does not rely on the header.
import http from 'node:http';
import type { Answer, Client } from '../../support/http.ts';

export interface Req {
  method: string;
  path: string;
  /** The Authorization header; null sends none. */
  authorization: string | null;
  contentType?: string;
  body?: string | Uint8Array;
  /** Stream `body` this many times over, chunked. */
  repeat?: number;
}

export async function send(api: Client, baseUrl: string, req: Req): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (req.authorization !== null) headers.authorization = req.authorization;
  if (req.contentType !== undefined) headers['content-type'] = req.contentType;
  if (req.repeat !== undefined) return sendChunked(baseUrl, req, headers);
  return api.request(req.method, req.path, undefined, { raw: req.body, headers });
}

function sendChunked(baseUrl: string, req: Req, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const request = http.request(
      new URL(req.path, baseUrl),
      { method: req.method, headers },
      (res) => {
        answered = true;
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => resolve(toAnswer(res, Buffer.concat(parts).toString('utf8'))));
      },
    );
    // The server may answer 413 and close while we are still writing: only a missing answer is an error.
    request.on('error', (error) => {
      if (!answered) reject(error);
    });
    const chunk = req.body ?? '';
    let left = req.repeat ?? 1;
    const pump = (): void => {
      while (left > 0) {
        left -= 1;
        if (request.destroyed) return;
        if (!request.write(chunk)) {
          request.once('drain', pump);
          return;
        }
      }
      request.end();
    };
    pump();
  });
}

function toAnswer(res: http.IncomingMessage, text: string): Answer {
  const headers = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    if (typeof value === 'string') headers.set(name, value);
    else if (Array.isArray(value)) for (const v of value) headers.append(name, v);
  }
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON: the shape checks will say so.
  }
  return { status: res.statusCode ?? 0, headers, body: body as Record<string, unknown>, text };
}
