// Scale-out through Artillery's own distributed runners (run-fargate, run-lambda): the same script,
// processor, profile and environment, with secrets passed the way each runner intends, and the
// record built from the combined output that Artillery writes back.
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { BUILD_DIR, ROOT } from '../catalog/config';
import type { RunOptions } from '../plan/options';
import { referencedSecrets, SECRET_ENV } from '../shared/secrets';

/** The secrets the workers need, by name, for the variables that are set here. */
export function secretNames(env: NodeJS.ProcessEnv = process.env): string[] {
  const needed = [...SECRET_ENV, 'SUPABASE_URL', 'LOAD_TEST_EMAIL', ...referencedSecrets()];
  return needed.filter((name) => env[name]);
}

export interface PlatformCommand {
  /** Arguments after `artillery`. */
  args: string[];
  /** What the user should know: where secrets come from, what each worker runs. */
  notes: string[];
  /** Removes anything written for the runner (the Lambda dotenv file). */
  cleanup(): void;
}

/**
 * The command for --platform fargate|lambda. Fargate workers read secrets from SSM Parameter Store
 * (`--secret NAME` -> /artilleryio/NAME in the region); Lambda ships a dotenv file with the test
 * bundle, written here outside the run folder with owner-only permissions and removed afterwards.
 * `dryRun` writes nothing and shows where the file would be.
 */
export function platformCommand(opts: RunOptions, scriptFile: string, outputFile: string, dryRun = false, env = process.env): PlatformCommand {
  const names = secretNames(env);
  const base = [opts.platform === 'fargate' ? 'run-fargate' : 'run-lambda', scriptFile, '--count', String(opts.count), '--region', opts.region, '--output', outputFile];
  const each = `each of the ${opts.count} workers runs the whole profile (${opts.count}x the users in all) and its own preflight`;
  if (opts.platform === 'fargate') {
    return {
      args: [...base, ...names.flatMap((n) => ['--secret', n])],
      notes: [
        each,
        names.length
          ? `secrets ${names.join(', ')}: read on the workers from SSM Parameter Store /artilleryio/<NAME> in ${opts.region}; store them there first (SecureString)`
          : 'no secrets to pass',
      ],
      cleanup: () => undefined,
    };
  }
  const dir = dryRun ? join(tmpdir(), 'voxanne-XXXXXX') : mkdtempSync(join(tmpdir(), 'voxanne-'));
  const dotenv = join(dir, 'secrets.env');
  if (!dryRun) {
    writeFileSync(dotenv, names.map((n) => `${n}=${JSON.stringify(env[n])}`).join('\n') + '\n', { mode: 0o600 });
    chmodSync(dotenv, 0o600);
  }
  return {
    args: [...base, '--dotenv', dotenv],
    notes: [
      each,
      names.length
        ? `secrets ${names.join(', ')}: in a dotenv file (owner-only, outside the run folder, removed after the run) that run-lambda packages with the test`
        : 'no secrets to pass',
    ],
    cleanup: () => (dryRun ? undefined : rmSync(dir, { recursive: true, force: true })),
  };
}

/** The local files the processor needs on the workers: it and everything it requires, compiled. */
export function packagedFiles(entry = join(BUILD_DIR, 'processors', 'journey.js')): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file) || !existsSync(file)) return;
    seen.add(file);
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(/require\("(\.{1,2}\/[^"]+)"\)/g)) {
      const target = resolve(dirname(file), spec);
      visit(target.endsWith('.js') ? target : `${target}.js`);
    }
  };
  visit(entry);
  return [...seen].map((f) => relative(ROOT, f)).sort();
}
