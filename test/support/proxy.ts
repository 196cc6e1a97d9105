// A loopback HTTP forwarder in front of a test server that can hold requests, standing in for network
// latency: requests held here left the browser with the cookies the browser had at that moment.
import { createServer, type IncomingMessage, request } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HeldRequest {
  path: string;
  cookie: string;
  /** Sends the request on and its answer back to the browser; resolves to the status code. */
  forward(): Promise<number>;
  /**
   * Sends the request on and only the answer's status and headers back (the browser applies its
   * cookies); the body follows when `finish` is called.
   */
  forwardHeaders(): Promise<{ status: number; finish(): Promise<void> }>;
}

export interface HoldingProxy {
  url: string;
  /** Resolves when `count` requests for `path` are waiting; each waits until forwarded. */
  hold(path: string, count: number): Promise<HeldRequest[]>;
  close(): Promise<void>;
}

function body(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function startProxy(target: string): Promise<HoldingProxy> {
  const upstream = new URL(target);
  let holding: {
    path: string;
    count: number;
    list: HeldRequest[];
    done(l: HeldRequest[]): void;
  } | null = null;
  const server = createServer(async (req, res) => {
    const payload = await body(req);
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    // Sends the request upstream and hands its answer to `onAnswer`.
    const upstreamCall = (
      onAnswer: (answer: IncomingMessage) => void,
      reject: (e: Error) => void,
    ) => {
      const out = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          path: req.url,
          method: req.method,
          headers: req.headers,
        },
        onAnswer,
      );
      out.on('error', reject);
      out.end(payload);
    };
    const held: HeldRequest = {
      path,
      cookie: req.headers.cookie ?? '',
      forward: () =>
        new Promise((resolve, reject) =>
          upstreamCall((answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
            answer.on('end', () => resolve(answer.statusCode ?? 502));
          }, reject),
        ),
      forwardHeaders: () =>
        new Promise((resolve, reject) =>
          upstreamCall(async (answer) => {
            const rest = await body(answer);
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            res.flushHeaders();
            resolve({
              status: answer.statusCode ?? 502,
              finish: () => new Promise<void>((done) => res.end(rest, () => done())),
            });
          }, reject),
        ),
    };
    if (holding && holding.path === path) {
      const h = holding;
      h.list.push(held);
      if (h.list.length === h.count) {
        holding = null;
        h.done(h.list);
      }
      return;
    }
    held.forward().catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hold: (path, count) =>
      new Promise((done) => {
        holding = { path, count, list: [], done };
      }),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
