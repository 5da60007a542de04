// A plain `npx artillery run scenarios/journey.yml` has no configuration value of the pack's: it is
// derived, with the pack's own checks, from the scenario's variables `profile` and `timeScale` and
// the target, as `npm run test:local -- --profile P --time-scale F` would (processors/read-run-config.ts
// asks for it once per thread).
import { isDeepStrictEqual } from 'node:util';
import type { RunConfig } from '../channel/channel';
import { arrivalsOf, toPhases } from '../plan/users';
import { conditionsForPhases } from '../record/gates';

/**
 * A plain run's phases as written (JSON), set by the pack's plugin in Artillery's main thread, which
 * sees the script, before the before hook and the workers start: both read them from here.
 */
export const PLAIN_PHASES_ENV = 'VOXANNE_PLAIN_PHASES';

/**
 * The plan a plain run stands for: the scenario's `profile` and `timeScale` variables against its
 * target, as `npm run test:local -- --profile P --time-scale F` would resolve them.
 */
export async function plainPlan(vars: Record<string, unknown>) {
  // Loaded only here: the pack's own runs never need the planner inside Artillery.
  const [{ resolvePlan }, { isLoopback }] = await Promise.all([import('../plan/resolve'), import('../plan/options')]);
  const target = String(vars.target);
  const argv = ['--env', isLoopback(target) ? 'local' : 'prod', '--base-url', target];
  argv.push('--profile', String(vars.profile ?? 'standard'), '--time-scale', String(vars.timeScale ?? 1));
  return resolvePlan(argv, process.env);
}

/** The configuration value a plain run stands for, from the scenario's variables. */
export async function plainRunConfig(vars: Record<string, unknown>): Promise<RunConfig> {
  const [plan, { runConfigFromPlan }] = await Promise.all([plainPlan(vars), import('./write-run-config')]);
  const config = runConfigFromPlan(plan);
  const phases = JSON.parse(process.env[PLAIN_PHASES_ENV] ?? 'null') as Array<Record<string, unknown>> | null;
  if (phases && !isDeepStrictEqual(phases, toPhases(plan.stages))) {
    // The user's own phases: one journey per arriving user, and the rate-limit check counts those.
    config.oneJourneyEach = true;
    config.rateLimit.apiEstimate = Math.ceil((arrivalsOf(phases) * plan.estimate.api) / Math.max(1, plan.estimate.journeys));
  }
  return config;
}

/** What the plugin sees of a plain run's script. */
export interface PlainScriptConfig {
  target?: string;
  variables?: Record<string, unknown>;
  phases?: unknown[];
  plugins?: { ensure?: { conditions?: Array<{ expression: string; strict?: boolean }> } };
}

/**
 * Plain Artillery: the load and rate gates of ensure's conditions become those of the phases that
 * run (the same ensure object, which ensure reads when the run ends). The planner resolves the
 * scenario's profile as the processor does; bad input is reported there, in the before hook.
 */
export function judgeByPhasesThatRan(config: PlainScriptConfig): void {
  const ensure = config.plugins?.ensure;
  if (!ensure?.conditions) return;
  const phases = (config.phases ?? []) as Array<Record<string, unknown>>;
  plainPlan({ ...config.variables, target: config.target }).then(
    (plan) => {
      ensure.conditions = conditionsForPhases(ensure.conditions!, plan, phases);
    },
    () => undefined,
  );
}
