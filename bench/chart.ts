// Draws bench/chart.svg from a results file: two panels of horizontal bars, the cheap requests and
// the password work, each on its own linear scale. No library. A bar is what one core serves,
// 1 / (server CPU per request): the same as requests per second when the server had its whole core,
// and still the server's own figure when a busy machine gave it less (bench/lib/targets.ts).
//
//   node bench/chart.ts [bench/results/latest.json] [bench/chart.svg]
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Row } from './lib/measure.ts';
import type { Results } from './lib/report.ts';

const CHEAP = [
  'baseline/node-http',
  'sqlite/floor',
  'sqlite/verify',
  'postgres/floor',
  'postgres/verify',
  'sqlite/verify-nocache',
  'baseline/fastify-jwt-hs256',
  'baseline/fastify-jwt-es256',
  'sqlite/mixed',
  'postgres/mixed',
  'sqlite/refresh',
  'postgres/refresh',
  'sqlite/code',
  'postgres/code',
];
const HASHING = [
  'baseline/argon2id',
  'sqlite/login',
  'sqlite/register',
  'postgres/login',
  'postgres/register',
];

const COLOURS = { baseline: '#9aa0a6', sqlite: '#1a73e8', postgres: '#12a4af' };
const WIDTH = 900;
const LABEL = 330;
const BAR = 18;
const GAP = 8;

function xml(text: string): string {
  return text.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function name(row: Row): string {
  const db = row.db === 'sqlite' ? 'SQLite' : row.db === 'postgres' ? 'PostgreSQL' : '';
  const short = row.label.split(':')[0] ?? row.label;
  return row.db ? `Portcullis ${short} (${db})` : row.label;
}

/** Requests per second one core serves at this CPU cost per request. */
function perCore(row: Row): number {
  return row.cpuUsPerRequest > 0 ? 1e6 / row.cpuUsPerRequest : row.rps;
}

function panel(title: string, rows: Row[], top: number): { svg: string; height: number } {
  const max = Math.max(1, ...rows.map(perCore));
  const span = WIDTH - LABEL - 90;
  const parts = [`<text x="12" y="${top + 16}" class="title">${xml(title)}</text>`];
  rows.forEach((row, i) => {
    const y = top + 30 + i * (BAR + GAP);
    const w = Math.max(1, (perCore(row) / max) * span);
    const colour = row.db ? COLOURS[row.db] : COLOURS.baseline;
    parts.push(
      `<text x="${LABEL - 8}" y="${y + 13}" class="label">${xml(name(row))}</text>`,
      `<rect x="${LABEL}" y="${y}" width="${w.toFixed(1)}" height="${BAR}" fill="${colour}" rx="2"/>`,
      `<text x="${(LABEL + w + 6).toFixed(1)}" y="${y + 13}" class="value">${Math.round(perCore(row)).toLocaleString('en-US')}</text>`,
    );
  });
  return { svg: parts.join('\n'), height: 30 + rows.length * (BAR + GAP) + 10 };
}

export function renderChart(results: Results): string {
  const by = new Map(results.rows.map((r) => [r.id, r]));
  const pick = (ids: string[]): Row[] => ids.flatMap((id) => by.get(id) ?? []);
  const first = panel(
    'Cheap requests: requests per second one core serves (1 / server CPU per request)',
    pick(CHEAP),
    28,
  );
  const second = panel(
    'Password work (argon2id m=19 MiB, t=2): requests per second one core serves',
    pick(HASHING),
    28 + first.height + 10,
  );
  const height = 28 + first.height + 10 + second.height + 24;
  const busy = results.machine.loadAtStart[0] ?? 0;
  const footnote = `${results.machine.cpu}, Node ${results.machine.node}, ${results.generator}; ${results.when.slice(0, 10)}${busy >= 0.5 ? `; busy machine (load ${busy})` : ''}`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="Portcullis benchmark">`,
    '<style>text{font-family:system-ui,-apple-system,Segoe UI,sans-serif;fill:#202124}.title{font-size:15px;font-weight:600}.label{font-size:12px;text-anchor:end}.value{font-size:12px}.note{font-size:11px;fill:#5f6368}</style>',
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    `<text x="12" y="18" class="note">grey: baselines · blue: Portcullis on SQLite · teal: Portcullis on PostgreSQL</text>`,
    first.svg,
    second.svg,
    `<text x="12" y="${height - 8}" class="note">${xml(footnote)}</text>`,
    '</svg>',
    '',
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const input = process.argv[2] ?? fileURLToPath(new URL('./results/latest.json', import.meta.url));
  const output = process.argv[3] ?? fileURLToPath(new URL('./chart.svg', import.meta.url));
  writeFileSync(output, renderChart(JSON.parse(readFileSync(input, 'utf8')) as Results));
  console.log(`wrote ${output}`);
}
