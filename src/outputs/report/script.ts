// The report's inline script: client.ts compiled to plain JavaScript, and the CSP source that
// allows exactly that text (its SHA-256), so the page runs its own script and nothing else.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const cached = new Map<string, string>();

/** The compiled client script. */
export const clientScript = (): string => inlineScript(join(__dirname, 'client'));

/** A browser script of the pack (`<base>.ts`, no import/export), compiled, ready to inline. */
export function inlineScript(base: string): string {
  const hit = cached.get(base);
  if (hit !== undefined) return hit;
  let text: string;
  // Run from .build/ (bin/pack.js), the compiled copy sits next to this file; under ts-node only
  // the source does, and TypeScript is loaded already.
  if (existsSync(`${base}.js`)) {
    text = readFileSync(`${base}.js`, 'utf8');
  } else {
    const ts = require('typescript') as typeof import('typescript');
    text = ts.transpileModule(readFileSync(`${base}.ts`, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
      fileName: basename(`${base}.ts`),
    }).outputText;
  }
  text = text.trim();
  // Inlined in <script>: its text must not end the element early.
  if (/<\/script/i.test(text)) throw new Error(`${basename(base)}.ts must not contain "</script"; split the string`);
  cached.set(base, text);
  return text;
}

/** The CSP source for an inline script: 'sha256-<base64>' of its exact text. */
export const cspHash = (script: string): string => `'sha256-${createHash('sha256').update(script, 'utf8').digest('base64')}'`;
