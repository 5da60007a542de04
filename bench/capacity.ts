// `npm run bench:capacity`: the capacity search against stand-ins of known capacity, over the range
// (default 20, 200, 500, 1000 and 2000 requests/s: N at a time for MS ms). For each: the pack's
// `--profile capacity` (the whole command, timed), its load generator's CPU per step read from
// /proc for each thread of the Artillery process (its worker: the busiest thread), a fixed-profile
// run of the pack at each step's users for the same rate (its CPU per request, the bar for that
// step), and autocannon stepping the same way (the same search, src/search/,
// choosing each step from what autocannon measured with that many connections), all against the
// truth: the capacity, and by Little's law the users at which a request waits 1000 ms (the p99
// gate). CPU is given in ms of CPU per request (robust to a busy machine) and % of a core.
// Prints markdown tables (docs/benchmarks.md).
//   npm run bench:capacity [-- --capacities 20,200,500,1000,2000] [--no-autocannon] [--no-fixed]
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { answerCapacity, bracket } from '../src/record/capacity-answer';
import { nextStep } from '../src/search/next-step';
import { windowDone } from '../src/search/judge';
import type { CapacityStep } from '../src/channel/capacity-step';
import { capacityLimits } from '../src/plan/capacity';
import { loadBudgets, loadProfile } from '../src/catalog/config';
import { signJwt } from '../src/common/jwt';
import type { RunRecord } from '../src/record/record';
import { JOURNEY_PATHS } from './pack-autocannon';
import { busiest, watchThreads } from './lib/threads';

const ROOT = join(__dirname, '..');
/** Stand-ins by capacity (req/s): requests served at once, and each one's service time. */
const STAND_INS: Record<number, { concurrency: number; serviceMs: number }> = {
  10: { concurrency: 1, serviceMs: 100 },
  20: { concurrency: 1, serviceMs: 50 },
  50: { concurrency: 1, serviceMs: 20 },
  200: { concurrency: 4, serviceMs: 20 },
  500: { concurrency: 10, serviceMs: 20 },
  1000: { concurrency: 20, serviceMs: 20 },
  2000: { concurrency: 40, serviceMs: 20 },
  2500: { concurrency: 50, serviceMs: 20 },
};
const arg = process.argv.indexOf('--capacities');
const CAPACITIES = (arg > 0 ? process.argv[arg + 1] : '20,200,500,1000,2000').split(',').map(Number);
const AUTOCANNON = !process.argv.includes('--no-autocannon');
const FIXED = !process.argv.includes('--no-fixed');
/** The fixed-profile run's load: a short ramp, then this long at a step's users (at least one whole 10 s period). */
const FIXED_SECONDS = 20;

function startStandIn(c: { concurrency: number; serviceMs: number }): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, ['bin/pack.js', 'standin', '--port', '0', '--capacity', String(c.concurrency), '--service-ms', String(c.serviceMs)], {
    cwd: ROOT,
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const url = /http:\/\/\S+/.exec(out)?.[0];
      if (url) resolve({ url, stop: () => child.kill('SIGTERM') });
    });
    child.on('exit', (code) => reject(new Error(`stand-in exited ${code}: ${out}`)));
  });
}

