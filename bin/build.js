// The pack's build: TypeScript sources transpiled into .build/, each file only when it changed. Used
// by the launcher (bin/pack.js), the tests' loader (bin/register.js) and the plugin's loader, which
// needs only this, not the launcher. TypeScript itself is loaded only when a file needs compiling.
'use strict';
const { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } = require('node:fs');
const { dirname, join, relative } = require('node:path');

const ROOT = join(__dirname, '..');
const BUILD = join(ROOT, '.build');
const SOURCES = ['src', 'processors', 'plugins'];

function tsFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'dist' ? [] : tsFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

const mtime = (file) => {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return -1;
  }
};

let compiled = 0;

/** Transpiles one source into .build/ when its compiled copy is older; returns the compiled copy's path. */
function compileFile(source) {
  const target = join(BUILD, relative(ROOT, source)).replace(/\.ts$/, '.js');
  if (mtime(target) >= mtime(source)) return target;
  const ts = require('typescript');
  const { outputText } = ts.transpileModule(readFileSync(source, 'utf8'), {
    // The tests' own files carry a source map, so a failing test names its line in the .ts file.
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      esModuleInterop: true,
      inlineSourceMap: relative(ROOT, source).startsWith('test'),
    },
    fileName: source,
  });
  mkdirSync(dirname(target), { recursive: true });
  // Written aside, then renamed: another process starting at the same moment never reads half a file.
  const aside = `${target}.${process.pid}-${require('node:worker_threads').threadId}.tmp`;
  writeFileSync(aside, outputText);
  renameSync(aside, target);
  compiled++;
  return target;
}

/** Transpiles the sources in `dirs` that are newer than their compiled copy; returns how many. */
function build(dirs = SOURCES) {
  const before = compiled;
  for (const source of dirs.flatMap((dir) => tsFiles(join(ROOT, dir)))) compileFile(source);
  return compiled - before;
}

/** Where Node keeps compiled code between runs (the pack's and its Artillery child's). */
const COMPILE_CACHE = join(BUILD, 'compile-cache');

module.exports = { build, compileFile, BUILD, COMPILE_CACHE, ROOT, SOURCES };
