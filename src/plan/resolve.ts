// From the command line to a checked plan: everything a run needs, resolved and checked before any
// request is sent (options, environment, profile, budgets, the contract and scenario, auth).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chooseAuth, type AuthChoice } from './auth';
import { checkCapacity } from './capacity';
import { checkBaseUrl, isLoopback, parseRunOptions, type RunOptions } from './options';
import { checkReportsDir } from './run-folder';
import { estimateRequests, planVisits, scaleStages, totalSeconds, type RequestEstimate } from './users';
import { isRateLimitedPath, type Contract, type Endpoint } from '../catalog/contract';
import { loadBudgets, loadContract, loadEnvironment, loadProfile, loadProfiles, ROOT, type Budgets, type Environment, type Profile } from '../catalog/config';
import { loadScenario, scenarioContract, SCENARIO_FILE, type Scenario } from '../catalog/scenario';
import { UsageError } from '../common/errors';

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
