// One load-test run: check the input, plan the users, run Artillery on the scenario, then write the
// run record and print the verdict. `npm run test:local` / `test:prod` start here.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, createWriteStream } from 'node:fs';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { stringify } from 'yaml';
import { chooseAuth, type AuthChoice } from './auth';
import { BUILD_DIR, loadBudgets, loadEnvironment, loadProfile, ROOT, type Budgets, type Environment, type Profile } from './config';
import { diagnose } from './diagnosis';
import { EXIT, UsageError } from './errors';
import type { ChecksEvent, PeriodEvent, PhaseEvent, RunEvent } from './events';
import { ensureConfig, evaluateGates, gateSpecs } from './gates';
import type { HealthResult } from './health';
import { USER_LINE_MARK } from './log';
import { checkBaseUrl, parseRunOptions, type RunOptions } from './options';
import { planVisits, plannedUsersAt, scaleStages, stagesToText, toPhases, totalSeconds, maxUsers } from './plan';
import {
  buildPeriods, errorTotal, mergeSketches, noErrors, addErrors, RECORD_SCHEMA, summarize, summarizeEndpoints, totalCounters,
  type Outcome, type RunRecord,
} from './record';
import { loadScenario, scenarioEndpoints, type Scenario } from './scenario';
import { formatSummary } from './summary';
import { writeReports } from './report';
import { redactor } from './secrets';

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
}

export async function resolvePlan(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<RunPlan> {
  const opts = parseRunOptions(argv, env);
  const environment = loadEnvironment(opts.env);
  const profile = loadProfile(opts.profile);
  const budgets = loadBudgets();
  const scenario = loadScenario();
  const target = checkBaseUrl(opts.baseUrl ?? environment.baseUrl);
  const stages = scaleStages(profile.stages, opts.timeScale);
  const auth = await chooseAuth(environment, env);
  return { opts, environment, profile, budgets, scenario, target, auth, stages, loadSeconds: totalSeconds(stages) };
}

function runId(plan: RunPlan, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const base = `${stamp}-${plan.environment.name}-${plan.profile.name}`;
  let id = base;
  for (let i = 2; existsSync(join(plan.opts.reportsDir, id)); i++) id = `${base}-${i}`;
  return id;
}

/** The Artillery script of this run: the scenario plus target, phases, gates and processor. */
function artilleryScript(plan: RunPlan, specs: ReturnType<typeof gateSpecs>): Scenario {
  const script = structuredClone(plan.scenario);
  script.config = {
    ...script.config,
    target: plan.target,
    phases: toPhases(plan.stages),
    processor: join(BUILD_DIR, 'processors', 'journey.js'), // compiled by bin/pack.js
    http: { ...(script.config.http ?? {}), timeout: plan.opts.timeoutSeconds },
    variables: { ...(script.config.variables ?? {}), stages: stagesToText(plan.stages), thinkMs: plan.profile.thinkSeconds * 1000 },
    plugins: { ...script.config.plugins, ensure: ensureConfig(specs) },
  };
  return script;
}

function readEvents(dir: string): RunEvent[] {
  const file = join(dir, 'events.ndjson');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as RunEvent];
      } catch {
        return []; // a line cut short by a crash
      }
    });
}

function readHealth(dir: string, file: string): HealthResult | null {
  try {
    return JSON.parse(readFileSync(join(dir, file), 'utf8')) as HealthResult;
  } catch {
    return null;
  }
}

interface ArtilleryEnd {
  code: number | null;
  interrupted: boolean;
  startedAt: Date;
  endedAt: Date;
}

