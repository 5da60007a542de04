// The machinery every section of `npm run bench` uses: the loopback target in a child process
// (bench/fidelity-server.ts, which times every request itself), running one command in its own
// process group with a deadline, the CPU of a command's process tree (whole and between two moments
// of its run), waiting for a quiet machine and measuring the background load, killing everything on
// the way out, and the number formats of the tables. Knows nothing of which tool is measured
// (bench/lib/tools.ts) nor of what a section measures (bench/fidelity.ts, overhead.ts, fixed-cost.ts).
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerMessage, ServerStats } from '../fidelity-server';

export const ROOT = join(__dirname, '..', '..');

const wallNow = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};
export const f = (n: number | undefined | null, digits = 1) => (n === undefined || n === null || !Number.isFinite(n) ? 'n/a' : n.toFixed(digits));
export const signed = (n: number | undefined | null, digits = 1) =>
  n === undefined || n === null || !Number.isFinite(n) ? 'n/a' : `${n >= 0 ? '+' : ''}${n.toFixed(digits)}`;
export const log = (line: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

/** Variables a developer may have set that would change what the pack does. */
const CLEARED = [
  'API_TOKEN',
  'BASE_URL',
  'PROFILE',
  'TIME_SCALE',
  'REPORTS_DIR',
  'SUPABASE_URL',
  'SUPABASE_ANON_KEY',
  'LOAD_TEST_EMAIL',
  'LOAD_TEST_PASSWORD',
  'VOXANNE_CONFIRM',
];
export const baseEnv = (): Record<string, string> => ({
  ...(Object.fromEntries(Object.entries(process.env).filter(([k, v]) => v !== undefined && !CLEARED.includes(k))) as Record<string, string>),
  ARTILLERY_DISABLE_TELEMETRY: '1',
  NO_COLOR: '1',
});

/** The bench's temporary folder (one per run, made on first use; removeTempDir() at the end). */
let tmp: string | undefined;
export const tempDir = () => (tmp ??= mkdtempSync(join(tmpdir(), 'voxanne-bench-')));
export function removeTempDir(): void {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  tmp = undefined;
}

// ---------------------------------------------------------------------------------------------
// CPU of finished children: the bench's own cutime + cstime (/proc/self/stat), which the kernel
// adds a child's whole tree to when the child is reaped. Only the measured command is reaped during
// a measurement (the server child lives on until its section ends).
const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();
function childrenCpuMs(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / CLK_TCK; // fields 16, 17: cutime, cstime
}

/** CPU (ms) that the whole machine has spent busy since boot (/proc/stat: all but idle and iowait). */
function machineBusyMs(): number {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const n = ticks.map(Number);
  const total = n.slice(0, 8).reduce((a, b) => a + b, 0); // user nice system idle iowait irq softirq steal
  return ((total - n[3] - n[4]) * 1000) / CLK_TCK;
}

/** The bench's own CPU (ms): its measuring must not count as someone else's load. */
const selfCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/**
 * This machine is shared (other work may run tests at the same time), and every figure here is
 * sensitive to it. Waits, within a budget for the whole bench, until other processes use less than
 * a third of a core; the tables show the background load measured during every run anyway.
 */
let quietBudgetMs = 45_000;
async function waitForQuiet(): Promise<void> {
  const started = Date.now();
  for (;;) {
    const busy0 = machineBusyMs();
    const self0 = selfCpuMs();
    const t0 = Date.now();
    await sleep(1000);
    const cores = (machineBusyMs() - busy0 - (selfCpuMs() - self0)) / (Date.now() - t0);
    if (cores < 0.33 || quietBudgetMs <= 0) {
      if (cores >= 0.33) log(`the machine is busy (${cores.toFixed(2)} cores used by other processes); measuring anyway`);
      quietBudgetMs -= Date.now() - started;
      return;
    }
    if (Date.now() - started > 1500) log(`waiting for other processes to calm down (${cores.toFixed(2)} cores busy)`);
    quietBudgetMs -= Date.now() - t0;
  }
}
// ---------------------------------------------------------------------------------------------
// The target, in a child process.
export interface Server {
  url: string;
  reset(): Promise<void>;
  stats(): Promise<ServerStats>;
  stop(): Promise<void>;
}

/** Children still running: forked servers (killed alone) and measured commands (killed with their group). */
const live = new Map<ChildProcess, 'server' | 'group'>();

export async function startServer(delayMs: number): Promise<Server> {
  const child = fork(join(__dirname, '..', 'fidelity-server.ts'), [String(delayMs)], {
    cwd: ROOT,
    execArgv: ['--require', 'ts-node/register'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  live.set(child, 'server');
  const waiting: Array<{ type: ServerMessage['type']; resolve: (m: ServerMessage) => void }> = [];
  child.on('message', (m: ServerMessage) => {
    const at = waiting.findIndex((w) => w.type === m.type);
    if (at >= 0) waiting.splice(at, 1)[0].resolve(m);
  });
  const next = <T extends ServerMessage['type']>(type: T, ms = 15_000) =>
    new Promise<Extract<ServerMessage, { type: T }>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the bench server sent no "${type}" within ${ms} ms`)), ms);
      waiting.push({ type, resolve: (m) => (clearTimeout(timer), resolve(m as Extract<ServerMessage, { type: T }>)) });
    });
  const ready = await next('ready', 30_000);
  return {
    url: `http://127.0.0.1:${ready.port}`,
    async reset() {
      const done = next('reset');
      child.send({ cmd: 'reset' });
      await done;
    },
    async stats() {
      const done = next('stats');
      child.send({ cmd: 'stats' });
      return (await done).stats;
    },
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.send({ cmd: 'stop' });
      await Promise.race([exited, sleep(5000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
      live.delete(child);
    },
  };
}

/** CPU (ms) of every process in a process group: their own times plus their reaped children's. */
function groupCpuMs(pgid: number): number {
  let ticks = 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) !== pgid) continue; // field 5: process group
    ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]); // utime stime cutime cstime
  }
  return (ticks * 1000) / CLK_TCK;
}

