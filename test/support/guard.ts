// A resource server in another process, guarded by Portcullis's guard with revocation awareness
// through Redis (test/fixtures/guard-process.ts): it answers 200 with the token's subject, or the
// guard's status.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './process.ts';

export interface GuardProcess {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export interface GuardSettings {
  issuer: string;
  /** Portcullis's base URL: the guard reads its JWKS there. */
  server: string;
  redisUrl: string;
  redisPrefix: string;
}

export async function startGuard(settings: GuardSettings): Promise<GuardProcess> {
  const child = spawn(process.execPath, [join(ROOT, 'test', 'fixtures', 'guard-process.ts')], {
    env: {
      ...process.env,
      GUARD_ISSUER: settings.issuer,
      GUARD_JWKS: `${settings.server}/.well-known/jwks.json`,
      GUARD_REDIS_URL: settings.redisUrl,
      GUARD_REDIS_PREFIX: settings.redisPrefix,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening (\d+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`guard exited with ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}