/** Runs Artillery; shows the pack's own lines, keeps the rest (secrets redacted) in artillery.log. */
async function runArtillery(plan: RunPlan, dir: string, scriptFile: string): Promise<ArtilleryEnd> {
  const startedAt = new Date();
  const child = spawn(process.execPath, [ARTILLERY, 'run', scriptFile, '--output', join(dir, 'artillery.json')], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      VOXANNE_RUN_DIR: dir,
      VOXANNE_AUTH_MODE: plan.auth.mode,
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

const packVersion = (): string => JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;

/** Assembles the record from what the run left in its folder. */
export function assembleRecord(plan: RunPlan, id: string, dir: string, end: ArtilleryEnd): RunRecord {
  const events = readEvents(dir);
  const periodEvents = events.filter((e): e is PeriodEvent => e.type === 'period');
  const phases = events.filter((e): e is PhaseEvent => e.type === 'phase');
  const checks = events.find((e): e is ChecksEvent => e.type === 'checks');
  const loadStart = phases[0]?.at ?? periodEvents[0]?.period ?? end.startedAt.getTime();
  const visits = planVisits(plan.stages);
  const periods = buildPeriods(periodEvents, loadStart, (s) => plannedUsersAt(visits, s));
  const counters = totalCounters(periodEvents);
  const endpoints = summarizeEndpoints(
    periods,
    scenarioEndpoints(plan.scenario).map(({ name, path }) => ({ name, path, ...plan.budgets.endpoints[name] })),
    counters,
  );
  const errors = periods.reduce((sum, p) => addErrors(sum, p.errors), noErrors());
  const requests = periods.reduce((sum, p) => sum + p.requests, 0);
  const codes: Record<string, number> = {};
  for (const p of periods) for (const [c, n] of Object.entries(p.codes)) codes[c] = (codes[c] ?? 0) + n;
  const lastActivity = periodEvents.length ? Math.max(...periodEvents.map((e) => e.last)) : loadStart;
  const durationSeconds = Math.max(0, (lastActivity - loadStart) / 1000);
  const errorCount = errorTotal(errors);
  const totals: RunRecord['totals'] = {
    requests,
    errors,
    errorCount,
    errorRatePct: requests ? (errorCount / requests) * 100 : 0,
    durationSeconds: Math.round(durationSeconds),
    requestsPerSecond: requests / Math.max(1, plan.loadSeconds),
    latency: summarize(mergeSketches(periods.map((p) => p.latency))),
    maxUsers: Math.max(0, ...periods.map((p) => p.users.active)),
    crashedUsers: counters['vusers.failed'] ?? 0,
    codes,
  };
  const specs = gateSpecs(plan.budgets, { loadSeconds: plan.loadSeconds, strictBudgets: plan.opts.strict });
  const verdicts = checks ? new Map(checks.checks.map((c) => [c.expression, c.passed])) : undefined;
  const gates = evaluateGates(specs, totals, endpoints, verdicts);
  const health = { start: readHealth(dir, 'health-start.json'), end: readHealth(dir, 'health-end.json') };

  let outcome: Outcome;
  let reason: string;
  let exitCode: number;
  const failedGates = gates.filter((g) => g.strict && !g.passed);
  if (end.interrupted) {
    [outcome, exitCode, reason] = ['interrupted', EXIT.interrupted, `Stopped by the user after ${Math.round(durationSeconds)} s of load.`];
  } else if (!health.start || !health.start.ok) {
    [outcome, exitCode] = ['unhealthy', EXIT.unhealthyAtStart];
    reason = health.start
      ? `The target was not healthy before the load (${health.start.problem}); no load was sent.`
      : `Artillery ended (exit ${end.code}) before the health check; no load was sent.`;
  } else if (health.end && !health.end.ok) {
    [outcome, exitCode, reason] = ['failed', EXIT.unhealthyAtEnd, `/health failed after the load (${health.end.problem}).`];
  } else if (!checks) {
    [outcome, exitCode, reason] = ['failed', EXIT.gateFailed, `Artillery ended unexpectedly (exit ${end.code}); see artillery.log.`];
  } else if (failedGates.length) {
    [outcome, exitCode] = ['failed', EXIT.gateFailed];
    reason = `Gate failed: ${failedGates.map((g) => g.title).join(', ')}.`;
  } else {
    [outcome, exitCode, reason] = ['passed', EXIT.passed, 'Every gate passed and /health was ok before and after the load.'];
  }

  const record: RunRecord = {
    schema: RECORD_SCHEMA,
    pack: { name: 'voxanne-load-test', version: packVersion() },
    id,
    startedAt: end.startedAt.toISOString(),
    loadStartedAt: phases[0] ? new Date(phases[0].at).toISOString() : null,
    endedAt: end.endedAt.toISOString(),
    target: plan.target,
    environment: plan.environment.name,
    profile: { name: plan.profile.name, description: plan.profile.description, stages: plan.stages, thinkSeconds: plan.profile.thinkSeconds },
    timeScale: plan.opts.timeScale,
    auth: { mode: plan.auth.mode, description: plan.auth.description },
    outcome,
    reason,
    exitCode,
    gates,
    health,
    totals,
    endpoints,
    periods,
    diagnosis: [],
  };
  record.diagnosis = diagnose(record);
  return record;
}

export async function executeRun(plan: RunPlan): Promise<RunRecord> {
  const id = runId(plan);
  const dir = join(plan.opts.reportsDir, id);
  mkdirSync(dir, { recursive: true });
  const specs = gateSpecs(plan.budgets, { loadSeconds: plan.loadSeconds, strictBudgets: plan.opts.strict });
  const scriptFile = join(dir, 'script.yml');
  writeFileSync(scriptFile, stringify(artilleryScript(plan, specs)));
  console.log(
    `Running profile ${plan.profile.name} (${Math.round(plan.loadSeconds)} s, up to ${maxUsers(plan.stages)} users) ` +
      `against ${plan.target}; auth: ${plan.auth.description}`,
  );
  const end = await runArtillery(plan, dir, scriptFile);
  const record = assembleRecord(plan, id, dir, end);
  writeFileSync(join(dir, 'run.json'), JSON.stringify(record));
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
    const record = await executeRun(plan);
    return record.exitCode;
  } catch (err) {
    if (err instanceof UsageError) {
      (err.exitCode === 0 ? console.log : console.error)(err.exitCode === 0 ? err.message : `error: ${err.message}`);
      return err.exitCode;
    }
    console.error(`error: ${redactor()(String((err as Error)?.message ?? err))} (unexpected; please report it)`);
    return EXIT.gateFailed;
  }
}
