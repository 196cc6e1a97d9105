// The soak: the mixed scenario (bench/wrk/mixed.lua: 87.5% verify, 10% refresh, 2% login, 0.5%
// register) against one `portcullis serve` for ten minutes, the server's memory and event-loop lag
// sampled every 10 s. It passes when memory is flat (the last minute's mean RSS within 10 % of the
// third minute's: a leak grows, a warm-up does not) and no request failed. Not part of `npm test`.
//
//   node bench/soak.ts [--minutes 10] [--db sqlite|postgres] [--connections 32] [--out bench/soak]
//
// Writes OUT.json (the samples) and OUT.svg (the chart); exits 1 when it fails. --db postgres takes
// PORTCULLIS_BENCH_PG_URL (or starts a private cluster, as `npm run bench` does).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runLoad } from './lib/generator.ts';
import { startPostgres } from './lib/postgres.ts';
import { accessTokens, linesFile, loginBodies, logins, registerUsers } from './lib/seed.ts';
import { ROOT, startPortcullis } from './lib/servers.ts';
import { hasCommand, processTree, rssMiB } from './lib/system.ts';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    db: { type: 'string', default: 'sqlite' },
    connections: { type: 'string', default: '32' },
    out: { type: 'string', default: join(ROOT, 'bench', 'soak') },
  },
});
const minutes = Number(values.minutes);
const connections = Number(values.connections);
if (!(minutes >= 1 && minutes <= 240)) throw new Error('--minutes: 1 to 240');
if (values.db !== 'sqlite' && values.db !== 'postgres') throw new Error('--db: sqlite or postgres');
const out = resolve(values.out);
const SAMPLE_MS = 10_000;
const generator = hasCommand('wrk') ? 'wrk' : 'autocannon';
// Server on core 0, generator on core 1 (as `npm run bench`), when there are two.
const pinned = hasCommand('taskset');

interface Sample {
  /** Seconds since the load started. */
  t: number;
  rssMiB: number;
  heapUsedMiB: number;
  lagP50Ms: number;
  lagP99Ms: number;
  lagMaxMs: number;
  /** Requests the server answered in the 10 s before this sample, per second. */
  rps: number;
  /** Answers ≥ 500 in those 10 s. */
  errors5xx: number;
}

const dir = mkdtempSync(join(tmpdir(), 'portcullis-soak-'));
// PostgreSQL on the generator's core, as `npm run bench` places it.
const pg = values.db === 'postgres' ? await startPostgres(pinned ? '1' : undefined) : undefined;
const server = await startPortcullis({
  name: 'portcullis',
  cpus: pinned ? '0' : undefined,
  ...(pg ? { databaseUrl: await pg.createDatabase() } : {}),
});
const log = (message: string): void => console.error(`soak: ${message}`);

/** One scrape of the server's own /metrics (loopback may read it): the figures a sample needs. */
async function scrape(): Promise<Map<string, number>> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const figures = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(\w+)(\{[^}]*\})? ([-+\d.eE]+|NaN)$/.exec(line);
    if (!m) continue;
    const [, name, labels = '', value] = m;
    if (name === 'portcullis_http_requests_total') {
      const status = /status="(\d)/.exec(labels)?.[1];
      const key = status === '5' ? 'requests_5xx' : 'requests';
      figures.set(key, (figures.get(key) ?? 0) + Number(value));
      if (status === '5') figures.set('requests', (figures.get('requests') ?? 0) + Number(value));
    } else if (labels === '' || name === 'nodejs_heap_space_size_used_bytes') {
      figures.set(name as string, (figures.get(name as string) ?? 0) + Number(value));
    }
  }
  return figures;
}

