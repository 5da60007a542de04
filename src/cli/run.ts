// One load-test run: check the input, plan the users, run Artillery on the scenario, then write the
// run record and print the verdict. `npm run test:local` / `test:prod` start here.
import { spawn } from 'node:child_process';
import { appendFileSync, copyFileSync, createWriteStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { stringify } from 'yaml';
import type { ArtilleryEnd } from '../record/assemble';
import { readTail, RUN_DIR_ENV } from '../artillery/channel';
import { runConfig } from '../artillery/run-config';
import { artilleryStartError } from '../artillery/start';
import { chooseAuth, type AuthChoice } from '../plan/auth';
import { isRateLimitedPath, type Contract, type Endpoint } from '../catalog/contract';
import { BUILD_DIR, contractFile, loadBudgets, loadContract, loadEnvironment, loadProfile, loadProfiles, ROOT, type Budgets, type Environment, type Profile } from '../catalog/config';
import { checkCapacity } from '../plan/capacity';
import { platformCommand } from '../artillery/distributed';
import { formatDryRun } from './dry-run';
import { EXIT, UsageError } from '../shared/errors';
import { ensureConfig, gatesForPlan } from '../plan/gates';
import { USER_LINE_MARK } from '../shared/log';
import { checkBaseUrl, isLoopback, parseRunOptions, type RunOptions } from '../plan/options';
import { estimateRequests, maxUsers, planVisits, scaleStages, toPhases, totalSeconds, type RequestEstimate } from '../plan/users';
import type { RunRecord } from '../record/record';
import { writeReports } from '../outputs/report';
import { loadScenario, scenarioContract, SCENARIO_FILE, withContractExpectations, type Scenario } from '../catalog/scenario';
import { checkReportsDir, createRunFolder } from '../record/run-folder';
import { redactor } from '../shared/secrets';
import { recordFromFolder, writeEndFile, writePlanFile } from '../record/replay';
import { formatSummary } from '../outputs/summary';
import { publishResults, withPublishMetrics } from '../outputs/publish';
import { sendAlert } from '../outputs/alert';

const ARTILLERY = join(ROOT, 'node_modules', 'artillery', 'bin', 'run');
const PROCESSOR_SOURCE = join(ROOT, 'processors', 'journey.ts');

/** Everything a run needs, resolved and checked before any request is sent. */
export interface RunPlan {
  opts: RunOptions;
  environment: Environment;
  profile: Profile;
  budgets: Budgets;
  /** The backend's contract catalog, and its entries of the scenario's requests (in the scenario's order). */
  contract: Contract;
  endpoints: Endpoint[];
  scenario: Scenario;
  target: string;
  auth: AuthChoice;
  stages: ReturnType<typeof scaleStages>;
  loadSeconds: number;
  estimate: RequestEstimate;
  /** Every profile's /api requests at time scale 1, for rate-limit advice. */
  profileEstimates: Array<{ name: string; api: number }>;
  breaker: boolean;
  packVersion: string;
}

function estimateFor(stages: Profile['stages'], thinkSeconds: number, contract: Contract, endpoints: Endpoint[]): RequestEstimate {
  const expected = endpoints.map((e) => ({ ...e, latencyMs: e.baseline.p50, rateLimited: isRateLimitedPath(contract, e.path) }));
  return estimateRequests(planVisits(stages), thinkSeconds, expected);
}

/** Refuses what could hurt production or fool the user, before anything is sent. */
function checkGuardrails(opts: RunOptions, environment: Environment, profile: Profile, target: string): void {
  if (environment.production && target.startsWith('http:') && !opts.allowHttp) {
    throw new UsageError(`${environment.name} needs an https:// URL (got ${target}); pass --allow-http if plain http is really meant`);
  }
  if (environment.production && profile.heavy && !opts.yes) {
    throw new UsageError(
      `profile ${profile.name} is heavy for the shared production backend; add --yes (or VOXANNE_CONFIRM=yes for scheduled jobs) to confirm`,
    );
  }
  if (opts.fromOutput && (opts.platform === 'local' || !existsSync(opts.fromOutput))) {
    throw new UsageError(
      opts.platform === 'local'
        ? '--from-output needs --platform fargate or lambda (the runner that made the output)'
        : `--from-output ${opts.fromOutput}: no such file; pass the -o JSON of the distributed run`,
    );
  }
  if (opts.spreadIps && !isLoopback(target)) {
    throw new UsageError(`--spread-ips only works against a backend on this machine (localhost, 127.0.0.1, ::1), not ${target}`);
  }
}

/** A load shorter than one reporting period gives the gates nothing to judge: refused before anything is sent. */
function checkLoadLength(stages: Profile['stages'], profile: Profile, timeScale: number, budgets: Budgets): void {
  const seconds = totalSeconds(stages);
  const min = budgets.gates.minLoadSeconds;
  if (seconds >= min) return;
  const unscaled = totalSeconds(profile.stages);
  const fix = unscaled >= min ? `use --time-scale ${Math.ceil((min / unscaled) * 1000) / 1000} or more` : 'give the profile longer stages';
  throw new UsageError(`the load would last ${Math.round(seconds * 1000) / 1000} s, too short to judge (at least ${min} s); ${fix}`);
}

export async function resolvePlan(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<RunPlan> {
  const opts = parseRunOptions(argv, env);
  if (!opts.dryRun) checkReportsDir(opts.reportsDir);
  const environment = loadEnvironment(opts.env);
  const profile = loadProfile(opts.profile);
  const budgets = loadBudgets();
  const contract = loadContract();
  const scenarioFile = opts.scenarioFile ?? SCENARIO_FILE;
  const scenario = loadScenario(scenarioFile);
  const endpoints = scenarioContract(scenario, contract, scenarioFile);
  const target = checkBaseUrl(opts.baseUrl ?? environment.baseUrl);
  // A capacity search: refused where it could hurt a shared backend; on loopback every request
  // gets its own client address, or the rate limiter is all it would find.
  if (profile.capacity) {
    checkCapacity(profile, environment, target, opts);
    if (isLoopback(target)) opts.spreadIps = true;
  }
  checkGuardrails(opts, environment, profile, target);
  const stages = scaleStages(profile.stages, opts.timeScale);
  checkLoadLength(stages, profile, opts.timeScale, budgets);
  // A dry run sends nothing, not even a sign-in.
  const auth = await chooseAuth(environment, env, { verify: !opts.dryRun, runSeconds: totalSeconds(stages) });
  const profileEstimates = Object.values(loadProfiles()).map((p) => ({ name: p.name, api: estimateFor(p.stages, p.thinkSeconds, contract, endpoints).api }));
  return {
    opts,
    environment,
    profile,
    budgets,
    contract,
    endpoints,
    scenario,
    target,
    auth,
    stages,
    loadSeconds: totalSeconds(stages),
    estimate: estimateFor(stages, profile.thinkSeconds, contract, endpoints),
    profileEstimates,
    breaker: opts.breaker ?? environment.production,
    packVersion: JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version,
  };
}

/** The run folder's name: start time, environment and profile (claimed atomically, see run-folder). */
function runId(plan: RunPlan, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return createRunFolder(plan.opts.reportsDir, `${stamp}-${plan.environment.name}-${plan.profile.name}`);
}

/** The Artillery script of this run: the scenario plus target, phases, gates and processor. */
function artilleryScript(plan: RunPlan, dir: string): Scenario {
  const { opts } = plan;
  const script = withContractExpectations(structuredClone(plan.scenario), plan.contract, plan.auth.mode !== 'probe');
  script.config = {
    ...script.config,
    target: plan.target,
    phases: toPhases(plan.stages),
    // Relative, so that the run folder's script.yml runs again with plain `npx artillery run`
    // (Artillery bundles the TypeScript itself then); the pack runs it with the compiled copy.
    processor: relative(dir, PROCESSOR_SOURCE),
    http: { ...(script.config.http ?? {}), timeout: opts.timeoutSeconds },
    variables: { ...(script.config.variables ?? {}), voxanne: runConfig(plan) },
    plugins: { ...script.config.plugins, ensure: ensureConfig(gatesForPlan(plan)) },
  };
  // A capacity search has no whole-run gates for ensure to check (each step is judged instead).
  if (plan.profile.capacity) delete (script.config.plugins as Record<string, unknown>).ensure;
  if (opts.spreadIps) {
    for (const s of script.scenarios) s.beforeRequest = [...[s.beforeRequest ?? []].flat(), 'spreadClientIp'];
  }
  return script;
}

/**
 * Runs Artillery; shows the pack's own lines, keeps the rest (secrets redacted) in artillery.log.
 * SIGINT, SIGTERM and SIGHUP stop the load gracefully (Artillery reports everything it measured);
 * a second one ends Artillery at once, and the record is built from what the channel holds.
 */
async function runArtillery(plan: RunPlan, dir: string, args: string[]): Promise<ArtilleryEnd> {
  const startedAt = new Date();
  const child = spawn(process.execPath, [ARTILLERY, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      [RUN_DIR_ENV]: dir,
      // Artillery loads a lot of code in its main thread and again in each worker: keep V8's compiled code.
      NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE ?? join(BUILD_DIR, 'compile-cache'),
      VOXANNE_CONTRACT: contractFile(),
      ARTILLERY_DISABLE_TELEMETRY: '1',
      NO_COLOR: '1',
    },
  });
  const log = createWriteStream(join(dir, 'artillery.log'));
  const redact = redactor();
  const forward = (stream: NodeJS.ReadableStream) =>
    createInterface({ input: stream }).on('line', (raw) => {
      const line = redact(raw);
      log.write(`${line}\n`);
      if (line.startsWith(USER_LINE_MARK)) console.log(line.slice(USER_LINE_MARK.length));
      else if (plan.opts.verbose) console.log(line);
    });
  forward(child.stdout);
  forward(child.stderr);

  let stoppedBy: NodeJS.Signals | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stoppedBy) {
      console.log(`${signal} again: ending at once; the record keeps what was measured.`);
      child.kill('SIGKILL');
      return;
    }
    stoppedBy = signal;
    console.log(`${signal}: stopping the load and keeping what was measured (again to end at once).`);
    child.kill(signal);
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  const [code, killedBy] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('close', (c, sig) => resolve([c, sig])),
  );
  for (const s of signals) process.off(s, onSignal);
  await new Promise((resolve) => log.end(resolve));
  return {
    code,
    killedBy: killedBy === 'SIGKILL' && stoppedBy ? null : killedBy,
    stoppedBy,
    startedAt,
    endedAt: new Date(),
    startError: artilleryStartError(dir),
    tail: readTail(dir),
  };
}

