// `npm run record-fixtures [-- NAME ...]`: records real runs, one per situation the pack's decisions
// care about, into test/fixtures/runs/<situation>/. Each is the pack's own command line (`demo`,
// or `run` against a stand-in started here on loopback), with real Artillery and short time
// scales. A recording keeps what a replay needs (plan.json, end.json, events.ndjson, and tail.json
// when Artillery was killed), Artillery's output (artillery.json, trimmed when large), the record
// the run wrote (run.json) and the terminal summary it printed (summary.txt). The decision tests
// (test/decisions.test.ts) read them without starting Artillery.
//
// `npm run record-fixtures -- --replay` runs nothing: it rewrites each recording's run.json and
// summary.txt from its plan and events, for when only the pack's decisions changed (not Artillery,
// the channel or the contract).
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { replayRunFolder } from '../src/record/replay';
import { END_FILE, OUTPUT_FILE, PLAN_FILE } from '../src/common/run-files';
import { startStandIn, type StandIn, type StandInOptions } from '../src/standin/server';
import { formatSummary } from '../src/outputs/summary';
import { childrenOf, cleanEnv, closedPort, ROOT } from './helpers';

export const FIXTURES = join(ROOT, 'test', 'fixtures', 'runs');
/** The index of the recordings: what each shows, how it was made, and what the process exited with. */
export const SITUATIONS_FILE = join(FIXTURES, 'situations.json');

/** The smoke profile squeezed into 10 s of load (the shortest the pack accepts). */
const QUICK = ['--profile', 'smoke', '--time-scale', '0.25'];

interface Stop {
  signal: NodeJS.Signals;
  /** The pack's own process (as Ctrl-C does), or the Artillery process it started. */
  to: 'pack' | 'artillery';
  /** Sent once the channel holds this text, plus `afterMs`. */
  when: string;
  afterMs?: number;
}

interface Situation {
  name: string;
  what: string;
  command: 'demo' | 'run';
  args: string[];
  /** `run` only: the stand-in started here (null: a loopback port with nothing listening; absent: no target needed). */
  standIn?: StandInOptions | null;
  stop?: Stop;
}