interface AutocannonResult {
  requests: { total: number };
  latency: { p50: number; p97_5: number; p99: number; mean: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  duration: number;
}
type Autocannon = (opts: Record<string, unknown>, cb: (err: Error | null, result: AutocannonResult) => void) => unknown;
const autocannon = require('autocannon') as Autocannon;

const token = signJwt({ sub: 'bench', email: 'bench@example.com', app_metadata: { org_id: 'bench-org' }, exp: Math.floor(Date.now() / 1000) + 3600 }, 'bench');
let n = 0;
// Each request its own X-Forwarded-For address and a development token, as the pack's search sends on loopback.
const spread = (req: { headers?: Record<string, string> }) => {
  const i = n++ % 131072;
  return { ...req, headers: { ...req.headers, authorization: `Bearer ${token}`, 'x-forwarded-for': `198.${18 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}` } };
};
const load = (url: string, connections: number, seconds: number) =>
  new Promise<AutocannonResult>((resolve, reject) =>
    autocannon(
      { url, connections, duration: seconds, timeout: 10, requests: JOURNEY_PATHS.map((path) => ({ method: 'GET', path, setupRequest: spread })) },
      (err, r) => (err ? reject(err) : resolve(r)),
    ),
  );

const search = loadProfile('capacity').capacity!;
const limits = capacityLimits(loadBudgets(), false, 10_000);

/** The same search, each step measured by autocannon with that many connections. */
async function autocannonSearch(url: string): Promise<{ steps: CapacityStep[]; seconds: number }> {
  const steps: CapacityStep[] = [];
  const t = performance.now();
  for (let d = nextStep(steps, search, limits); d && (performance.now() - t) / 1000 < search.maxSeconds; d = nextStep(steps, search, limits)) {
    const last = steps[steps.length - 1];
    // The same settling and measuring window as the pack's steps (autocannon's figures include the settling).
    const settle = Math.ceil(search.settleSeconds + Math.min(5, (last?.latency?.p99 ?? 0) / 1000));
    const window = [...Array(search.maxStepSeconds).keys()].map((k) => k + 1).find((k) => windowDone(search, k, (last?.requestsPerSecond ?? 0) * k))!;
    const r = await load(url, d.users, settle + window);
    const errors = r.errors + r.timeouts + r.non2xx;
    const errorRatePct = r.requests.total ? (errors / r.requests.total) * 100 : 100;
    const broken = [
      ...(r.latency.p99 >= limits.p99Ms ? [{ gate: 'p99' as const, value: r.latency.p99, limit: limits.p99Ms }] : []),
      ...(errorRatePct >= limits.errorRatePct ? [{ gate: 'error-rate' as const, value: errorRatePct, limit: limits.errorRatePct }] : []),
    ];
    const rps = r.requests.total / r.duration;
    steps.push({
      users: d.users,
      phase: d.phase,
      predicted: d.predicted,
      since: 0,
      from: 0,
      to: 0,
      seconds: r.duration,
      requests: r.requests.total,
      requestsPerSecond: Math.round(rps * 10) / 10,
      latency: { p50: r.latency.p50, p95: r.latency.p97_5, p99: r.latency.p99 },
      errorRatePct,
      timeouts: r.timeouts,
      rateLimitedPct: 0,
      cpuPct: null,
      loopDelayMs: null,
      broken,
      generatorLimited: false,
      verdict: broken.length ? 'broken' : 'held',
      endpoints: [],
    });
  }
  return { steps, seconds: (performance.now() - t) / 1000 };
}

const f = (v: number | null | undefined) => (v === null || v === undefined ? '-' : v >= 100 ? String(Math.round(v)) : v.toFixed(1));
const f2 = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(2));

/** Runs the pack (the whole command), watching the Artillery process's threads; its record and time. */
async function runPack(args: string[], env: NodeJS.ProcessEnv = {}) {
  const reports = mkdtempSync(join(tmpdir(), 'voxanne-bench-capacity-'));
  const t = performance.now();
  const child = spawn(process.execPath, ['bin/pack.js', 'run', ...args, '--reports', reports], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stdout += d));
  const threads = watchThreads(child.pid!, /artillery/);
  await new Promise((resolve) => child.on('exit', resolve));
  threads.stop();
  const seconds = (performance.now() - t) / 1000;
  const dir = readdirSync(reports).find((x) => /^\d{8}-/.test(x));
  if (!dir) throw new Error(`no run folder: ${stdout}`);
  const record = JSON.parse(readFileSync(join(reports, dir, 'run.json'), 'utf8')) as RunRecord;
  /** The worker's CPU over [from, to): ms per request and % of a core. */
  const cpu = (from: number, to: number, requests: number) => {
    const b = busiest(threads.cpuBetween(from, to));
    const span = threads.spanMs(from, to);
    if (!b || !span || !requests) return null;
    return { msPerRequest: b.ms / ((requests * span) / (to - from)), pct: (b.ms / span) * 100 };
  };
  return { record, stdout, seconds, cpu, folder: join(reports, dir) };
}

