// `npm run bench`: what the pack costs and how true its figures are, measured on this machine
// against a loopback target of its own (bench/fidelity-server.ts, in a child process that times every
// request itself). Prints markdown tables; docs/benchmarks.md holds a run's figures and what they
// mean. Nothing here is asserted in tests.
//
//  1. Fidelity: the latency each tool reports minus the server's own timing of the same requests
//     (50 ms fixed delay, 10 users): the pack, bare Artillery (no think, and 1 s think like the
//     pack), wrk.
//  2. Overhead (0 ms target): CPU of the tool's process tree per 1000 requests while the load runs,
//     at an equal fixed load (the pack's users pause ~1 s between journeys; its command line has no
//     knob to remove the pause), and the maximum rate with no think time: bare Artillery, the pack's
//     own generated Artillery script (processor, plugins, expectations) with the pause set to 0, and
//     autocannon and wrk as the one-machine ceiling.
//  3. Fixed cost: command start -> first request the server sees, last request -> process exit, for
//     the pack and for bare Artillery with a JS and with a TS processor (3 runs each, medians).
//     The pack runs the shortest load it accepts (smoke at x0.25: 10 s, one reporting period);
//     the fixed costs do not depend on the load's length.
//
//   npm run bench [-- --quick] [-- --only overhead|fixed]
// --quick shortens every load 5x and runs the fixed-cost commands once (for trying the bench itself).
// Every load is bounded in count and time, and every command is killed at its own deadline. The
// machine may be shared: each run waits (briefly) for a quiet machine and reports the background load.
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { ServerMessage, ServerStats } from './fidelity-server';
import { JOURNEY_PATHS } from './pack-autocannon';

const ROOT = join(__dirname, '..');
const ARTILLERY = join(ROOT, 'node_modules', 'artillery', 'bin', 'run');
const QUICK = process.argv.includes('--quick');
/**
 * `--only overhead`: just the overhead section (pack vs bare Artillery vs autocannon/wrk), e.g. before
 * and after a change; `--only fixed`: just the fixed cost (start to first load request, last request to exit).
 */
const ONLY = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
if (ONLY !== undefined && ONLY !== 'overhead' && ONLY !== 'fixed') {
  console.error(`error: --only takes overhead or fixed (got "${ONLY}")`);
  process.exit(2);
}
/** The pack's load in the fixed-cost section: the shortest it accepts (10 s, one reporting period). */
const FIXED_PACK_ARGS = ['--profile', 'smoke', '--time-scale', '0.25'];
/** Load durations are multiplied by this; --quick makes everything 5x shorter. */
const SCALE = QUICK ? 0.2 : 1;
const REPS = QUICK ? 1 : 3;
const USERS = 10;
const TMP = mkdtempSync(join(tmpdir(), 'voxanne-bench-'));

