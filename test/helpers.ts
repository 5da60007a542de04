// Runs the pack's real command lines (real Artillery) in a child process, as a user would.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { availableParallelism, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunRecord } from '../src/record/record';
import { importEsm } from '../src/common/import-esm';
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

/** The folder one `npm test` shares between its test files' processes (test/suite.ts), else this process's own. */
let ownSuiteDir: string | undefined;
export function suiteDir(): string {
  return process.env.VOXANNE_TEST_SUITE ?? (ownSuiteDir ??= mkdtempSync(join(tmpdir(), 'voxanne-suite-')));
}

const readText = (file: string): string | undefined => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};

/** Whether process `pid` is alive; 0 (not known yet) counts as alive. */
const alive = (pid: number): boolean => {
  if (!pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * How many Artillery runs the whole suite lets go at once, across its test files. A short run
 * spends about 3 CPU-seconds over 13 s, most of them starting, then mostly waits: five per core
 * keep the cores busy (on 2 cores: 3 per core took 165 s for `npm test`, 5 took 142 s, 7 took
 * 150 s), and more would slow every run until the targets' latencies and the load's pace no longer
 * resemble a run's. VOXANNE_TEST_RUNS_AT_ONCE overrides it.
 */
export const RUNS_AT_ONCE = Number(process.env.VOXANNE_TEST_RUNS_AT_ONCE) || availableParallelism() * 5;

/** Runs `fn` (which starts an Artillery run) once fewer than RUNS_AT_ONCE runs of the suite are going. */
export async function withRunSlot<T>(fn: () => Promise<T>): Promise<T> {
  const slots = join(suiteDir(), 'slots');
  mkdirSync(slots, { recursive: true });
  for (;;) {
    for (let i = 0; i < RUNS_AT_ONCE; i++) {
      const slot = join(slots, String(i));
      try {
        mkdirSync(slot); // atomic: one process gets it
      } catch {
        if (!alive(Number(readText(join(slot, 'pid'))) || 0)) rmSync(slot, { recursive: true, force: true }); // its process died holding it
        continue;
      }
      writeFileSync(join(slot, 'pid'), String(process.pid));
      try {
        return await fn();
      } finally {
        rmSync(slot, { recursive: true, force: true });
      }
    }
    await sleep(100);
  }
}

/**
 * One run (or a few) that several test files read: the first caller produces it, the others wait
 * for its result, a JSON value (what the run printed and wrote, what its servers saw). Every file
 * still passes alone: then it produces the run itself.
 */
export async function shared<T>(name: string, produce: () => Promise<T>): Promise<T> {
  const dir = join(suiteDir(), 'shared', name);
  const result = join(dir, 'result.json');
  mkdirSync(join(suiteDir(), 'shared'), { recursive: true });
  let producer = true;
  try {
    mkdirSync(dir);
  } catch {
    producer = false;
  }
  if (producer) {
    writeFileSync(join(dir, 'pid'), String(process.pid));
    const outcome = await produce().then(
      (value) => ({ value }),
      (err: unknown) => ({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
    );
    writeFileSync(`${result}.tmp`, JSON.stringify(outcome));
    renameSync(`${result}.tmp`, result);
  }
  while (!existsSync(result)) {
    if (!alive(Number(readText(join(dir, 'pid'))) || 0)) throw new Error(`the process producing the shared run "${name}" ended without a result`);
    await sleep(200);
  }
  const outcome = JSON.parse(readFileSync(result, 'utf8')) as { value: T } | { error: string };
  if ('error' in outcome) throw new Error(`the shared run "${name}" failed: ${outcome.error}`);
  return outcome.value;
}

/** Runs `node bin/pack.js <command> ...args`, as the npm scripts do, once a run slot is free. */
export function runPack(
  command: 'run' | 'demo' | 'report',
  args: string[],
  env: RunEnv = {},
  opts: { reportsDir?: string; onStart?: (pid: number) => void } = {},
): Promise<PackResult> {
  return withRunSlot(() => startPack(command, args, envOf(env), opts));
}

/** A run's variables, or a function that makes them as the run starts (after it waited for a slot). */
export type RunEnv = Record<string, string> | (() => Record<string, string>);
const envOf = (env: RunEnv) => (typeof env === 'function' ? env() : env);

function startPack(
  command: 'run' | 'demo' | 'report',
  args: string[],
  env: Record<string, string>,
  opts: { reportsDir?: string; onStart?: (pid: number) => void },
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
      const runs = existsSync(reportsDir)
        ? readdirSync(reportsDir)
            .filter((f) => /^\d{8}-/.test(f))
            .sort()
        : [];
      const dir = runs.length ? join(reportsDir, runs[runs.length - 1]) : undefined;
      const recordFile = dir && join(dir, 'run.json');
      const record = recordFile && existsSync(recordFile) ? (JSON.parse(readFileSync(recordFile, 'utf8')) as RunRecord) : undefined;
      resolve({ code, stdout, stderr, dir, record });
    });
  });
}