/** A fixed profile of `users` back to back (no pause), through the pack: its worker's CPU per request at that rate. */
async function fixedRun(url: string, users: number) {
  const file = join(mkdtempSync(join(tmpdir(), 'voxanne-bench-profiles-')), 'profiles.yml');
  writeFileSync(
    file,
    `fixed:\n  description: "${users} users back to back"\n  thinkSeconds: 0\n  minRps: 0\n  stages:\n    - { duration: 2s, target: ${users} }\n    - { duration: ${FIXED_SECONDS}s, target: ${users} }\n`,
  );
  const r = await runPack(['--profile', 'fixed', '--base-url', url, '--spread-ips', '--yes'], { VOXANNE_PROFILES: file });
  // The held part only: the record's whole periods past the 2 s ramp and before the load's planned end,
  // with the requests they counted (the run's overall rate divides by its planned seconds, not these).
  const loadStart = Date.parse(r.record.loadStartedAt ?? r.record.startedAt);
  const periodMs = r.record.periodSeconds * 1000;
  const held = r.record.periods.filter((p) => p.start >= loadStart + 2000 && p.start + periodMs <= loadStart + (2 + FIXED_SECONDS) * 1000);
  if (!held.length) throw new Error(`the fixed run at ${users} users has no whole period to measure: ${r.folder}`);
  const from = held[0].start;
  const to = held[held.length - 1].start + periodMs;
  const rps = held.reduce((n, p) => n + p.requests, 0) / ((to - from) / 1000);
  /** The same seconds of the load as a step measured `[fromMs, toMs)` after its own load started, at the held rate: the JIT as warm, or as cold. */
  const sameSeconds = (fromMs: number, toMs: number) => r.cpu(loadStart + fromMs, loadStart + toMs, rps * ((toMs - fromMs) / 1000));
  return { rps, users, cpu: r.cpu(from, to, rps * ((to - from) / 1000)), sameSeconds, periods: held.length };
}

