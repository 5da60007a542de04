// Compiles the code Artillery loads (processors, the plugin and what they import) to CommonJS in
// .build/, so Artillery starts on plain JavaScript: no bundling at start, same code as type-checked.
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';
import { ROOT } from './config';

export const BUILD_DIR = join(ROOT, '.build');
const SOURCES = ['processors', 'plugins', 'src'];

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'dist' ? [] : tsFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Transpiles changed files only; returns the number compiled. */
export function buildForArtillery(): number {
  let compiled = 0;
  for (const source of SOURCES.flatMap((dir) => tsFiles(join(ROOT, dir)))) {
    const target = join(BUILD_DIR, relative(ROOT, source)).replace(/\.ts$/, '.js');
    const upToDate = (() => {
      try {
        return statSync(target).mtimeMs >= statSync(source).mtimeMs;
      } catch {
        return false;
      }
    })();
    if (upToDate) continue;
    const { outputText } = ts.transpileModule(readFileSync(source, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      fileName: source,
    });
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, outputText);
    compiled++;
  }
  return compiled;
}

export const builtProcessor = () => join(BUILD_DIR, 'processors', 'journey.js');
export const builtPluginsDir = () => join(BUILD_DIR, 'plugins');
