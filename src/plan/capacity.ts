// Where a capacity search may run and what it is judged by, checked before anything is sent.
import { z } from 'zod';
import type { Budgets, CapacitySearch, Environment } from '../catalog/config';
import { UsageError } from '../common/errors';
import { isLoopback } from './options';

/** What each step of a capacity search is judged by: the guide's gates and the generator's own limits. */
export const CapacityLimits = z.object({
  p99Ms: z.number(),
  errorRatePct: z.number(),
  maxTimeouts: z.number(),
  maxRateLimitedPct: z.number(),
  count429: z.boolean(),
  generatorCpuPct: z.number(),
  generatorLoopDelayMs: z.number(),
  /** A late event loop counts only when the worker is this busy itself (older records: always). */
  generatorLoopBusyCpuPct: z.number().optional(),
  /** Artillery's reporting period: steps are judged on whole periods. */
  periodMs: z.number().positive(),
});

export type CapacityLimits = z.infer<typeof CapacityLimits>;

/** The per-step limits: the guide's gates (config/budgets.yml) and the generator's own. */
export function capacityLimits(budgets: Budgets, count429: boolean, periodMs: number): CapacityLimits {
  const g = budgets.gates;
  return {
    p99Ms: g.p99Ms,
    errorRatePct: g.errorRatePct,
    maxTimeouts: g.maxTimeouts,
    maxRateLimitedPct: g.maxRateLimitedPct,
    count429,
    generatorCpuPct: budgets.generator.cpuPct,
    generatorLoopDelayMs: budgets.generator.loopDelayMs,
    generatorLoopBusyCpuPct: budgets.generator.loopBusyCpuPct,
    periodMs,
  };
}

/**
 * A search pushes the backend until it breaks: refused against production (the shared service
 * and its rate limit), allowed on loopback or where the environment file says allowCapacity: true.
 * It chooses each step from what the previous one measured, inside the run (the pack's plugin):
 * Artillery's Fargate and Lambda workers do not run that plugin, so there it is refused, not run
 * as a staircase nobody judges. It sets its own step lengths, so --time-scale does not apply.
 */
export function checkCapacity(
  profile: { name: string; capacity?: CapacitySearch },
  environment: Environment,
  target: string,
  opts: { timeScale: number; platform: string },
): void {
  if (!profile.capacity) return;
  if (environment.production) {
    throw new UsageError(
      `profile ${profile.name} is refused against ${environment.name}: it pushes the shared, rate-limited backend until it breaks; run it against a local or staging backend (an environment file with allowCapacity: true)`,
    );
  }
  if (opts.platform !== 'local') {
    throw new UsageError(
      `profile ${profile.name} runs on this machine only: it chooses each step's users from what the last step measured, and Artillery's ${opts.platform} workers do not run the pack's plugin that does it; run the search without --platform, or a fixed profile with --platform ${opts.platform}`,
    );
  }
  if (!isLoopback(target) && !environment.allowCapacity) {
    throw new UsageError(
      `profile ${profile.name} pushes ${target} until it breaks; add allowCapacity: true to the environment file of a backend you may overload (e.g. environments/staging.yml)`,
    );
  }
  if (opts.timeScale !== 1) {
    throw new UsageError(
      `profile ${profile.name} sets its own step lengths from what it measures, so --time-scale does not apply to it; change search: in config/profiles.yml instead`,
    );
  }
}
