// The results: one JSON file (the source of the table and the chart), and the same as Markdown.
import type { Row } from './measure.ts';
import type { Machine } from './system.ts';
import type { Check } from './targets.ts';

export interface Results {
  version: 1;
  when: string;
  mode: 'full' | 'smoke';
  command: string;
  machine: Machine;
  loadAtEnd: number[];
  generator: string;
  placement: string;
  postgres: string | null;
  seconds: number;
  warmupSeconds: number;
  elapsedSeconds: number;
  rows: Row[];
  checks: Check[];
}

/** JSON as the formatter (Biome) writes it: two spaces, short arrays of plain values on one line. */
export function formatJson(value: unknown): string {
  const text = JSON.stringify(value, null, 2);
  return `${text.replace(
    /^(.*)\[\n((?:[ ]+[^[\]{}\n]+\n)+?)[ ]*\](,?)$/gm,
    (whole, prefix: string, items: string, comma: string) => {
      const one = `${prefix}[${items
        .trim()
        .split(/,\n\s*/)
        .join(', ')}]${comma}`;
      return one.length <= 100 ? one : whole;
    },
  )}\n`;
}

const GROUPS: Array<[string, (r: Row) => boolean]> = [
  ['Baselines', (r) => r.id.startsWith('baseline/')],
  ['Portcullis on SQLite', (r) => r.db === 'sqlite'],
  ['Portcullis on PostgreSQL', (r) => r.db === 'postgres'],
  ['Cluster (SQLite, two cores shared with the generator)', (r) => r.id.startsWith('cluster/')],
  [
    'In process (verify alone, no HTTP; req/s = verifications/s)',
    (r) => r.id.startsWith('inprocess/'),
  ],
];

const n0 = (x: number): string => x.toFixed(0);
const ms = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

export function rowsTable(rows: readonly Row[]): string {
  const out = [
    '| scenario | conns | req/s | p50 ms | p99 ms | errors | peak RSS MiB | server CPU | CPU µs/req | generator CPU |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const [title, test] of GROUPS) {
    const group = rows.filter(test);
    if (group.length === 0) continue;
    out.push(`| **${title}** | | | | | | | | | |`);
    for (const r of group) {
      out.push(
        `| ${r.label} | ${r.connections} | ${n0(r.rps)} | ${ms(r.p50Ms)} | ${ms(r.p99Ms)} | ${r.errors} | ${n0(r.peakRssMiB)} | ${n0(r.serverCpuPct)}% | ${n0(r.cpuUsPerRequest)} | ${n0(r.generatorCpuPct)}% |`,
      );
    }
  }
  return out.join('\n');
}

export function checksTable(checks: readonly Check[]): string {
  const out = [
    '| target | req/s ratio | by CPU cost | needed | decided by | result |',
    '|---|--:|--:|--:|---|---|',
  ];
  for (const c of checks) {
    const value = c.unit === '×' ? `${c.measured.toFixed(2)}×` : `${c.measured.toFixed(0)} MiB`;
    const cpu = c.byCpu === undefined ? '' : `${c.byCpu.toFixed(2)}×`;
    // At most two decimals: a target of 1/1.5 reads 0.67.
    const target = Number(c.target.toFixed(2));
    const needed = c.unit === '×' ? `${c.op} ${target}×` : `${c.op} ${target} MiB`;
    out.push(
      `| ${c.name} | ${value} | ${cpu} | ${needed} | ${c.basis} | ${c.met ? 'met' : '**missed**'} |`,
    );
  }
  return out.join('\n');
}

export function markdown(results: Results): string {
  const m = results.machine;
  const quiet = Math.max(...m.loadAtStart.slice(0, 1), ...results.loadAtEnd.slice(0, 1)) < 0.5;
  return [
    `Run ${results.when} (${results.mode}, ${results.elapsedSeconds.toFixed(0)} s): \`${results.command}\``,
    '',
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Linux ${m.kernel}, Node ${m.node}. ` +
      `Load average at start ${m.loadAtStart.join(' / ')}, at end ${results.loadAtEnd.join(' / ')}` +
      (quiet ? ' (quiet).' : ' — **the machine was busy: absolute figures are low and noisy**.'),
    `Generator: ${results.generator}. Placement: ${results.placement}.` +
      (results.postgres ? ` PostgreSQL: ${results.postgres}.` : ''),
    `Each row: ${results.warmupSeconds} s warm-up (where marked in bench/lib/scenarios.ts), then ${results.seconds} s measured.`,
    '',
    rowsTable(results.rows),
    '',
    checksTable(results.checks),
  ].join('\n');
}