// ---------------------------------------------------------------------------------------------
// One measured command.
export interface Ran {
  code: number | null;
  timedOut: boolean;
  startAt: number;
  exitAt: number;
  /** CPU of the whole tree, from start to exit. */
  cpuMs: number;
  /** CPU of the tree between two moments of its life (sampled every 250 ms, interpolated). */
  cpuBetween(from: number, to: number): number;
  stdout: string;
  stderr: string;
}

function interpolate(samples: Array<[number, number]>, t: number): number {
  if (!samples.length || !Number.isFinite(t)) return NaN;
  if (t <= samples[0][0]) return samples[0][1];
  for (let i = 1; i < samples.length; i++) {
    const [t1, c1] = samples[i];
    if (t <= t1) {
      const [t0, c0] = samples[i - 1];
      return c0 + ((c1 - c0) * (t - t0)) / Math.max(1e-9, t1 - t0);
    }
  }
  return samples[samples.length - 1][1];
}

export function runCommand(command: string, args: string[], opts: { timeoutS: number; env?: Record<string, string>; cwd?: string }): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const cpu0 = childrenCpuMs();
    const startAt = wallNow();
    // Its own process group, so a deadline ends the command's whole tree (pack -> Artillery), and
    // the group's CPU can be sampled while it runs.
    const child = spawn(command, args, { cwd: opts.cwd ?? ROOT, env: opts.env ?? baseEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    live.set(child, 'group');
    const samples: Array<[number, number]> = [[startAt, 0]];
    const sampler = setInterval(() => {
      if (child.exitCode === null && child.signalCode === null) samples.push([wallNow(), groupCpuMs(child.pid!)]);
    }, 250);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout = (stdout + d).slice(-1_000_000)));
    child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-200_000)));
    let timedOut = false;
    let exitAt = NaN;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, opts.timeoutS * 1000);
    child.on('error', reject);
    child.on('exit', () => {
      exitAt = wallNow();
      clearInterval(sampler);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      clearInterval(sampler);
      live.delete(child);
      const cpuMs = childrenCpuMs() - cpu0;
      samples.push([exitAt, cpuMs]);
      const cpuBetween = (from: number, to: number) => interpolate(samples, to) - interpolate(samples, from);
      resolve({ code, timedOut, startAt, exitAt, cpuMs, cpuBetween, stdout, stderr });
    });
  });
}

export function killEverything(): void {
  for (const [child, kind] of live) {
    try {
      if (kind === 'server') child.kill('SIGKILL');
      else process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}
process.on('SIGINT', () => {
  killEverything();
  process.exit(130);
});

// ---------------------------------------------------------------------------------------------
// What a tool reports, and one measured run of it against the server.
export interface Latency {
  p50: number;
  p95: number;
  p99: number;
}
export interface Measured {
  tool: string;
  load: string;
  ran: Ran;
  server: ServerStats;
  /** Cores used by other processes on the machine while the command ran (0 on a quiet machine). */
  background: number;
  /** What the tool itself reports. */
  latency?: Latency | null;
  toolRequests?: number;
  note?: string;
}

export async function measure(server: Server, what: () => Promise<Omit<Measured, 'server' | 'background'>>): Promise<Measured> {
  await waitForQuiet();
  await server.reset();
  const busy0 = machineBusyMs();
  const self0 = selfCpuMs();
  const m = await what();
  const stats = await server.stats();
  const others = machineBusyMs() - busy0 - (selfCpuMs() - self0) - m.ran.cpuMs - stats.cpuMs;
  return { ...m, server: stats, background: Math.max(0, others / (m.ran.exitAt - m.ran.startAt)) };
}
