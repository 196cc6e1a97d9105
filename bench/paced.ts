// Main-thread CPU per login at a fixed request rate: the evidence that a login's bookkeeping costs
// more per request at 60 logins a second than at 400 (bench/README.md, closing notes). The server
// is pinned like the bench's; the logins are paced, not saturating.
//
//   node bench/paced.ts --rate 60                      # real argon2id parameters
//   node bench/paced.ts --rate 400 --cheap-hash        # m=1 MiB, t=1 (NODE_ENV=test), so 400/s fit
import { parseArgs } from 'node:util';
import { settle } from './lib/measure.ts';
import { registerUsers } from './lib/seed.ts';
import { startPortcullis } from './lib/servers.ts';
import { hasCommand, threadCpuMs } from './lib/system.ts';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '60' },
    seconds: { type: 'string', default: '8' },
    'cheap-hash': { type: 'boolean', default: false },
  },
});
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const env: Record<string, string> = values['cheap-hash']
  ? { NODE_ENV: 'test', PASSWORD_HASH_MEMORY_KIB: '1024', PASSWORD_HASH_TIME_COST: '1' }
  : {};
const pinned = hasCommand('taskset');
const server = await startPortcullis({
  name: 'portcullis (paced)',
  cpus: pinned ? '0' : undefined,
  env,
});

const mainThreadMs = (pid: number): number => threadCpuMs(pid).get('main thread') ?? 0;

try {
  const users = await registerUsers(server.url, `pc${Date.now().toString(36).slice(-5)}`, 64);
  await settle(server.pid);
  const before = mainThreadMs(server.pid);
  const end = Date.now() + seconds * 1000;
  const inflight: Array<Promise<boolean>> = [];
  for (let i = 0; Date.now() < end; i++) {
    const user = users[i % users.length];
    if (!user) break;
    inflight.push(
      fetch(`${server.url}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          // Many clients behind the trusted proxy, as in the bench: per-address limits stay out.
          'x-forwarded-for': `10.1.${(i >> 8) & 255}.${i & 255}`,
        },
        body: new URLSearchParams({ username: user.username, password: user.password }),
      }).then(async (answer) => {
        await answer.arrayBuffer();
        return answer.ok;
      }),
    );
    await new Promise((r) => setTimeout(r, 1000 / rate));
  }
  const ok = (await Promise.all(inflight)).filter(Boolean).length;
  await settle(server.pid);
  const used = mainThreadMs(server.pid) - before;
  console.log(
    `${ok} of ${inflight.length} logins at ${rate}/s${values['cheap-hash'] ? ' (cheap hash)' : ''}: ` +
      `${((used * 1000) / Math.max(1, ok)).toFixed(0)} µs of main-thread CPU each`,
  );
} finally {
  await server.stop();
  server.removeDataDir();
}