const SITUATIONS: Situation[] = [
  { name: 'healthy', what: 'a healthy backend: every gate passes', command: 'demo', args: QUICK },
  // Faults well past their gates: a recording near a limit would pass or fail by the draw of one request.
  {
    name: 'errors',
    what: '30 % server errors: the error-rate gate fails',
    command: 'run',
    args: QUICK,
    standIn: { errorRate: 0.3, faultsAfterRequests: 2, latencyScale: 0.2, seed: 7 },
  },
  {
    name: 'slow',
    what: 'assistants answers in 1.3 s: the p99 gate fails, its budget warns',
    command: 'run',
    args: QUICK,
    standIn: { slow: { assistants: 1300 }, latencyScale: 0.2, seed: 7 },
  },
  {
    name: 'timeouts',
    what: '10 % of requests hang past a 2 s timeout: the timeouts gate fails',
    command: 'run',
    args: [...QUICK, '--timeout', '2'],
    standIn: { hangRate: 0.1, faultsAfterRequests: 2, latencyScale: 0.2, seed: 7 },
  },
  {
    name: 'degraded-at-end',
    what: '/health fails at the end of the load: unhealthy after, exit 4',
    command: 'demo',
    args: [...QUICK, '--fault', 'degraded-at-end'],
  },
  {
    name: 'rate-limit',
    what: "a limiter of 30 /api requests an hour, fewer than the run's ~39: it goes (more than half fits), meets 429s and fails the rate-limited gate",
    command: 'run',
    args: QUICK,
    standIn: { rateLimit: { limit: 30, windowSeconds: 3600 } },
  },
  {
    name: 'over-limit',
    what: 'a limiter of 10 /api requests an hour: less than half of the run fits, so it is refused before the load, exit 2',
    command: 'run',
    args: QUICK,
    standIn: { rateLimit: { limit: 10, windowSeconds: 3600 } },
  },
  {
    name: 'over-limit-confirmed',
    what: 'the same limiter of 10 an hour, with --yes and --count-429: the load goes all the same, and its 429s count in the error rate',
    command: 'run',
    args: [...QUICK, '--yes', '--count-429'],
    standIn: { rateLimit: { limit: 10, windowSeconds: 3600 } },
  },
  {
    name: 'over-budget',
    what: '/api/vapi/webhook/health answers in 300 ms under --strict: its p95 budget fails the run while every whole-run gate passes',
    command: 'run',
    args: [...QUICK, '--strict'],
    standIn: { slow: { webhook_health: 300 }, latencyScale: 0.2, seed: 7 },
  },
  {
    name: 'too-short',
    what: 'every answer takes 2.5 s: far fewer requests than planned, "too short to judge", exit 1',
    command: 'run',
    args: QUICK,
    standIn: { extraLatencyMs: 2500 },
  },
  {
    name: 'broken-bodies',
    what: '5 % of connections reset and 5 % of bodies not JSON: each counted by its kind, exit 1',
    command: 'run',
    args: QUICK,
    standIn: { resetRate: 0.05, garbageRate: 0.05, latencyScale: 0.2, seed: 11 },
  },
  {
    name: 'voice-api-down',
    what: 'the voice API behind assistants is down: its fallback body, flagged',
    command: 'demo',
    args: [...QUICK, '--fault', 'voice-api-down'],
  },
  { name: 'target-down', what: 'nothing listens at the target: unhealthy before, exit 3, no load', command: 'run', args: QUICK, standIn: null },
  {
    name: 'health-degraded',
    what: '/health answers 503 from the start: unhealthy before, exit 3, no load',
    command: 'run',
    args: QUICK,
    standIn: { healthDegraded: true },
  },
  {
    name: 'api-failing',
    what: '/health is ok but the API answers 500: unhealthy before, exit 3, no load',
    command: 'run',
    args: QUICK,
    standIn: { errorRate: 1, faultsAfterRequests: 1 },
  },
  {
    name: 'aborted',
    what: '/health degrades 4 s into a 20 s load with the breaker on: its next check stops the load early, aborted, exit 1',
    command: 'run',
    args: ['--profile', 'smoke', '--time-scale', '0.5', '--breaker', 'on'],
    standIn: { healthDegraded: { afterSeconds: 4, fromRequest: 3 } },
  },
  {
    name: 'interrupted',
    what: 'Ctrl-C (SIGINT) 3 s into the load: interrupted, exit 130; what Artillery had not reported yet comes from the workers',
    command: 'demo',
    args: QUICK,
    stop: { signal: 'SIGINT', to: 'pack', when: '"type":"phase"', afterMs: 3000 },
  },
  {
    name: 'interrupted-before-load',
    what: 'Ctrl-C (SIGINT) right after the preflight: interrupted before the load, exit 130',
    command: 'demo',
    args: QUICK,
    stop: { signal: 'SIGINT', to: 'pack', when: '"type":"preflight"' },
  },
  {
    name: 'interrupted-after-load',
    what: 'Ctrl-C (SIGINT) during the check after the load (a /health that takes 3 s): interrupted, exit 130, everything measured kept',
    command: 'run',
    args: QUICK,
    standIn: { slow: { health: 3000 } },
    stop: { signal: 'SIGINT', to: 'pack', when: '"type":"end"', afterMs: 500 },
  },
  {
    name: 'killed',
    what: 'Artillery killed (SIGKILL) 4 s into the load: crashed, exit 5, the open period from tail.json',
    command: 'demo',
    args: QUICK,
    stop: { signal: 'SIGKILL', to: 'artillery', when: '"type":"phase"', afterMs: 4000 },
  },
  {
    name: 'capacity',
    what: 'a capacity search against a backend serving one request at a time for 60 ms (16.7 req/s): the answer and its steps',
    command: 'run',
    args: ['--profile', 'capacity'],
    standIn: { capacity: { concurrency: 1, serviceMs: 60 }, seed: 3 },
  },
  {
    name: 'capacity-generator-limit',
    what: 'a capacity search against a backend with no limit and no delay: the load generator, not the backend, is the bottleneck',
    command: 'run',
    args: ['--profile', 'capacity'],
    standIn: { latencyScale: 0, seed: 3 },
  },
  {
    name: 'distributed',
    what: "the record of a distributed run (1 Fargate worker) from Artillery's output of a real run: periods from Artillery's summaries, no sketches",
    command: 'run',
    args: ['--profile', 'smoke', '--time-scale', '0.5', '--platform', 'fargate', '--count', '1', '--from-output', 'test/fixtures/combined-output.json'],
  },
];

