// `npm run bench:capacity`: the capacity search against a backend of known capacity (the stand-in
// serving 2 requests at a time for 45 ms: 44.4 requests/s, and p99 past the 1000 ms gate from about
// 44 users on). Compares the pack's answer with the truth and with autocannon stepping connections
// the same way (10, 20, ... each held as long as the pack holds a step, judged by the same p99 and
// error-rate gates), and times both searches. Prints a markdown table (docs/benchmarks.md).
//   npm run bench:capacity [-- --time-scale F]   (default 0.667: 20 s holds)
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { stepWindows } from '../src/record/capacity';
import { loadBudgets, loadProfile } from '../src/catalog/config';
import type { RunRecord } from '../src/record/record';

const ROOT = join(__dirname, '..');
const CONCURRENCY = 2;
const SERVICE_MS = 45;
const arg = process.argv.indexOf('--time-scale');
const TIME_SCALE = arg > 0 ? Number(process.argv[arg + 1]) : 0.667;

function startStandIn(): Promise<{ url: string; stop: () => void }> {
  const { spawn } = require('node:child_process') as typeof import('node:child_process');
  const child = spawn(process.execPath, ['bin/pack.js', 'target', '--port', '0', '--capacity', String(CONCURRENCY), '--service-ms', String(SERVICE_MS)], { cwd: ROOT });
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

interface Step {
  users: number;
  rps: number;
  p50: number;
  p99: number;
  errorPct: number;
}

async function main(): Promise<void> {
  const budgets = loadBudgets();
  const spec = loadProfile('capacity').capacity!;
  const truthRps = (CONCURRENCY / SERVICE_MS) * 1000;
  const truthUsers = truthRps * (budgets.gates.p99Ms / 1000);
  console.log(`machine: ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);

  // The pack's search.
  let standIn = await startStandIn();
  const reports = mkdtempSync(join(tmpdir(), 'voxanne-bench-capacity-'));
  let t = performance.now();
  const pack = spawnSync(process.execPath, ['bin/pack.js', 'run', '--profile', 'capacity', '--time-scale', String(TIME_SCALE), '--base-url', standIn.url, '--reports', reports], { cwd: ROOT, encoding: 'utf8' });
  const packSeconds = (performance.now() - t) / 1000;
  standIn.stop();
  const dir = readdirSync(reports).find((f) => /^\d{8}-/.test(f));
  const record = JSON.parse(readFileSync(join(reports, dir!, 'run.json'), 'utf8')) as RunRecord;
  const c = record.capacity!;
  console.log(pack.stdout.split('\n').find((l) => l.startsWith('capacity:')));
  console.log(`pack's run folder: ${join(reports, dir!)}`);

  // autocannon, stepping connections the same way, each step held as long as a step of the pack.
  standIn = await startStandIn();
  const hold = Math.round(stepWindows(spec, TIME_SCALE)[0].holdTo - stepWindows(spec, TIME_SCALE)[0].from);
  const steps: Step[] = [];
  t = performance.now();
  for (let users = spec.start; users <= spec.max; users += spec.step) {
    const out = execFileSync(process.execPath, ['--require', 'ts-node/register', 'bench/capacity-autocannon.ts', standIn.url, String(users), String(hold)], { cwd: ROOT, encoding: 'utf8' });
    const r = JSON.parse(out.trim().split('\n').pop()!) as { requests: number; rps: number; p50: number; p99: number; errors: number };
    steps.push({ users, rps: r.rps, p50: r.p50, p99: r.p99, errorPct: r.requests ? (r.errors / r.requests) * 100 : 100 });
    console.log(`autocannon ${users} connections: ${r.rps.toFixed(1)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms`);
    if (r.p99 >= budgets.gates.p99Ms || steps[steps.length - 1].errorPct >= budgets.gates.errorRatePct) break;
  }
  const acSeconds = (performance.now() - t) / 1000;
  standIn.stop();
  const acHeld = steps.length > 1 ? steps[steps.length - 2] : undefined;
  const acBroke = steps[steps.length - 1];

  const held = c.held === null ? undefined : c.steps[c.held];
  const broke = c.stoppedAt === null ? undefined : c.steps[c.stoppedAt];
  const f = (n: number | undefined) => (n === undefined ? '-' : n >= 100 ? String(Math.round(n)) : n.toFixed(1));
  console.log(`\ntime scale ${TIME_SCALE} (steps of ${hold} s: the pack judges each on the whole periods of its hold, autocannon on the whole step); truth: ${CONCURRENCY} at a time x ${SERVICE_MS} ms\n`);
  console.log('| search | highest step held | its req/s | its p99 | broke at | time to the answer |');
  console.log('|---|---|---|---|---|---|');
  console.log(`| truth | ${f(truthUsers)} users (p99 reaches 1000 ms) | ${f(truthRps)} | - | above ${f(truthUsers)} users | - |`);
  console.log(`| pack \`--profile capacity\` | ${held?.users ?? '-'} users | ${f(held?.requestsPerSecond)} | ${f(held?.latency?.p99)} ms | ${broke?.users ?? '-'} users (${broke?.broken.map((b) => b.gate).join(', ') ?? c.result}) | ${f(packSeconds)} s (whole command) |`);
  console.log(`| autocannon, same steps | ${acHeld?.users ?? '-'} connections | ${f(acHeld?.rps)} | ${f(acHeld?.p99)} ms | ${acBroke.users} connections | ${f(acSeconds)} s (the loads only) |`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