const wallNow = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};
const f = (n: number | undefined | null, digits = 1) => (n === undefined || n === null || !Number.isFinite(n) ? 'n/a' : n.toFixed(digits));
const signed = (n: number | undefined | null, digits = 1) => (n === undefined || n === null || !Number.isFinite(n) ? 'n/a' : `${n >= 0 ? '+' : ''}${n.toFixed(digits)}`);
const log = (line: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

/** Variables a developer may have set that would change what the pack does. */
const CLEARED = ['API_TOKEN', 'BASE_URL', 'PROFILE', 'TIME_SCALE', 'REPORTS_DIR', 'SUPABASE_URL', 'SUPABASE_ANON_KEY', 'LOAD_TEST_EMAIL', 'LOAD_TEST_PASSWORD', 'VOXANNE_CONFIRM'];
const baseEnv = (): Record<string, string> => ({
  ...(Object.fromEntries(Object.entries(process.env).filter(([k, v]) => v !== undefined && !CLEARED.includes(k))) as Record<string, string>),
  ARTILLERY_DISABLE_TELEMETRY: '1',
  NO_COLOR: '1',
});

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
interface Server {
  url: string;
  reset(): Promise<void>;
  stats(): Promise<ServerStats>;
  stop(): Promise<void>;
}

/** Children still running: forked servers (killed alone) and measured commands (killed with their group). */
const live = new Map<ChildProcess, 'server' | 'group'>();

async function startServer(delayMs: number): Promise<Server> {
  const child = fork(join(__dirname, 'fidelity-server.ts'), [String(delayMs)], {
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
interface Ran {
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

function runCommand(command: string, args: string[], opts: { timeoutS: number; env?: Record<string, string>; cwd?: string }): Promise<Ran> {
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

function killEverything(): void {
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
// The tools.
interface Latency {
  p50: number;
  p95: number;
  p99: number;
}
interface Measured {
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

/** Runs the pack's command line against the server; returns the run record (run.json) too. */
async function runPack(server: Server, args: string[], timeoutS: number): Promise<{ ran: Ran; record: any; dir?: string }> {
  const reports = mkdtempSync(join(TMP, 'pack-'));
  const ran = await runCommand(process.execPath, ['bin/pack.js', 'run', '--env', 'local', '--base-url', server.url, ...args, '--reports', reports], { timeoutS });
  const runs = readdirSync(reports).filter((d) => existsSync(join(reports, d, 'run.json')));
  const dir = runs.length ? join(reports, runs.sort()[runs.length - 1]) : undefined;
  const record = dir ? JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) : undefined;
  if (ran.code !== 0) log(`pack exited ${ran.code}${ran.timedOut ? ' (deadline)' : ''}: ${(ran.stderr || ran.stdout).trim().split('\n').slice(-3).join(' | ')}`);
  return { ran, record, dir };
}

interface BareOptions {
  users: number;
  loops: number;
  thinkS?: number;
  /** A processor file (js or ts) with a no-op `noop` beforeRequest hook. */
  processor?: string;
  /** Over how long the users arrive (default 1 s). Artillery's first arrival comes one interval
   * (span / users) after the phase starts, so the fixed-cost runs use a short span. */
  arrivalSpan?: string | number;
}

/** A plain Artillery script: `users` users, each looping over the five paths `loops` times. */
function bareScript(url: string, o: BareOptions): string {
  const loop: unknown[] = JOURNEY_PATHS.map((path) => ({ get: { url: path } }));
  if (o.thinkS) loop.push({ think: o.thinkS });
  return stringify({
    config: { target: url, phases: [{ duration: o.arrivalSpan ?? 1, arrivalCount: o.users }], ...(o.processor ? { processor: o.processor } : {}) },
    scenarios: [{ name: 'bare', ...(o.processor ? { beforeRequest: 'noop' } : {}), flow: [{ loop, count: o.loops }] }],
  });
}

async function runArtilleryScript(name: string, script: string, timeoutS: number, env: Record<string, string> = {}): Promise<{ ran: Ran; report: any }> {
  const dir = mkdtempSync(join(TMP, `${name}-`));
  const file = join(dir, 'script.yml');
  writeFileSync(file, script);
  const out = join(dir, 'out.json');
  const ran = await runCommand(process.execPath, [ARTILLERY, 'run', file, '-o', out], { timeoutS, env: { ...baseEnv(), ...env } });
  if (ran.code !== 0) log(`artillery (${name}) exited ${ran.code}${ran.timedOut ? ' (deadline)' : ''}: ${ran.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  const report = existsSync(out) ? JSON.parse(readFileSync(out, 'utf8')) : undefined;
  return { ran, report };
}

const artilleryLatency = (report: any): Latency | null => {
  const s = report?.aggregate?.summaries?.['http.response_time'];
  return s ? { p50: s.p50 ?? s.median, p95: s.p95, p99: s.p99 } : null;
};
const artilleryRequests = (report: any): number | undefined => report?.aggregate?.counters?.['http.requests'];

const WRK_LUA = `-- cycles over the journey's paths; prints the latency percentiles (microseconds) at the end
local paths = { ${JOURNEY_PATHS.map((p) => `"${p}"`).join(', ')} }
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
done = function(summary, latency, requests)
  io.write(string.format("BENCH %d %d %f %f %f\\n", summary.requests,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
`;

function hasWrk(): boolean {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (err) {
    // wrk --version prints its usage and exits 1: it is there; ENOENT means it is not.
    return (err as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

async function runWrk(url: string, seconds: number): Promise<{ ran: Ran; latency: Latency | null; requests?: number; errors?: number }> {
  const lua = join(TMP, 'journey.lua');
  writeFileSync(lua, WRK_LUA);
  const ran = await runCommand('wrk', [`-c${USERS}`, '-t2', `-d${seconds}s`, '--latency', '-s', lua, url], { timeoutS: seconds + 30 });
  const m = /^BENCH (\d+) (\d+) ([\d.]+) ([\d.]+) ([\d.]+)$/m.exec(ran.stdout);
  if (!m) return { ran, latency: null };
  return { ran, requests: Number(m[1]), errors: Number(m[2]), latency: { p50: Number(m[3]) / 1000, p95: Number(m[4]) / 1000, p99: Number(m[5]) / 1000 } };
}

async function measure(server: Server, what: () => Promise<Omit<Measured, 'server' | 'background'>>): Promise<Measured> {
  await waitForQuiet();
  await server.reset();
  const busy0 = machineBusyMs();
  const self0 = selfCpuMs();
  const m = await what();
  const stats = await server.stats();
  const others = machineBusyMs() - busy0 - (selfCpuMs() - self0) - m.ran.cpuMs - stats.cpuMs;
  return { ...m, server: stats, background: Math.max(0, others / (m.ran.exitAt - m.ran.startAt)) };
}

// ---------------------------------------------------------------------------------------------
// Sections.
/** Seconds from the load's first request to its last answer, as the server saw them. */
const loadSeconds = (s: ServerStats) => (s.firstLoadArrivalAt !== null && s.lastLoadEndAt !== null ? (s.lastLoadEndAt - s.firstLoadArrivalAt) / 1000 : NaN);

async function fidelity(): Promise<{ rows: Measured[]; packArgs: string[] }> {
  const server = await startServer(50);
  const rows: Measured[] = [];
  // The standard profile at time scale 0.1: 0->5 users in 6 s, ->10 in 12 s, 10 for 18 s, ->0 in 6 s.
  const timeScale = Math.round(0.1 * SCALE * 1000) / 1000;
  const packArgs = ['--profile', 'standard', '--time-scale', String(timeScale)];
  try {
    log(`fidelity: the pack (standard profile, time scale ${timeScale}, 50 ms target)`);
    rows.push(
      await measure(server, async () => {
        const { ran, record } = await runPack(server, packArgs, 180);
        const l = record?.totals?.latency;
        return {
          tool: 'pack (`node bin/pack.js run`)',
          load: `standard x${timeScale}: 0->5->10 users, 10 for ${Math.round(180 * timeScale)} s, ~1 s think`,
          ran,
          latency: l ? { p50: l.p50, p95: l.p95, p99: l.p99 } : null,
          toolRequests: record?.totals?.requests,
          note: ran.code === 0 ? undefined : `exit ${ran.code}`,
        };
      }),
    );
    const loopsFor = (journeyS: number) => Math.max(2, Math.round((20 * SCALE) / journeyS));
    for (const thinkS of [0, 1]) {
      const loops = loopsFor(5 * 0.051 + thinkS);
      log(`fidelity: bare Artillery, ${USERS} users x ${loops} journeys, think ${thinkS} s`);
      rows.push(
        await measure(server, async () => {
          const { ran, report } = await runArtilleryScript(`bare-think${thinkS}`, bareScript(server.url, { users: USERS, loops, thinkS }), 120);
          return {
            tool: `bare Artillery${thinkS ? ', 1 s think (like the pack)' : ''}`,
            load: `${USERS} users x ${loops} journeys${thinkS ? ', 1 s think' : ', no think'}`,
            ran,
            latency: artilleryLatency(report),
            toolRequests: artilleryRequests(report),
          };
        }),
      );
    }
    if (hasWrk()) {
      const seconds = Math.max(4, Math.round(20 * SCALE));
      log(`fidelity: wrk -c${USERS} -t2 -d${seconds}s`);
      rows.push(
        await measure(server, async () => {
          const { ran, latency, requests } = await runWrk(server.url, seconds);
          return { tool: 'wrk', load: `${USERS} connections, 2 threads, ${seconds} s, no think`, ran, latency, toolRequests: requests };
        }),
      );
    } else log('wrk is not installed (apt-get install wrk): its row is left out');
  } finally {
    await server.stop();
  }
  return { rows, packArgs };
}

interface FixedRow {
  tool: string;
  toFirst: number[];
  toFirstLoad: number[];
  afterLastLoad: number[];
  afterLast: number[];
  wall: number[];
  cpu: number[];
  background: number[];
  /** Pack only, from run.json: when Artillery was spawned and when it exited. */
  spawned?: number[];
  artilleryExited?: number[];
}

async function fixedCost(server: Server): Promise<FixedRow[]> {
  const dir = mkdtempSync(join(TMP, 'fixed-'));
  writeFileSync(join(dir, 'noop.js'), "'use strict';\nmodule.exports = { noop(req, context, events, next) { next(); } };\n");
  writeFileSync(
    join(dir, 'noop.ts'),
    'type Next = (err?: Error) => void;\nexport function noop(_req: unknown, _context: unknown, _events: unknown, next: Next): void {\n  next();\n}\n',
  );
  const empty = (tool: string): FixedRow => ({ tool, toFirst: [], toFirstLoad: [], afterLastLoad: [], afterLast: [], wall: [], cpu: [], background: [] });
  const rows: FixedRow[] = [
    { ...empty(`pack: \`node bin/pack.js run ${FIXED_PACK_ARGS.join(' ')}\``), spawned: [], artilleryExited: [] },
    empty('bare Artillery, JS processor (one no-op beforeRequest), 1 user x 5 GETs'),
    empty('bare Artillery, TS processor (bundled by Artillery), 1 user x 5 GETs'),
  ];
  const add = (row: FixedRow, m: Measured) => {
    const { ran, server: s } = m;
    row.toFirst.push(((s.firstArrivalAt ?? NaN) - ran.startAt) / 1000);
    row.toFirstLoad.push(((s.firstLoadArrivalAt ?? NaN) - ran.startAt) / 1000);
    row.afterLastLoad.push((ran.exitAt - (s.lastLoadEndAt ?? NaN)) / 1000);
    row.afterLast.push((ran.exitAt - (s.lastEndAt ?? NaN)) / 1000);
    row.wall.push((ran.exitAt - ran.startAt) / 1000);
    row.cpu.push(ran.cpuMs / 1000);
    row.background.push(m.background);
  };
  for (let rep = 1; rep <= REPS; rep++) {
    log(`fixed cost, repetition ${rep}/${REPS}`);
    let record: any;
    const pack = await measure(server, async () => {
      const run = await runPack(server, FIXED_PACK_ARGS, 120);
      record = run.record;
      return { tool: rows[0].tool, load: 'smoke', ran: run.ran };
    });
    add(rows[0], pack);
    rows[0].spawned!.push((Date.parse(record?.startedAt) - pack.ran.startAt) / 1000);
    rows[0].artilleryExited!.push((Date.parse(record?.endedAt) - pack.ran.startAt) / 1000);
    for (const [i, processor] of [
      [1, 'noop.js'],
      [2, 'noop.ts'],
    ] as const) {
      const m = await measure(server, async () => {
        const { ran } = await runArtilleryScript(`fixed-${processor}`, bareScript(server.url, { users: 1, loops: 1, processor: join(dir, processor), arrivalSpan: '10ms' }), 120);
        return { tool: rows[i].tool, load: '1 user x 5 GETs', ran };
      });
      add(rows[i], m);
    }
  }
  return rows;
}

interface OverheadRow {
  tool: string;
  load: string;
  requests: number;
  seconds: number;
  cpuS: number;
  windowCpuS: number;
  serverCpuPct: number;
  background: number;
  note?: string;
}

async function overhead(server: Server, packArgs: string[]): Promise<OverheadRow[]> {
  const rows: OverheadRow[] = [];
  const row = (m: Measured): OverheadRow => {
    const seconds = loadSeconds(m.server);
    return {
      tool: m.tool,
      load: m.load,
      requests: m.server.loadRequests,
      seconds,
      cpuS: m.ran.cpuMs / 1000,
      windowCpuS: m.ran.cpuBetween(m.server.firstLoadArrivalAt ?? NaN, m.server.lastLoadEndAt ?? NaN) / 1000,
      serverCpuPct: (m.server.cpuMs / 1000 / seconds) * 100,
      background: m.background,
      note: m.note ?? (m.ran.code === 0 ? undefined : `exit ${m.ran.code}${m.ran.timedOut ? ' (deadline)' : ''}`),
    };
  };

  log('overhead: the pack at its fixed load (0 ms target)');
  let packScript: any;
  rows.push(
    row(
      await measure(server, async () => {
        const { ran, dir } = await runPack(server, packArgs, 180);
        if (dir && existsSync(join(dir, 'script.yml'))) packScript = parse(readFileSync(join(dir, 'script.yml'), 'utf8'));
        return { tool: 'pack', load: `${packArgs.join(' ')} (up to ${USERS} users, ~1 s think)`, ran };
      }),
    ),
  );
  const thinkLoops = Math.max(2, Math.round(20 * SCALE));
  log(`overhead: bare Artillery at the same load (${USERS} users, 1 s think)`);
  rows.push(
    row(
      await measure(server, async () => {
        const { ran } = await runArtilleryScript('over-think', bareScript(server.url, { users: USERS, loops: thinkLoops, thinkS: 1 }), 120);
        return { tool: 'bare Artillery', load: `${USERS} users x ${thinkLoops} journeys, 1 s think`, ran };
      }),
    ),
  );
  // Maximum rates: no think time. Artillery does ~1,000 requests/s here: 300 journeys of 5 is ~15 s.
  const maxLoops = Math.max(20, Math.round(300 * SCALE));
  log(`overhead: bare Artillery flat out (${USERS} users x ${maxLoops} journeys)`);
  rows.push(
    row(
      await measure(server, async () => {
        const { ran } = await runArtilleryScript('over-max', bareScript(server.url, { users: USERS, loops: maxLoops }), 150);
        return { tool: 'bare Artillery, no think', load: `${USERS} users x ${maxLoops} journeys, no think`, ran };
      }),
    ),
  );
  // The pack's own Artillery script (processor, plugins, expectations, gates) with the pause set to
  // 0: the pack's command line has no such knob, so the script it generated is run directly.
  const holdS = Math.max(3, Math.round(12 * SCALE));
  if (packScript?.config?.variables) {
    log(`overhead: the pack's script flat out (${USERS} users for ${holdS + 1} s, think 0)`);
    const { toPhases } = await import('../src/plan/users');
    const stages = [
      { duration: 1, target: USERS },
      { duration: holdS, target: USERS },
      { duration: 0.1, target: 0 },
    ];
    packScript.config.phases = toPhases(stages);
    const runDir = mkdtempSync(join(TMP, 'packmax-'));
    const voxanne = packScript.config.variables.voxanne;
    packScript.config.variables = { ...packScript.config.variables, voxanne: { ...voxanne, stages, thinkMs: 0 } };
    // The script is run from elsewhere: the processor as the pack runs it, compiled.
    packScript.config.processor = join(ROOT, '.build', 'processors', 'journey.js');
    rows.push(
      row(
        await measure(server, async () => {
          const { ran } = await runArtilleryScript('pack-max', stringify(packScript), 150, {
            VOXANNE_RUN_DIR: runDir,
          });
          return { tool: "the pack's Artillery script, think 0", load: `${USERS} users for ${holdS + 1} s, no think`, ran };
        }),
      ),
    );
  } else log("overhead: no script.yml in the pack's run folder; the pack-flat-out row is left out");

  const ceilingS = Math.max(3, Math.round(10 * SCALE));
  log(`overhead: autocannon -c${USERS} for ${ceilingS} s`);
  rows.push(
    row(
      await measure(server, async () => {
        const ran = await runCommand(process.execPath, ['--require', 'ts-node/register', join(__dirname, 'pack-autocannon.ts'), server.url, String(USERS), String(ceilingS)], {
          timeoutS: ceilingS + 30,
        });
        return { tool: 'autocannon', load: `${USERS} connections, ${ceilingS} s`, ran };
      }),
    ),
  );
  if (hasWrk()) {
    log(`overhead: wrk -c${USERS} -t2 for ${ceilingS} s`);
    rows.push(
      row(
        await measure(server, async () => {
          const { ran } = await runWrk(server.url, ceilingS);
          return { tool: 'wrk', load: `${USERS} connections, 2 threads, ${ceilingS} s`, ran };
        }),
      ),
    );
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Output.
function machine(): string[] {
  const sh = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args).toString().trim();
    } catch {
      return 'n/a';
    }
  };
  const model = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model ?? 'n/a';
  const mem = sh('free', ['-h']).split('\n').find((l) => l.startsWith('Mem:'))?.split(/\s+/)[1] ?? 'n/a';
  const wrk = hasWrk() ? sh('sh', ['-c', 'wrk --version 2>&1 | head -1']).split(' [')[0] : 'not installed';
  const pkg = (name: string) => {
    try {
      return JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
    } catch {
      return 'n/a';
    }
  };
  return [
    '| | |',
    '|---|---|',
    `| nproc | ${sh('nproc', [])} |`,
    `| CPU | ${model} |`,
    `| memory (free -h, total) | ${mem} |`,
    `| node --version | ${process.version} |`,
    `| tools | artillery ${pkg('artillery')}, autocannon ${pkg('autocannon')}, ${wrk} |`,
  ];
}

function fidelityTable(rows: Measured[]): string[] {
  const lines = [
    '| tool | load | requests (tool / server) | tool p50 / p95 / p99 (ms) | server p50 / p95 / p99 (ms) | excess p50 | excess p95 | excess p99 | background load (cores) |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const l = r.latency;
    const s = r.server;
    lines.push(
      `| ${r.tool}${r.note ? ` (${r.note})` : ''} | ${r.load} | ${r.toolRequests ?? 'n/a'} / ${s.loadRequests} | ${l ? `${f(l.p50)} / ${f(l.p95)} / ${f(l.p99)}` : 'n/a'} | ` +
        `${f(s.p50, 2)} / ${f(s.p95, 2)} / ${f(s.p99, 2)} | ${signed(l && l.p50 - s.p50, 2)} | ${signed(l && l.p95 - s.p95, 2)} | ${signed(l && l.p99 - s.p99, 2)} | ${f(r.background, 2)} |`,
    );
  }
  return lines;
}

function overheadTable(rows: OverheadRow[]): string[] {
  const lines = [
    '| tool | load | requests | load time (s) | requests/s | CPU, whole command (s) | CPU during the load (s) | CPU per 1000 requests during the load (ms) | server CPU | background load (cores) |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.tool}${r.note ? ` (${r.note})` : ''} | ${r.load} | ${r.requests} | ${f(r.seconds)} | ${f(r.requests / r.seconds, 0)} | ${f(r.cpuS, 2)} | ` +
        `${f(r.windowCpuS, 2)} | ${f((r.windowCpuS * 1e6) / Math.max(1, r.requests), 0)} | ${f(r.serverCpuPct, 0)} % | ${f(r.background, 2)} |`,
    );
  }
  return lines;
}

function fixedTable(rows: FixedRow[]): string[] {
  const m = (xs: number[]) => f(median(xs), 2);
  const lines = [
    `| command | start -> first request (s) | start -> first load request (s) | last load request -> exit (s) | last request -> exit (s) | wall (s) | CPU (s) | background load (cores) |`,
    '|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.tool} | ${m(r.toFirst)} | ${m(r.toFirstLoad)} | ${m(r.afterLastLoad)} | ${m(r.afterLast)} | ${m(r.wall)} | ${m(r.cpu)} | ${m(r.background)} |`),
  ];
  const p = rows[0];
  if (p.spawned?.length) {
    // Every moment of the pack's runs, in seconds from the command's start (medians).
    const at = {
      spawned: median(p.spawned),
      preflight: median(p.toFirst),
      load: median(p.toFirstLoad),
      lastLoad: median(p.wall.map((w, i) => w - p.afterLastLoad[i])),
      afterHealth: median(p.wall.map((w, i) => w - p.afterLast[i])),
      exited: median(p.artilleryExited!),
      end: median(p.wall),
    };
    lines.push(
      '',
      "Where the pack's time goes (medians, seconds from the command's start; Artillery's spawn and exit from run.json's `startedAt` and `endedAt`):",
      '',
      '| Artillery spawned | preflight /health | first load request | last load request | after-load /health | Artillery exited | pack exited |',
      '|---|---|---|---|---|---|---|',
      `| ${f(at.spawned, 2)} | ${f(at.preflight, 2)} | ${f(at.load, 2)} | ${f(at.lastLoad, 2)} | ${f(at.afterHealth, 2)} | ${f(at.exited, 2)} | ${f(at.end, 2)} |`,
    );
  }
  return lines;
}

async function main(): Promise<void> {
  const started = Date.now();
  // Transpile whatever changed now, so that no measured run of the pack pays for it.
  (require(join(ROOT, 'bin', 'pack.js')) as { build: () => number }).build();
  log(`temporary files in ${TMP}${QUICK ? ' (quick mode: 5x shorter loads, 1 repetition)' : ''}`);
  try {
    const fid = ONLY ? { rows: [], packArgs: ['--profile', 'standard', '--time-scale', String(Math.round(0.1 * SCALE * 1000) / 1000)] } : await fidelity();
    const server = await startServer(0);
    let fixed: FixedRow[];
    let over: OverheadRow[];
    try {
      over = ONLY === 'fixed' ? [] : await overhead(server, fid.packArgs);
      fixed = ONLY === 'overhead' ? [] : await fixedCost(server);
    } finally {
      await server.stop();
    }
    const out = [
      `<!-- npm run bench${QUICK ? ' -- --quick' : ''}, ${new Date().toISOString()}, ${Math.round((Date.now() - started) / 1000)} s -->`,
      '## Machine',
      '',
      ...machine(),
      '',
      ...(ONLY
        ? []
        : [
            '## Fidelity',
            '',
            'Target: 50 ms fixed delay. "Excess" is the figure the tool reports minus the server\'s own timing (hrtime from arrival to `res.end`) of the same requests.',
            '',
            ...fidelityTable(fid.rows),
            '',
          ]),
    ];
    if (ONLY !== 'fixed') out.push(
      '## Overhead',
      '',
      "Target: 0 ms delay. CPU is user + sys of the command's whole process tree; \"during the load\" is from the load's first request to its last answer as the server saw them; requests/s over the same span.",
      '',
      ...overheadTable(over),
      '',
    );
    if (ONLY !== 'overhead') out.push(
      '## Fixed cost',
      '',
      `Medians of ${REPS} run(s) each, against the 0 ms target. The pack's first request is its preflight /health, its last the after-load /health; "load" requests are Artillery's.`,
      '',
      ...fixedTable(fixed),
      '',
    );
    console.log(out.join('\n'));
    log(`done in ${Math.round((Date.now() - started) / 1000)} s`);
  } finally {
    killEverything();
    rmSync(TMP, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    killEverything();
    process.exit(1);
  });
}
