// One load-test run: check the input, plan the users, run Artillery on the scenario, then write the
// run record and print the verdict. `npm run test:local` / `test:prod` start here.
import { spawn } from 'node:child_process';
import { appendFileSync, copyFileSync, createWriteStream, existsSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { stringify } from 'yaml';
import { assembleRecord, type ArtilleryEnd } from './assemble';
import { chooseAuth, type AuthChoice } from './auth';
import { BUILD_DIR, loadBudgets, loadEnvironment, loadProfile, loadProfiles, ROOT, type Budgets, type Environment, type Profile } from './config';
import { platformCommand, readCombinedOutput } from './distributed';
import { formatDryRun } from './dryrun';
import { EXIT, UsageError } from './errors';
import { ensureConfig, gatesForPlan } from './gates';
import { USER_LINE_MARK } from './log';
import { checkBaseUrl, isLoopback, parseRunOptions, type RunOptions } from './options';
import { estimateRequests, maxUsers, planVisits, scaleStages, stagesToText, toPhases, totalSeconds, type RequestEstimate } from './plan';
import type { RunRecord } from './record';
import { writeReports } from './report';
import { loadScenario, scenarioEndpoints, SCENARIO_FILE, type Scenario } from './scenario';
import { checkReportsDir, createRunFolder } from './run-folder';
import { redactor } from './secrets';
import { formatSummary } from './summary';

const ARTILLERY = join(ROOT, 'node_modules', 'artillery', 'bin', 'run');

/** Everything a run needs, resolved and checked before any request is sent. */
export interface RunPlan {
  opts: RunOptions;
  environment: Environment;
  profile: Profile;
  budgets: Budgets;
  scenario: Scenario;
  target: string;
  auth: AuthChoice;
  stages: ReturnType<typeof scaleStages>;
  loadSeconds: number;
  estimate: RequestEstimate;
  /** "name:apiRequests,..." for every profile at time scale 1, for rate-limit advice. */
  profileEstimates: string;
  breaker: boolean;
}

function estimateFor(stages: Profile['stages'], thinkSeconds: number, scenario: Scenario, budgets: Budgets): RequestEstimate {
  const endpoints = scenarioEndpoints(scenario).map((e) => ({ ...e, latencyMs: budgets.endpoints[e.name]?.baseline.p50 ?? 0 }));
  return estimateRequests(planVisits(stages), thinkSeconds, endpoints);
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

export async function resolvePlan(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<RunPlan> {
  const opts = parseRunOptions(argv, env);
  if (!opts.dryRun) checkReportsDir(opts.reportsDir);
  const environment = loadEnvironment(opts.env);
  const profile = loadProfile(opts.profile);
  const budgets = loadBudgets();
  const scenario = loadScenario(opts.scenarioFile ?? SCENARIO_FILE);
  const target = checkBaseUrl(opts.baseUrl ?? environment.baseUrl);
  checkGuardrails(opts, environment, profile, target);
  const stages = scaleStages(profile.stages, opts.timeScale);
  // A dry run sends nothing, not even a sign-in.
  const auth = await chooseAuth(environment, env, { verify: !opts.dryRun, runSeconds: totalSeconds(stages) });
  const profileEstimates = Object.values(loadProfiles())
    .map((p) => `${p.name}:${estimateFor(p.stages, p.thinkSeconds, scenario, budgets).api}`)
    .join(',');
  return {
    opts,
    environment,
    profile,
    budgets,
    scenario,
    target,
    auth,
    stages,
    loadSeconds: totalSeconds(stages),
    estimate: estimateFor(stages, profile.thinkSeconds, scenario, budgets),
    profileEstimates,
    breaker: opts.breaker ?? environment.production,
  };
}

/** The run folder's name: start time, environment and profile (claimed atomically, see run-folder). */
function runId(plan: RunPlan, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return createRunFolder(plan.opts.reportsDir, `${stamp}-${plan.environment.name}-${plan.profile.name}`);
}

/** The Artillery script of this run: the scenario plus target, phases, gates and processor. */
function artilleryScript(plan: RunPlan): Scenario {
  const { opts, budgets } = plan;
  const specs = gatesForPlan(plan);
  const script = structuredClone(plan.scenario);
  script.config = {
    ...script.config,
    target: plan.target,
    phases: toPhases(plan.stages),
    processor: join(BUILD_DIR, 'processors', 'journey.js'), // compiled by bin/pack.js
    http: { ...(script.config.http ?? {}), timeout: opts.timeoutSeconds },
    // Read by the processor (users' stays, pause, 429s) and the preflight (rate-limit advice).
    variables: {
      ...(script.config.variables ?? {}),
      stages: stagesToText(plan.stages),
      thinkMs: plan.profile.thinkSeconds * 1000,
      count429: opts.count429,
      spreadIps: opts.spreadIps,
      apiEstimate: plan.estimate.api,
      profileEstimates: plan.profileEstimates,
      timeScale: opts.timeScale,
      refuseOverLimit: plan.environment.production && !opts.yes,
      authMode: plan.auth.mode,
      devOrgId: plan.auth.devOrgId,
      devEmail: plan.auth.devEmail,
    },
    plugins: {
      ...script.config.plugins,
      ensure: ensureConfig(specs),
      voxanne: { ...(script.config.plugins?.voxanne ?? {}), breaker: plan.breaker ? budgets.breaker : null },
    },
  };
  if (opts.spreadIps) {
    for (const s of script.scenarios) s.beforeRequest = [...[s.beforeRequest ?? []].flat(), 'spreadClientIp'];
  }
  return script;
}

/** Runs Artillery; shows the pack's own lines, keeps the rest (secrets redacted) in artillery.log. */
async function runArtillery(plan: RunPlan, dir: string, args: string[]): Promise<ArtilleryEnd> {
  const startedAt = new Date();
  const child = spawn(process.execPath, [ARTILLERY, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      VOXANNE_RUN_DIR: dir,
      ARTILLERY_PLUGIN_PATH: join(BUILD_DIR, 'plugins'),
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

  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    child.kill('SIGINT'); // Artillery stops its users; the record is written from what it reported
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  await new Promise((resolve) => log.end(resolve));
  return { code, interrupted, startedAt, endedAt: new Date() };
}

/** --platform fargate|lambda: Artillery's distributed runner, or a combined output made earlier. */
async function runDistributed(plan: RunPlan, dir: string, scriptFile: string, output: string): Promise<ArtilleryEnd> {
  if (plan.opts.fromOutput) {
    const now = new Date();
    copyFileSync(plan.opts.fromOutput, output);
    return { code: 0, interrupted: false, startedAt: now, endedAt: now };
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
    errorRatePct: Math.round(t.errorRatePct * 100) / 100,
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
  writeFileSync(scriptFile, stringify(artilleryScript(plan)));
  console.log(
    `Running profile ${plan.profile.name} (${Math.round(plan.loadSeconds)} s, up to ${maxUsers(plan.stages)} users) ` +
      `against ${plan.target}; auth: ${plan.auth.description}`,
  );
  if (plan.auth.warning) console.log(`warning: ${plan.auth.warning}`);
  const output = join(dir, 'artillery.json');
  let record: RunRecord;
  if (plan.opts.platform === 'local') {
    record = assembleRecord(plan, id, dir, await runArtillery(plan, dir, ['run', scriptFile, '--output', output]));
  } else {
    record = assembleRecord(plan, id, dir, await runDistributed(plan, dir, scriptFile, output), readCombinedOutput(output));
  }
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