async function main(): Promise<void> {
  console.log(
    `machine: ${cpus().length} cores, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} at the start`,
  );
  const rows: string[] = [];
  const cpuRows: string[] = [];
  for (const capacity of CAPACITIES) {
    const stand = STAND_INS[capacity];
    if (!stand) throw new Error(`no stand-in for ${capacity} req/s; choose from ${Object.keys(STAND_INS).join(', ')}`);
    const truthUsers = (capacity * limits.p99Ms) / 1000;
    const label = `${capacity} req/s (${stand.concurrency} at a time x ${stand.serviceMs} ms)`;
    rows.push(`| ${label} | truth | ${capacity} req/s | ~${f(truthUsers)} users (latency reaches 1000 ms) | | | | |`);

    // The pack's search: the whole command, from its start to its answer and exit.
    let standIn = await startStandIn(stand);
    const load0 = loadavg()[0];
    const pack = await runPack(['--profile', 'capacity', '--base-url', standIn.url]);
    standIn.stop();
    const c = pack.record.capacity!;
    console.log(`${label}, pack (load ${load0.toFixed(1)}): ${pack.stdout.split('\n').find((l) => l.startsWith('capacity:'))}`);
    console.log(`  steps: ${c.steps.map((s) => `${s.users} ${s.verdict}${s.phase === 'again' ? ' (again)' : ''}`).join(', ')}; run folder ${pack.folder}`);
    const held = c.held === null ? undefined : c.steps[c.held];
    const broke = c.stoppedAt === null ? undefined : c.steps[c.stoppedAt];
    const brokeText = broke
      ? broke.verdict === 'generator-limit'
        ? `generator limit at ${broke.users}`
        : `${broke.users} (${broke.broken.map((b) => b.gate).join(', ')})`
      : '-';
    const limitNote = c.result === 'generator-limit' ? " (the generator's limit: at least)" : '';
    rows.push(
      `| | pack \`--profile capacity\` | ${c.result === 'generator-limit' ? `${f(c.atLeastRps)} req/s${limitNote}` : `${f(c.knee?.requestsPerSecond)} req/s at ${c.knee?.users ?? '-'} users`} | ${held?.users ?? '-'} users (p99 ${f(held?.latency?.p99)} ms) | ${brokeText} | ${c.steps.length} | ${c.result} | ${f(pack.seconds)} s |`,
    );

    // The generator, step by step (its worker thread, from /proc), against a fixed profile at the same users.
    const steps = c.steps.map((s) => ({ s, cpu: s.from !== undefined && s.to !== undefined ? pack.cpu(s.from, s.to, s.requests) : null }));
    // One fixed run at each step's users: the same rate on this backend, without the search around it.
    const fixed = new Map<number, Awaited<ReturnType<typeof fixedRun>>>();
    if (FIXED) {
      for (const users of new Set(c.steps.map((s) => s.users))) {
        standIn = await startStandIn(stand);
        fixed.set(users, await fixedRun(standIn.url, users));
        standIn.stop();
      }
    }
    // Each step against its fixed run's held part; the first step against the same seconds of its
    // fixed run (both are a run's first measured seconds, while Node still compiles the request path).
    const loadStart = Date.parse(pack.record.loadStartedAt ?? pack.record.startedAt);
    const compared = steps.map((x, i) => {
      const run = fixed.get(x.s.users);
      const ref = i === 0 && x.s.from !== undefined && x.s.to !== undefined ? run?.sameSeconds(x.s.from - loadStart, x.s.to - loadStart) : run?.cpu;
      return { ...x, ref, ratio: x.cpu && ref ? x.cpu.msPerRequest / ref.msPerRequest : null };
    });
    const worst = Math.max(0, ...compared.map((x) => x.ratio ?? 0));
    cpuRows.push(
      `| ${capacity} req/s | ${compared.map((x) => `${x.s.users}: ${f2(x.cpu?.msPerRequest)} ms (${f(x.cpu?.pct)} %) vs ${f2(x.ref?.msPerRequest)} ms${x.ratio ? ` (${x.ratio.toFixed(2)}x)` : ''}`).join(', ')} | ${worst ? `${worst.toFixed(2)}x` : '-'} |`,
    );
    console.log(`  generator per step: ${cpuRows[cpuRows.length - 1]}`);

    if (!AUTOCANNON) continue;
    // autocannon, the same search.
    standIn = await startStandIn(stand);
    const t = performance.now();
    const ac = await autocannonSearch(standIn.url);
    standIn.stop();
    const a = answerCapacity(ac.steps, { budgets: {}, endpointPath: (x) => x, search, requestsPerJourney: JOURNEY_PATHS.length, timeUp: false });
    const { lo, hi } = bracket(ac.steps);
    const acHeld = ac.steps.find((s) => s.users === lo && s.verdict === 'held');
    console.log(`${label}, autocannon: ${ac.steps.map((s) => `${s.users} ${f(s.requestsPerSecond)} req/s p99 ${s.latency?.p99} ${s.verdict}`).join('; ')}`);
    rows.push(
      `| | autocannon, same search | ${f(a.knee?.requestsPerSecond)} req/s at ${a.knee?.users ?? '-'} connections | ${lo ?? '-'} connections (p99 ${f(acHeld?.latency?.p99)} ms) | ${hi ?? '-'} | ${ac.steps.length} | ${a.result} | ${f((performance.now() - t) / 1000)} s |`,
    );
  }
  console.log(
    `\nload average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} at the end\n`,
  );
  console.log('| backend | search | highest throughput (the knee) | held | broke at | steps | result | time to the answer |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
  console.log(
    "\n| backend | each search step: users: the generator's CPU per request (% of a core) vs a fixed run at those users (the first step: over the same seconds of the load) | worst step vs its fixed run |",
  );
  console.log('|---|---|---|');
  for (const r of cpuRows) console.log(r);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
