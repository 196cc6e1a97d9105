// Reads a user export: a JSON array of objects, or CSV (RFC 4180) with a header line. Each record
// keeps where it came from ("line 7", "item 3") for the report of rejected rows.
import { readFile } from 'node:fs/promises';
import type { ImportRecord } from '../auth/accounts/index.ts';

export async function readImportFile(path: string): Promise<ImportRecord[]> {
  const text = (await readFile(path, 'utf8')).replace(/^\uFEFF/, '');
  const first = text.trimStart()[0];
  if (first === '[' || first === '{') return fromJson(text);
  return fromCsv(text);
}

function fromJson(text: string): ImportRecord[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new Error(`the file is not valid JSON: ${(error as Error).message}`);
  }
  // fastapi-users and Django dumps may wrap the list; a bare array is the common case.
  if (data !== null && typeof data === 'object' && !Array.isArray(data)) {
    const list = Object.values(data).find(Array.isArray);
    if (list === undefined) throw new Error('the JSON file holds no array of users');
    data = list;
  }
  return (data as unknown[]).map((item, i) => ({
    where: `item ${i + 1}`,
    fields:
      item !== null && typeof item === 'object' && !Array.isArray(item)
        ? (item as Record<string, unknown>)
        : {},
  }));
}

/** CSV rows with the line each starts on; quoted fields may hold commas, quotes and newlines. */
export function parseCsv(text: string): Array<{ line: number; cells: string[] }> {
  const rows: Array<{ line: number; cells: string[] }> = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  let i = 0;
  const endRow = (): void => {
    cells.push(cell);
    // A blank line is no record.
    if (cells.length > 1 || cells[0] !== '') rows.push({ line: start, cells });
    cells = [];
    cell = '';
  };
  while (i < text.length) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 2;
        continue;
      }
      if (ch === '"') quoted = false;
      else {
        if (ch === '\n') line += 1;
        cell += ch;
      }
      i += 1;
      continue;
    }
    if (ch === '"' && cell === '') quoted = true;
    else if (ch === ',') {
      cells.push(cell);
      cell = '';
    } else if (ch === '\n' || ch === '\r') {
      endRow();
      if (ch === '\r' && text[i + 1] === '\n') i += 1;
      line += 1;
      start = line;
    } else cell += ch;
    i += 1;
  }
  if (quoted) throw new Error(`line ${start}: a quoted field is not closed`);
  if (cell !== '' || cells.length > 0) endRow();
  return rows;
}

function fromCsv(text: string): ImportRecord[] {
  const [header, ...rows] = parseCsv(text);
  if (!header) throw new Error('the CSV file is empty (a header line is needed)');
  const names = header.cells.map((n) => n.trim().toLowerCase());
  return rows.map(({ line, cells }) => {
    const fields: Record<string, unknown> = {};
    names.forEach((name, i) => {
      if (name !== '') fields[name] = cells[i] ?? '';
    });
    if (cells.length !== names.length) fields.__cells = cells.length;
    return { where: `line ${line}`, fields };
  });
}
