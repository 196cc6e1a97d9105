// Reads that join tables: every column prefixed with its table's alias, so that none hides another
// in the joined row, and taken apart again into one row per table.

/** `t.a as t_a, t.b as t_b, …` */
export function selectList(alias: string, columns: readonly string[]): string {
  return columns.map((c) => `${alias}.${c} as ${alias}_${c}`).join(', ');
}

/** The columns of one alias, without the prefix. */
export function unprefixed<T>(
  row: Record<string, unknown>,
  alias: string,
  columns: readonly string[],
): T {
  const out: Record<string, unknown> = {};
  for (const c of columns) out[c] = row[`${alias}_${c}`];
  return out as T;
}
