// The report's inline script: client.ts compiled to plain JavaScript, and the CSP source that
// allows exactly that text (its SHA-256), so the page runs its own script and nothing else.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

let cached: string | undefined;

/** The compiled client script. */
export function clientScript(): string {
  if (cached !== undefined) return cached;
  // Run from .build/ (bin/pack.js), the compiled copy sits next to this file; under ts-node only
  // the source does, and TypeScript is loaded already.
  const compiled = join(__dirname, 'client.js');
  if (existsSync(compiled)) {
    cached = readFileSync(compiled, 'utf8');
  } else {
    const ts = require('typescript') as typeof import('typescript');
    cached = ts.transpileModule(readFileSync(join(__dirname, 'client.ts'), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
      fileName: 'client.ts',
    }).outputText;
  }
  cached = cached.trim();
  // Inlined in <script>: its text must not end the element early.
  if (/<\/script/i.test(cached)) throw new Error('client.ts must not contain "</script"; split the string');
  return cached;
}

/** The CSP source for an inline script: 'sha256-<base64>' of its exact text. */
export const cspHash = (script: string): string => `'sha256-${createHash('sha256').update(script, 'utf8').digest('base64')}'`;
