// The targets of issue 5, as ratios of rows measured in the same run.
import type { Row } from './measure.ts';

export interface Check {
  name: string;
  measured: number;
  op: '≥' | '≤';
  target: number;
  unit: '×' | 'MiB';
  met: boolean;
  /** Rows it was computed from. */
  from: string[];
}

function check(
  name: string,
  measured: number | undefined,
  op: Check['op'],
  target: number,
  from: string[],
  unit: Check['unit'] = '×',
): Check | undefined {
  if (measured === undefined || !Number.isFinite(measured)) return undefined;
  const met = op === '≥' ? measured >= target : measured <= target;
  return { name, measured, op, target, unit, met, from };
}

export function evaluate(rows: readonly Row[]): Check[] {
  const by = new Map(rows.map((r) => [r.id, r]));
  const rps = (id: string): number | undefined => by.get(id)?.rps;
  const ratio = (a: string, b: string): number | undefined => {
    const x = rps(a);
    const y = rps(b);
    return x === undefined || y === undefined || y === 0 ? undefined : x / y;
  };
  const checks: Array<Check | undefined> = [];
  for (const db of ['sqlite', 'postgres'] as const) {
    const v = `${db}/verify`;
    const fjwt = 'baseline/fastify-jwt-es256';
    const argon = 'baseline/argon2id';
    checks.push(
      check(`${db}: verify ≥ 0.75 × floor`, ratio(v, `${db}/floor`), '≥', 0.75, [v, `${db}/floor`]),
      check(`${db}: verify ≥ 3 × Fastify + @fastify/jwt ES256`, ratio(v, fjwt), '≥', 3, [v, fjwt]),
      check(`${db}: login ≥ 0.9 × argon2id only`, ratio(`${db}/login`, argon), '≥', 0.9, [
        `${db}/login`,
        argon,
      ]),
      check(`${db}: register ≥ 0.9 × argon2id only`, ratio(`${db}/register`, argon), '≥', 0.9, [
        `${db}/register`,
        argon,
      ]),
    );
    const idle = by.get(`${db}/verify-idle`)?.p99Ms;
    const storm = by.get(`${db}/verify-storm`)?.p99Ms;
    checks.push(
      check(
        `${db}: verify p99 in a login storm ≤ 3 × idle p99`,
        idle && storm !== undefined ? storm / idle : undefined,
        '≤',
        3,
        [`${db}/verify-idle`, `${db}/verify-storm`],
      ),
      check(`${db}: peak RSS during verify ≤ 150 MiB`, by.get(v)?.peakRssMiB, '≤', 150, [v], 'MiB'),
    );
  }
  checks.push(
    check(
      'sqlite: refresh with rotation ≥ 0.25 × floor',
      ratio('sqlite/refresh', 'sqlite/floor'),
      '≥',
      0.25,
      ['sqlite/refresh', 'sqlite/floor'],
    ),
    check(
      'serve --workers 2 ≥ 1.6 × one worker (2 cores, generator sharing them)',
      ratio('cluster/workers-2', 'cluster/workers-1'),
      '≥',
      1.6,
      ['cluster/workers-2', 'cluster/workers-1'],
    ),
  );
  return checks.filter((c): c is Check => c !== undefined);
}
