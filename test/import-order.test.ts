// The one-way order of src/'s folders (docs/developing.md, "How the pack is built"): every import of
// the pack's own code, listed and resolved to its folder, goes down the order, never up or around.
// eslint.config.mjs says the same per folder, so an editor shows it as it is typed; this test also
// catches what the linter cannot see (require() calls, processors and the plugin, bench/).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = join(__dirname, '..');
/** The order as the lint rule has it (eslint.config.mjs is an ES module; its list is plain data). */
const IMPORT_ORDER: string[] = JSON.parse(
  /export const IMPORT_ORDER = (\[[^\]]*\])/.exec(readFileSync(join(ROOT, 'eslint.config.mjs'), 'utf8'))![1].replace(/'/g, '"'),
);

function files(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? files(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : [],
  );
}

/** The folder of src/ a file belongs to; the processors and the plugin sit with src/artillery/. */
function folderOf(file: string): string | undefined {
  const parts = file.split(/[\\/]/);
  if (parts[0] === 'src') return parts[1];
  if (parts[0] === 'processors' || parts[0] === 'plugins') return 'artillery';
  return undefined;
}

const imports = (text: string) => [...text.matchAll(/(?:from|import\(|require\()\s*'(\.[^']+)'/g)].map((m) => m[1]);

test('every import between the folders of src/ goes down the order, and the order names every folder', () => {
  const folders = readdirSync(join(ROOT, 'src'), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name);
  assert.deepEqual([...folders].sort(), [...IMPORT_ORDER].sort(), 'IMPORT_ORDER in eslint.config.mjs lists each folder of src/ once');
  const against: string[] = [];
  let crossing = 0;
  for (const file of [...files('src'), ...files('processors'), ...files('plugins')]) {
    const from = folderOf(file)!;
    for (const spec of imports(readFileSync(join(ROOT, file), 'utf8'))) {
      const to = folderOf(relative(ROOT, resolve(ROOT, dirname(file), spec)));
      if (to === undefined || to === from) continue;
      crossing++;
      if (IMPORT_ORDER.indexOf(to) <= IMPORT_ORDER.indexOf(from)) against.push(`${file} imports ${spec} (${from} may not import ${to})`);
    }
  }
  assert.ok(crossing > 100, `the imports between folders were found (${crossing})`);
  assert.deepEqual(against, []);
});

test('docs/developing.md states the same order', () => {
  const docs = readFileSync(join(ROOT, 'docs', 'developing.md'), 'utf8');
  assert.ok(docs.includes(`So the order is ${IMPORT_ORDER.map((f) => `\`${f}\``).join(' → ')}.`), 'the order sentence in "How the pack is built"');
});