/** The terminal summary as the run printed it (formatSummary's text, between the start lines and the run folder's path). */
function summaryOf(stdout: string): string {
  const from = stdout.indexOf('\nVoxanne load test:');
  const to = stdout.indexOf('\n\nrun folder:');
  if (from < 0 || to < from) throw new Error(`no summary in the output:\n${stdout}`);
  return stdout.slice(from, to);
}

/** Runs one situation through the pack's command line; returns its run folder, exit code and output. */
async function record(s: Situation, reports: string): Promise<{ dir: string; code: number | null; stdout: string }> {
  let standIn: StandIn | undefined;
  const args = [...s.args];
  if (s.command === 'run' && s.standIn !== undefined) {
    if (s.standIn === null) args.push('--base-url', `http://127.0.0.1:${await closedPort()}`);
    else {
      standIn = await startStandIn(s.standIn);
      args.push('--base-url', standIn.url);
    }
  }
  try {
    const child = spawn(process.execPath, ['bin/pack.js', s.command, ...args, '--reports', reports], {
      cwd: ROOT,
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => process.stderr.write(d));
    const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const runDir = () => readdirSync(reports).find((f) => /^\d{8}-/.test(f));
    if (s.stop) {
      const { stop } = s;
      const events = () => {
        const dir = runDir();
        const file = dir && join(reports, dir, 'events.ndjson');
        return file && existsSync(file) ? readFileSync(file, 'utf8') : '';
      };
      let done = false;
      void closed.then(() => (done = true));
      while (!done && !events().includes(stop.when)) await sleep(50);
      if (stop.afterMs) await sleep(stop.afterMs);
      // A run that ended before its signal is not the situation asked for: no recording.
      if (done) throw new Error(`${s.name}: the run ended before the ${stop.signal} (exit ${await closed}):\n${stdout}`);
      if (stop.to === 'pack') child.kill(stop.signal);
      else {
        const artillery = childrenOf(child.pid!);
        if (!artillery.length) throw new Error(`${s.name}: no Artillery process to send ${stop.signal} to`);
        for (const pid of artillery) process.kill(pid, stop.signal);
      }
    }
    const code = await closed;
    const dir = runDir();
    if (!dir) throw new Error(`${s.name}: no run folder (exit ${code}):\n${stdout}`);
    return { dir: join(reports, dir), code, stdout };
  } finally {
    await standIn?.close();
  }
}

/**
 * Artillery's output, trimmed when large: without `histograms` (the same figures as `summaries`) and
 * without the periods' summaries (the channel has their sketches). Still an output the pack reads
 * (readCombinedOutput), with every counter of every period and the whole run's summaries.
 */
function trimmedOutput(file: string): string {
  const text = readFileSync(file, 'utf8');
  if (text.length < 8_000) return text;
  const json = JSON.parse(text) as { aggregate?: Record<string, unknown>; intermediate?: Array<Record<string, unknown>> };
  if (json.aggregate) delete json.aggregate.histograms;
  for (const period of json.intermediate ?? []) {
    delete period.histograms;
    delete period.summaries;
  }
  return JSON.stringify(json);
}

export const artilleryVersion = (): string => JSON.parse(readFileSync(join(ROOT, 'node_modules', 'artillery', 'package.json'), 'utf8')).version;

const KEPT = [PLAN_FILE, END_FILE, 'events.ndjson'];

/** tail.json matters only when Artillery wrote no end to the channel (it was killed): kept then, to keep the recordings small. */
const needsTail = (dir: string): boolean =>
  existsSync(join(dir, 'events.ndjson')) && !readFileSync(join(dir, 'events.ndjson'), 'utf8').includes('"type":"end"');

async function recordAll(names: string[]): Promise<void> {
  const chosen = names.length ? SITUATIONS.filter((s) => names.includes(s.name)) : SITUATIONS;
  const unknown = names.filter((n) => !SITUATIONS.some((s) => s.name === n));
  if (unknown.length) throw new Error(`unknown situation ${unknown.join(', ')}; choose from ${SITUATIONS.map((s) => s.name).join(', ')}`);
  const index: Record<string, unknown> = existsSync(SITUATIONS_FILE) ? (JSON.parse(readFileSync(SITUATIONS_FILE, 'utf8')).situations ?? {}) : {};
  for (const s of chosen) {
    const reports = mkdtempSync(join(tmpdir(), 'voxanne-record-'));
    try {
      process.stdout.write(`${s.name}: ${s.what} ... `);
      const { dir, code, stdout } = await record(s, reports);
      const into = join(FIXTURES, s.name);
      rmSync(into, { recursive: true, force: true });
      mkdirSync(into, { recursive: true });
      for (const f of KEPT) if (existsSync(join(dir, f))) copyFileSync(join(dir, f), join(into, f));
      if (needsTail(dir) && existsSync(join(dir, 'tail.json'))) copyFileSync(join(dir, 'tail.json'), join(into, 'tail.json'));
      // A distributed run's record is made from Artillery's output: kept whole.
      const distributed = s.args.includes('--platform');
      if (existsSync(join(dir, OUTPUT_FILE)))
        writeFileSync(join(into, OUTPUT_FILE), distributed ? readFileSync(join(dir, OUTPUT_FILE)) : trimmedOutput(join(dir, OUTPUT_FILE)));
      copyFileSync(join(dir, 'run.json'), join(into, 'run.json'));
      writeFileSync(join(into, 'summary.txt'), summaryOf(stdout));
      const stand = s.command === 'run' ? (s.standIn === null ? ' (nothing listening)' : ` (stand-in ${JSON.stringify(s.standIn)})`) : '';
      index[s.name] = {
        what: s.what,
        command: `node bin/pack.js ${s.command} ${s.args.join(' ')}${stand}${s.stop ? `; ${s.stop.signal} to the ${s.stop.to} once the channel has ${s.stop.when}${s.stop.afterMs ? ` + ${s.stop.afterMs} ms` : ''}` : ''}`,
        exitCode: code,
      };
      const size = readdirSync(into).reduce((sum, f) => sum + statSync(join(into, f)).size, 0);
      console.log(`exit ${code}, ${Math.round(size / 1024)} KB`);
    } finally {
      rmSync(reports, { recursive: true, force: true });
    }
  }
  const situations = Object.fromEntries(SITUATIONS.filter((s) => index[s.name]).map((s) => [s.name, index[s.name]]));
  // The Artillery that made them: the tests say when it is no longer the one installed.
  writeFileSync(SITUATIONS_FILE, `${JSON.stringify({ artillery: artilleryVersion(), situations }, null, 2)}\n`);
}

/** Rewrites each recording's record and summary from its plan and events (no run). */
function replayAll(): void {
  for (const name of readdirSync(FIXTURES).filter((f) => statSync(join(FIXTURES, f)).isDirectory())) {
    const record = replayRunFolder(join(FIXTURES, name));
    writeFileSync(join(FIXTURES, name, 'run.json'), JSON.stringify(record));
    writeFileSync(join(FIXTURES, name, 'summary.txt'), formatSummary(record));
    console.log(`${name}: ${record.outcome}, exit ${record.exitCode}`);
  }
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const done = args.includes('--replay') ? Promise.resolve(replayAll()) : recordAll(args);
  done.then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