/** --platform fargate|lambda: Artillery's distributed runner, or a combined output made earlier. */
async function runDistributed(plan: RunPlan, dir: string, scriptFile: string, output: string): Promise<ArtilleryEnd> {
  if (plan.opts.fromOutput) {
    const now = new Date();
    copyFileSync(plan.opts.fromOutput, output);
    return { code: 0, killedBy: null, stoppedBy: null, startedAt: now, endedAt: now };
  }
  const command = platformCommand(plan.opts, scriptFile, output);
  command.notes.forEach((note) => console.log(note));
  try {
    return await runArtillery(plan, dir, command.args);
  } finally {
    command.cleanup();
  }
}

/** One line per run in reports/history.ndjson, for trends and scheduled runs. */
function appendHistory(record: RunRecord, reportsDir: string): void {
  const t = record.totals;
  const line = {
    time: record.startedAt,
    id: record.id,
    environment: record.environment,
    profile: record.profile.name,
    target: record.target,
    outcome: record.outcome,
    exitCode: record.exitCode,
    requests: t.requests,
    p95Ms: t.latency?.p95 ?? null,
    p99Ms: t.latency?.p99 ?? null,
    errorRatePct: t.requests ? Math.round(t.errorRatePct * 100) / 100 : null,
    requestsPerSecond: Math.round(t.requestsPerSecond * 100) / 100,
    rateLimited: record.rateLimit.limited,
    failedGates: record.gates.filter((g) => g.strict && !g.passed).map((g) => g.id),
  };
  appendFileSync(join(reportsDir, 'history.ndjson'), `${JSON.stringify(line)}\n`);
}

