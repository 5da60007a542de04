// Runs the pack's real command lines (real Artillery) in a child process, as a user would.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunRecord } from '../src/record';
import { startStandIn, type StandIn, type StandInOptions } from '../src/standin/server';

export const ROOT = join(__dirname, '..');

/** A rehearsal-sized run: the smoke profile squeezed into 10 s of load. */
export const QUICK = ['--profile', 'smoke', '--time-scale', '0.25'];

export interface PackResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The run folder, when the run made one. */
  dir?: string;
  record?: RunRecord;
}

/** The credentials the pack reads from the environment (a token, or a sign-in). */
export const CREDENTIAL_VARS = ['API_TOKEN', 'SUPABASE_URL', 'SUPABASE_ANON_KEY', 'LOAD_TEST_EMAIL', 'LOAD_TEST_PASSWORD'];

/** Variables a developer may have set that would change what a test means: the one list every test clears. */
export const CLEARED = [...CREDENTIAL_VARS, 'BASE_URL', 'PROFILE', 'TIME_SCALE', 'REPORTS_DIR', 'VOXANNE_CONFIRM', 'VOXANNE_CONTRACT'];

/** The environment without the variables a developer may have set, plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !CLEARED.includes(k))), ...extra };
}

/** Runs `node bin/pack.js <command> ...args`, as the npm scripts do. */
export function runPack(
  command: 'run' | 'demo' | 'report',
  args: string[],
  env: Record<string, string> = {},
  opts: { reportsDir?: string; onStart?: (pid: number) => void } = {},
): Promise<PackResult> {
  const reportsDir = opts.reportsDir ?? mkdtempSync(join(tmpdir(), 'voxanne-test-'));
  const child = spawn(process.execPath, ['bin/pack.js', command, ...args, '--reports', reportsDir], {
    cwd: ROOT,
    env: cleanEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  opts.onStart?.(child.pid ?? 0);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => {
    child.on('close', (code) => {
      const runs = existsSync(reportsDir) ? readdirSync(reportsDir).filter((f) => /^\d{8}-/.test(f)).sort() : [];
      const dir = runs.length ? join(reportsDir, runs[runs.length - 1]) : undefined;
      const recordFile = dir && join(dir, 'run.json');
      const record = recordFile && existsSync(recordFile) ? (JSON.parse(readFileSync(recordFile, 'utf8')) as RunRecord) : undefined;
      resolve({ code, stdout, stderr, dir, record });
    });
  });
}

/** A loopback port with nothing listening on it. */
export async function closedPort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** A rehearsal run (QUICK, then `args`) against a fresh stand-in on loopback, which comes back for its log. */
export async function againstStandIn(options: StandInOptions, args: string[], env: Record<string, string> = {}, seed = 7) {
  const standIn = await startStandIn({ latencyScale: 0.2, seed, ...options });
  try {
    return { ...(await runPack('run', [...QUICK, ...args], { BASE_URL: standIn.url, ...env })), standIn };
  } finally {
    await standIn.close();
  }
}

/** What the stand-in answered to the load itself (Artillery's users), not to the pack's own checks. */
export const loadRequests = (s: StandIn) => s.stats().log.filter((e) => e.load);
