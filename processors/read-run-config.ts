// The run's configuration read on the Artillery side, once per thread. The pack writes it into the
// script (`config.variables.voxanne`, src/artillery/write-run-config.ts); a plain
// `npx artillery run scenarios/journey.yml` has none, and then it is derived, with the pack's own
// checks, from the scenario's variables `profile` and `timeScale` and the target, as
// `npm run test:local -- --profile P --time-scale F` would.
import { isDeepStrictEqual } from 'node:util';
import type { VUContext } from 'artillery';
import { readRunConfig, type RunConfig } from '../src/channel/channel';
import { arrivalsOf, toPhases } from '../src/plan/users';

/**
 * A plain run's phases as written (JSON), set by the pack's plugin in Artillery's main thread, which
 * sees the script, before the before hook and the workers start: both read them from here.
 */
export const PLAIN_PHASES_ENV = 'VOXANNE_PLAIN_PHASES';

let config: RunConfig | undefined;
let pending: Promise<RunConfig> | undefined;

/** The configuration, once loadRunConfig has resolved in this thread (every user's first hook awaits it). */
export function runConfig(context: VUContext): RunConfig {
  return (config ??= readRunConfig(context.vars));
}

export function loadRunConfig(context: VUContext): Promise<RunConfig> {
  if (config) return Promise.resolve(config);
  if (context.vars.voxanne) return Promise.resolve(runConfig(context));
  pending ??= derive(context).then((c) => (config = c));
  return pending;
}

/**
 * The plan a plain run stands for: the scenario's `profile` and `timeScale` variables against its
 * target, as `npm run test:local -- --profile P --time-scale F` would resolve them.
 */
export async function plainPlan(vars: Record<string, unknown>) {
  // Loaded only here: the pack's own runs never need the planner inside Artillery.
  const [{ resolvePlan }, { isLoopback }] = await Promise.all([import('../src/plan/resolve'), import('../src/plan/options')]);
  const target = String(vars.target);
  const argv = ['--env', isLoopback(target) ? 'local' : 'prod', '--base-url', target];
  argv.push('--profile', String(vars.profile ?? 'standard'), '--time-scale', String(vars.timeScale ?? 1));
  return resolvePlan(argv, process.env);
}

async function derive(context: VUContext): Promise<RunConfig> {
  const [plan, { runConfigFromPlan }] = await Promise.all([plainPlan(context.vars), import('../src/artillery/write-run-config')]);
  const config = runConfigFromPlan(plan);
  const phases = JSON.parse(process.env[PLAIN_PHASES_ENV] ?? 'null') as Array<Record<string, unknown>> | null;
  if (phases && !isDeepStrictEqual(phases, toPhases(plan.stages))) {
    // The user's own phases: one journey per arriving user, and the rate-limit check counts those.
    config.oneJourneyEach = true;
    config.rateLimit.apiEstimate = Math.ceil((arrivalsOf(phases) * plan.estimate.api) / Math.max(1, plan.estimate.journeys));
  }
  return config;
}