export async function executeRun(plan: RunPlan): Promise<RunRecord> {
  const id = runId(plan);
  const dir = join(plan.opts.reportsDir, id);
  const scriptFile = join(dir, 'script.yml');
  writeFileSync(scriptFile, stringify(withPublishMetrics(artilleryScript(plan, dir), plan, id)));
  writePlanFile(dir, plan);
  console.log(
    `Running profile ${plan.profile.name} (${Math.round(plan.loadSeconds)} s, up to ${maxUsers(plan.stages)} users) ` +
      `against ${plan.target}; auth: ${plan.auth.description}`,
  );
  if (plan.auth.warning) console.log(`warning: ${plan.auth.warning}`);
  const output = join(dir, 'artillery.json');
  let end: ArtilleryEnd;
  if (plan.opts.platform === 'local') {
    // The processor as bin/pack.js compiled it: Artillery's own TypeScript bundling costs 2-3 s a run.
    const compiled = JSON.stringify({ config: { processor: join(BUILD_DIR, 'processors', 'journey.js') } });
    end = await runArtillery(plan, dir, ['run', scriptFile, '--output', output, '--overrides', compiled]);
  } else {
    end = await runDistributed(plan, dir, scriptFile, output);
  }
  // How Artillery ended is kept with the plan, so the folder replays into this record (src/record/replay.ts).
  writeEndFile(dir, id, end);
  const record: RunRecord = recordFromFolder(plan, id, dir, end);
  writeFileSync(join(dir, 'run.json'), JSON.stringify(record));
  appendHistory(record, plan.opts.reportsDir);
  let report: string | undefined;
  try {
    writeReports(record, dir, plan.opts.reportsDir);
    report = join(dir, 'report.html');
  } catch (err) {
    // A report that cannot be written never changes the run's verdict; run.json is already there.
    console.error(`warning: could not write the reports (${(err as Error).message}); rebuild them with npm run report`);
  }
  console.log(formatSummary(record));
  console.log(`\nrun folder: ${relative(process.cwd(), dir) || dir}`);
  if (report) console.log(`report: ${relative(process.cwd(), report) || report}`);
  await publishResults(record, plan.environment.publishMetrics);
  await sendAlert(record, report ?? dir);
  return record;
}

/** Runs the command line; returns the exit code. Bad input becomes one line on stderr. */
export async function main(argv: string[]): Promise<number> {
  try {
    const plan = await resolvePlan(argv);
    if (plan.opts.dryRun) {
      console.log(formatDryRun(plan));
      return EXIT.passed;
    }
    const record = await executeRun(plan);
    return record.exitCode;
  } catch (err) {
    if (err instanceof UsageError) {
      (err.exitCode === 0 ? console.log : console.error)(err.exitCode === 0 ? err.message : `error: ${redactor()(err.message)}`);
      return err.exitCode;
    }
    console.error(`error: ${redactor()(String((err as Error)?.message ?? err))} (unexpected; please report it)`);
    return EXIT.gateFailed;
  }
}