try {
  log(`seeding (${values.db}, generator ${generator})`);
  const users = await registerUsers(server.url, 's', 64);
  const sessions = await logins(server.url, users, users.length);
  const tokens = linesFile(dir, 'tokens.txt', await accessTokens(server.url, sessions, 2048));
  const bodies = linesFile(dir, 'bodies.txt', loginBodies(users));
  const refresh = linesFile(
    dir,
    'refresh.txt',
    (await logins(server.url, users, 64)).map((p) => p.refresh_token),
  );

  const seconds = minutes * 60;
  log(`${minutes} min of the mixed scenario, ${connections} connections`);
  const samples: Sample[] = [];
  const started = performance.now();
  let last = await scrape();
  const timer = setInterval(() => {
    void (async () => {
      const now = await scrape();
      const delta = (key: string): number => (now.get(key) ?? 0) - (last.get(key) ?? 0);
      const rss = processTree(server.pid).reduce((sum, pid) => sum + rssMiB(pid), 0);
      const ms = (key: string): number => (now.get(key) ?? 0) * 1000;
      const sample: Sample = {
        t: Math.round((performance.now() - started) / 1000),
        rssMiB: rss,
        heapUsedMiB: (now.get('nodejs_heap_size_used_bytes') ?? 0) / 2 ** 20,
        // prom-client resets its event-loop histogram at each scrape: these are the last 10 s.
        lagP50Ms: ms('nodejs_eventloop_lag_p50_seconds'),
        lagP99Ms: ms('nodejs_eventloop_lag_p99_seconds'),
        lagMaxMs: ms('nodejs_eventloop_lag_max_seconds'),
        rps: delta('requests') / (SAMPLE_MS / 1000),
        errors5xx: delta('requests_5xx'),
      };
      last = now;
      samples.push(sample);
      log(
        `t=${sample.t}s rss=${sample.rssMiB.toFixed(1)} MiB lag p99=${sample.lagP99Ms.toFixed(1)} ms ${sample.rps.toFixed(0)} req/s`,
      );
    })().catch((error: unknown) => log(`sample failed: ${String(error)}`));
  }, SAMPLE_MS);
  const load = await runLoad(generator, {
    url: server.url,
    script: 'mixed',
    connections,
    seconds,
    params: { tokens, bodies, refresh, prefix: 'sx' },
    cpus: pinned ? '1' : undefined,
  });
  clearInterval(timer);

  // The verdict: the third minute (after warm-up) against the last one.
  const mean = (from: number, to: number): number => {
    const window = samples.filter((s) => s.t > from && s.t <= to);
    return window.reduce((sum, s) => sum + s.rssMiB, 0) / Math.max(1, window.length);
  };
  const end = samples.at(-1)?.t ?? 0;
  const third = mean(120, 180);
  const lastMinute = mean(end - 60, end);
  const growth = third > 0 ? lastMinute / third - 1 : Number.NaN;
  const flat = minutes >= 4 ? Math.abs(growth) <= 0.1 : null;
  const failed = load.errors;
  const pass = flat !== false && failed === 0;

  console.log(
    '\n|   t (s) | RSS (MiB) | heap used (MiB) | lag p50 (ms) | lag p99 (ms) | lag max (ms) | req/s |',
  );
  console.log(
    '|--------:|----------:|----------------:|-------------:|-------------:|-------------:|------:|',
  );
  for (const s of samples) {
    console.log(
      `| ${String(s.t).padStart(7)} | ${s.rssMiB.toFixed(1).padStart(9)} | ${s.heapUsedMiB.toFixed(1).padStart(15)} | ${s.lagP50Ms.toFixed(1).padStart(12)} | ${s.lagP99Ms.toFixed(1).padStart(12)} | ${s.lagMaxMs.toFixed(1).padStart(12)} | ${s.rps.toFixed(0).padStart(5)} |`,
    );
  }
  const summary = {
    db: values.db,
    generator,
    connections,
    minutes,
    requests: load.requests,
    rps: load.rps,
    p99Ms: load.p99Ms,
    failed,
    thirdMinuteRssMiB: third,
    lastMinuteRssMiB: lastMinute,
    rssGrowth: growth,
    flat,
    pass,
  };
  console.log(
    `\n${load.requests} requests (${load.rps.toFixed(0)} req/s, p99 ${load.p99Ms.toFixed(1)} ms), ${failed} failed; ` +
      `RSS ${third.toFixed(1)} MiB in the third minute, ${lastMinute.toFixed(1)} MiB in the last ` +
      `(${(growth * 100).toFixed(1)} %): ${pass ? 'PASS' : 'FAIL'}${flat === null ? ' (too short for the memory verdict)' : ''}`,
  );
  writeFileSync(`${out}.json`, `${JSON.stringify({ summary, samples }, null, 2)}\n`);
  writeFileSync(`${out}.svg`, chart(samples, summary));
  log(`wrote ${out}.json and ${out}.svg`);
  process.exitCode = pass ? 0 : 1;
} finally {
  await server.stop();
  server.removeDataDir();
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
}

function xml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Two panels over time: RSS (with the two verdict windows shaded) and event-loop lag p99. */
function chart(
  samples: Sample[],
  summary: { rssGrowth: number; pass: boolean; db: string },
): string {
  const W = 900;
  const H = 200;
  const left = 70;
  const right = 20;
  const end = Math.max(60, samples.at(-1)?.t ?? 60);
  const x = (t: number): number => left + ((W - left - right) * t) / end;
  const panel = (
    top: number,
    title: string,
    unit: string,
    values: Array<[number, number]>,
    colour: string,
    shade: boolean,
  ): string => {
    const max = Math.max(1, ...values.map(([, v]) => v)) * 1.15;
    const y = (v: number): number => top + H - (H * v) / max;
    const parts = [`<text x="12" y="${top - 8}" class="title">${title}</text>`];
    if (shade) {
      for (const [from, to] of [
        [120, 180],
        [end - 60, end],
      ] as const) {
        parts.push(
          `<rect x="${x(from).toFixed(1)}" y="${top}" width="${(x(to) - x(from)).toFixed(1)}" height="${H}" fill="#e8f0fe"/>`,
        );
      }
    }
    for (let k = 0; k <= 4; k++) {
      const v = (max * k) / 4;
      parts.push(
        `<line x1="${left}" x2="${W - right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e0e0e0"/>`,
        `<text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${v.toFixed(v < 10 ? 1 : 0)}${unit}</text>`,
      );
    }
    for (let m = 0; m <= end / 60; m++) {
      parts.push(
        `<text x="${x(m * 60).toFixed(1)}" y="${top + H + 16}" text-anchor="middle">${m} min</text>`,
      );
    }
    const points = values.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    parts.push(`<polyline points="${points}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    return parts.join('\n');
  };
  const verdict = `${summary.pass ? 'pass' : 'fail'}: last-minute RSS ${(summary.rssGrowth * 100).toFixed(1)} % from the third minute's`;
  const body = [
    panel(
      40,
      `Soak, mixed scenario on ${summary.db === 'postgres' ? 'PostgreSQL' : 'SQLite'}: server RSS (${verdict})`,
      ' MiB',
      samples.map((s) => [s.t, s.rssMiB]),
      '#1a73e8',
      true,
    ),
    panel(
      40 + H + 70,
      'Event-loop lag p99 per 10 s',
      ' ms',
      samples.map((s) => [s.t, s.lagP99Ms]),
      '#12a4af',
      false,
    ),
  ];
  const height = 40 + 2 * (H + 70);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="system-ui, sans-serif" font-size="12" fill="#202124">
<title>Soak: server RSS and event-loop lag p99 over time (${xml(verdict)})</title>
<style>.title { font-weight: 600; font-size: 14px; }</style>
<rect width="100%" height="100%" fill="#fff"/>
${body.join('\n')}
</svg>
`;
}
