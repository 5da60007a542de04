// The tools the bench compares, run against its target (bench/lib/measure.ts runs and times each
// command): the pack's own command line, a plain Artillery script (with or without think time and a
// no-op processor), wrk with a Lua script over the journey's paths; what each one reports of the
// latency; and the table of the machine and the tools' versions every result is printed with.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { JOURNEY_PATHS } from '../pack-autocannon';
import { baseEnv, log, ROOT, runCommand, tempDir, type Latency, type Ran, type Server } from './measure';

const ARTILLERY = join(ROOT, 'node_modules', 'artillery', 'bin', 'run');
/** The users (connections, for wrk and autocannon) of every load but the fixed-cost section's. */
export const USERS = 10;

/**
 * The pack's load in the fidelity and overhead sections: the standard profile at time scale 0.1
 * (times the bench's scale): 0->5 users in 6 s, ->10 in 12 s, 10 for 18 s, ->0 in 6 s.
 */
export function standardLoad(scale: number): { timeScale: number; packArgs: string[] } {
  // At least x0.025 (10.5 s of load): the pack refuses a load shorter than one reporting period.
  const timeScale = Math.max(0.025, Math.round(0.1 * scale * 1000) / 1000);
  return { timeScale, packArgs: ['--profile', 'standard', '--time-scale', String(timeScale)] };
}

/** Runs the pack's command line against the server; returns the run record (run.json) too. */
export async function runPack(server: Server, args: string[], timeoutS: number): Promise<{ ran: Ran; record: any; dir?: string }> {
  const reports = mkdtempSync(join(tempDir(), 'pack-'));
  const ran = await runCommand(process.execPath, ['bin/pack.js', 'run', '--env', 'local', '--base-url', server.url, ...args, '--reports', reports], {
    timeoutS,
  });
  const runs = readdirSync(reports).filter((d) => existsSync(join(reports, d, 'run.json')));
  const dir = runs.length ? join(reports, runs.sort()[runs.length - 1]) : undefined;
  const record = dir ? JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) : undefined;
  if (ran.code !== 0)
    log(`pack exited ${ran.code}${ran.timedOut ? ' (deadline)' : ''}: ${(ran.stderr || ran.stdout).trim().split('\n').slice(-3).join(' | ')}`);
  return { ran, record, dir };
}

export interface BareOptions {
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
export function bareScript(url: string, o: BareOptions): string {
  const loop: unknown[] = JOURNEY_PATHS.map((path) => ({ get: { url: path } }));
  if (o.thinkS) loop.push({ think: o.thinkS });
  return stringify({
    config: { target: url, phases: [{ duration: o.arrivalSpan ?? 1, arrivalCount: o.users }], ...(o.processor ? { processor: o.processor } : {}) },
    scenarios: [{ name: 'bare', ...(o.processor ? { beforeRequest: 'noop' } : {}), flow: [{ loop, count: o.loops }] }],
  });
}

export async function runArtilleryScript(name: string, script: string, timeoutS: number, env: Record<string, string> = {}): Promise<{ ran: Ran; report: any }> {
  const dir = mkdtempSync(join(tempDir(), `${name}-`));
  const file = join(dir, 'script.yml');
  writeFileSync(file, script);
  const out = join(dir, 'out.json');
  const ran = await runCommand(process.execPath, [ARTILLERY, 'run', file, '-o', out], { timeoutS, env: { ...baseEnv(), ...env } });
  if (ran.code !== 0) log(`artillery (${name}) exited ${ran.code}${ran.timedOut ? ' (deadline)' : ''}: ${ran.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  const report = existsSync(out) ? JSON.parse(readFileSync(out, 'utf8')) : undefined;
  return { ran, report };
}

export const artilleryLatency = (report: any): Latency | null => {
  const s = report?.aggregate?.summaries?.['http.response_time'];
  return s ? { p50: s.p50 ?? s.median, p95: s.p95, p99: s.p99 } : null;
};
export const artilleryRequests = (report: any): number | undefined => report?.aggregate?.counters?.['http.requests'];

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

export function hasWrk(): boolean {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (err) {
    // wrk --version prints its usage and exits 1: it is there; ENOENT means it is not.
    return (err as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

export async function runWrk(url: string, seconds: number): Promise<{ ran: Ran; latency: Latency | null; requests?: number; errors?: number }> {
  const lua = join(tempDir(), 'journey.lua');
  writeFileSync(lua, WRK_LUA);
  const ran = await runCommand('wrk', [`-c${USERS}`, '-t2', `-d${seconds}s`, '--latency', '-s', lua, url], { timeoutS: seconds + 30 });
  const m = /^BENCH (\d+) (\d+) ([\d.]+) ([\d.]+) ([\d.]+)$/m.exec(ran.stdout);
  if (!m) return { ran, latency: null };
  return { ran, requests: Number(m[1]), errors: Number(m[2]), latency: { p50: Number(m[3]) / 1000, p95: Number(m[4]) / 1000, p99: Number(m[5]) / 1000 } };
}

/** The machine and the tools, as a markdown table. */
export function machine(): string[] {
  const sh = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args).toString().trim();
    } catch {
      return 'n/a';
    }
  };
  const model = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model ?? 'n/a';
  const mem =
    sh('free', ['-h'])
      .split('\n')
      .find((l) => l.startsWith('Mem:'))
      ?.split(/\s+/)[1] ?? 'n/a';
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