/** A loopback server that counts what reaches it (and keeps each request's path); `answer` decides the response. */
export async function countingServer(answer: (req: IncomingMessage, body: string, res: ServerResponse) => void = (_q, _b, res) => res.end('{}')) {
  const paths: string[] = [];
  const server: Server = createServer((req, res) => {
    paths.push(req.url ?? '');
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => answer(req, body, res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    url,
    requests: () => paths.length,
    paths,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(r);
      }),
  };
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
export async function againstStandIn(options: StandInOptions, args: string[], env: RunEnv = {}, seed = 7) {
  const standIn = await startStandIn({ latencyScale: 0.2, seed, ...options });
  try {
    return { ...(await runPack('run', [...QUICK, ...args], () => ({ BASE_URL: standIn.url, ...envOf(env) }))), standIn };
  } finally {
    await standIn.close();
  }
}

/** What the stand-in answered to the load itself (Artillery's users), not to the pack's own checks. */
export const loadRequests = (s: StandIn) => s.stats().log.filter((e) => e.load);

/** The processes whose parent is `pid` (the pack's Artillery, under its command), from ps. */
export const childrenOf = (pid: number): number[] => {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
};

/**
 * The `node` a person gets when typing `node bin/pack.js`: the first on PATH outside node_modules
 * (npm puts the pack's own Node first). On a Node older than the pack's, bin/pack.js runs itself
 * again on the pack's Node, so what reaches the command goes through that re-run.
 */
export function machineNode(): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && !dir.includes('node_modules') && existsSync(join(dir, 'node'))) return join(dir, 'node');
  }
  return process.execPath;
}

type EnsureCheck = { original: string; result: unknown; strict: boolean };
type EnsurePlugin = {
  statsToVars(data: unknown): Record<string, unknown>;
  runChecks(checks: unknown, vars: Record<string, unknown>): EnsureCheck[];
};
let ensurePlugin: Promise<EnsurePlugin> | undefined;

/**
 * Artillery's own ensure plugin (its code, from node_modules) judging `checks` (`{ conditions }`)
 * on a report's counters and summaries, as Artillery does before it exits.
 */
export async function artilleryEnsure(
  checks: unknown,
  report: { counters: Record<string, number>; summaries?: Record<string, Record<string, number>> },
): Promise<EnsureCheck[]> {
  const file = join(ROOT, 'node_modules', 'artillery', 'dist', 'builtin-packages', 'artillery-plugin-ensure', 'dist', 'plugin.js');
  ensurePlugin ??= importEsm(pathToFileURL(file).href).then((m) => m.Plugin as EnsurePlugin);
  const ensure = await ensurePlugin;
  const g = globalThis as { artillery?: unknown };
  const saved = g.artillery;
  g.artillery = { log: () => undefined };
  try {
    return ensure.runChecks(checks, ensure.statsToVars({ report: { rates: {}, summaries: {}, ...report } }));
  } finally {
    g.artillery = saved;
  }
}
