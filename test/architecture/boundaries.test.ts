// The import boundaries of src/ (docs/architecture.md): who may import whom. Read from the source
// text, so a boundary crossed by a new import fails here, with the file and the import named.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = join(import.meta.dirname, '..', '..');
const SRC = join(ROOT, 'src');

interface Import {
  from: string; // importing file, relative to the repository
  to: string; // imported file, relative to the repository
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

// Static imports and re-exports (type-only ones too) and dynamic import() of a literal path.
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.[^'"]+)['"]/gm;

function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(SPECIFIER)].map((m) => ({
    from: relative(ROOT, file),
    to: relative(ROOT, normalize(join(dirname(file), m[1] as string))),
  }));
}

const IMPORTS = sourceFiles(SRC).flatMap(importsOf);

const under = (path: string, folder: string): boolean => path.startsWith(`${folder}/`);
const crossing = (rule: (i: Import) => boolean): string[] =>
  IMPORTS.filter(rule).map((i) => `${i.from} imports ${i.to}`);

/** The feature folders of src/auth, and the other folders whose inside is private. */
const FEATURES = readdirSync(join(SRC, 'auth'), { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => `src/auth/${e.name}`);
const PRIVATE_INSIDE = [...FEATURES, 'src/app'];

describe('import boundaries of src/', () => {
  it('reads the imports it checks (the scanner sees the composition root and the feature faces)', () => {
    assert.ok(IMPORTS.some((i) => i.from === 'src/server/app.ts' && i.to === 'src/app/index.ts'));
    assert.ok(
      IMPORTS.some((i) => under(i.from, 'src/server/routes') && i.to.endsWith('/index.ts')),
    );
    assert.ok(FEATURES.length >= 6, `feature folders: ${FEATURES.join(', ')}`);
  });

  it('routes do not reach past the rules: no import of store/ or tokens/', () => {
    assert.deepEqual(
      crossing((i) => under(i.from, 'src/server/routes') && /^src\/(store|tokens)\//.test(i.to)),
      [],
    );
  });

  it('the guard ships alone: it imports nothing of the server, the rules, the store, kv or app', () => {
    assert.deepEqual(
      crossing(
        (i) => under(i.from, 'src/guard') && /^src\/(server|auth|store|kv|app|cli)\//.test(i.to),
      ),
      [],
    );
  });

  it("a folder's private files are imported only from inside it (others use its index.ts)", () => {
    assert.deepEqual(
      crossing((i) =>
        PRIVATE_INSIDE.some(
          (folder) =>
            under(i.to, folder) && !under(i.from, folder) && i.to !== `${folder}/index.ts`,
        ),
      ),
      [],
    );
  });

  it('the rules do not know who calls them: auth/ imports neither server/, cli/ nor app/', () => {
    assert.deepEqual(
      crossing((i) => under(i.from, 'src/auth') && /^src\/(server|cli|app)\//.test(i.to)),
      [],
    );
  });

  it('storage and tokens stay below the rules: store/, kv/, tokens/ import no auth/, server/ or app/', () => {
    assert.deepEqual(
      crossing(
        (i) =>
          /^src\/(store|kv|tokens|crypto|config|errors|mail)\//.test(i.from) &&
          /^src\/(auth|server|app|cli)\//.test(i.to),
      ),
      [],
    );
  });

  it('the feature folders of auth/ import each other without a circle', () => {
    const folderOf = (path: string): string | undefined =>
      FEATURES.find((folder) => under(path, folder));
    const edges = new Map<string, Set<string>>();
    for (const i of IMPORTS) {
      const a = folderOf(i.from);
      const b = folderOf(i.to);
      if (a && b && a !== b) edges.set(a, (edges.get(a) ?? new Set()).add(b));
    }
    const circles: string[] = [];
    const visit = (node: string, path: string[]): void => {
      if (path.includes(node)) {
        circles.push([...path.slice(path.indexOf(node)), node].join(' -> '));
        return;
      }
      for (const next of edges.get(node) ?? []) visit(next, [...path, node]);
    };
    for (const folder of FEATURES) visit(folder, []);
    assert.deepEqual(circles, []);
  });
});
