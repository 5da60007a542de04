// The bundle of a distributed run: one folder that Artillery's runners (run-fargate, run-lambda)
// upload as it is, and that each worker runs with nothing to install:
//   script.yml     the run's script, with `processor: ./processor.js` and no plugin or bundling
//                  entry a worker would have to install;
//   processor.js   the processor and everything it imports (npm packages too) in one CommonJS
//                  file that needs only Node's built-ins;
//   package.json   no dependencies, and `type: commonjs`, so processor.js loads as CommonJS wherever
//                  the worker puts it;
//   secrets.env    Lambda only: the secrets, owner-only, removed after the run.
// Artillery runs from this folder, so its packer (createBOM) sees nothing else.
import { chmodSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { ROOT } from '../catalog/config';
import type { Scenario } from '../catalog/scenario';
import { importEsm } from '../common/import-esm';

export const BUNDLE_SCRIPT = 'script.yml';
export const BUNDLE_PROCESSOR = 'processor.js';
export const SECRETS_FILE = 'secrets.env';
const PROCESSOR_SOURCE = join(ROOT, 'processors', 'journey.ts');
const ARTILLERY_PACKAGE = join(ROOT, 'node_modules', 'artillery', 'package.json');

/**
 * The run's script as a worker runs it: the bundled processor next to it, no plugin of the pack's
 * (its breaker runs in the `before` hook instead) and no `bundling` entry. The preflight ran once
 * before the workers started, and /health is checked after the load from the same machine.
 */
export function bundleScript(script: Scenario): Scenario {
  const out = structuredClone(script);
  const { bundling: _bundling, ...config } = out.config;
  const { voxanne: _voxanne, ...plugins } = (config.plugins ?? {}) as Record<string, unknown>;
  out.config = { ...config, processor: `./${BUNDLE_PROCESSOR}`, plugins };
  out.before = { flow: [{ function: 'startWorkerBreaker' }] };
  delete out.after;
  return out;
}

/** The processor and everything it imports in one CommonJS file, with esbuild (Artillery's own copy). */
export function bundleProcessor(outfile: string): void {
  const esbuild = createRequire(ARTILLERY_PACKAGE)('esbuild-wasm') as {
    buildSync(o: Record<string, unknown>): unknown;
  };
  esbuild.buildSync({
    entryPoints: [PROCESSOR_SOURCE],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node18',
    // Every npm package inlined: the workers install nothing.
    packages: 'bundle',
    legalComments: 'none',
    logLevel: 'silent',
  });
}

/** Writes the bundle into `dir` (made empty first); `secrets`: the Lambda dotenv's variables. */
export function writeBundle(dir: string, script: Scenario, secrets?: Record<string, string>): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, BUNDLE_SCRIPT), stringify(bundleScript(script)));
  bundleProcessor(join(dir, BUNDLE_PROCESSOR));
  const pkg = {
    name: 'voxanne-load-test-bundle',
    private: true,
    type: 'commonjs',
    description: 'Made by the Voxanne load-test pack for one distributed run; needs no npm package.',
  };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  if (secrets) writeSecrets(dir, secrets);
}

function writeSecrets(dir: string, secrets: Record<string, string>): void {
  const file = join(dir, SECRETS_FILE);
  writeFileSync(
    file,
    Object.entries(secrets)
      .map(([n, v]) => `${n}=${JSON.stringify(v)}`)
      .join('\n') + '\n',
    { mode: 0o600 },
  );
  chmodSync(file, 0o600);
}

export const removeSecrets = (dir: string): void => rmSync(join(dir, SECRETS_FILE), { force: true });

/** The bundle's files and their sizes in bytes, by name. */
export function bundleFiles(dir: string): Array<{ name: string; bytes: number }> {
  return readdirSync(dir)
    .sort()
    .map((name) => ({ name, bytes: statSync(join(dir, name)).size }));
}

export type Runner = 'aws:ecs' | 'aws:lambda';

/** What Artillery's packer makes of the bundle: the files it uploads and the npm packages a worker installs. */
export interface Packed {
  files: string[];
  modules: string[];
}

/**
 * Artillery's own packer (createBOM, in its legacy ECS code) on the bundle, called as run-fargate
 * (create-test.js) and run-lambda (aws-lambda/dependencies.js) call it: the script as the entry,
 * the script as the scenario path, and the command's flags (the dotenv resolved from the bundle,
 * the folder Artillery runs from).
 */
export async function packedByArtillery(dir: string, runner: Runner, withDotenv = false): Promise<Packed> {
  const bom = join(ROOT, 'node_modules', 'artillery', 'dist', 'lib', 'platform', 'aws-ecs', 'legacy', 'bom.js');
  const { createBOM } = await importEsm(pathToFileURL(bom).href);
  const script = join(dir, BUNDLE_SCRIPT);
  const flags: Record<string, unknown> = { platform: runner, count: '1', ...(withDotenv && { dotenv: join(dir, SECRETS_FILE) }) };
  const opts = runner === 'aws:ecs' ? { packageJsonPath: undefined, flags, scenarioPath: script } : { scenarioPath: script, flags };
  // Artillery's CLI sets this global before its runners call the packer; it reads the test run id.
  const g = globalThis as unknown as { artillery?: Record<string, unknown> };
  const own = !g.artillery;
  if (own) g.artillery = { testRunId: 'dry-run' };
  try {
    const manifest = (await promisify(createBOM)(script, [], opts)) as { files: Array<{ noPrefixPosix: string }>; modules: string[] };
    return { files: manifest.files.map((f) => f.noPrefixPosix).sort(), modules: manifest.modules };
  } finally {
    if (own) delete g.artillery;
  }
}
