// Where a capacity search may run and what it is judged by, checked before anything is sent.
import { minHoldSeconds, type CapacityLimits, type CapacitySpec } from '../record/capacity';
import type { Budgets, Environment } from '../catalog/config';
import { UsageError } from '../shared/errors';
import { isLoopback } from './options';

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
    periodMs,
  };
}

/**
 * A search pushes the backend until it breaks: refused against production (the shared service
 * and its rate limit), allowed on loopback or where the environment file says allowCapacity: true.
 */
export function checkCapacity(profile: { name: string; capacity?: CapacitySpec }, environment: Environment, target: string, timeScale: number, periodMs: number): void {
  const spec = profile.capacity;
  if (!spec) return;
  if (environment.production) {
    throw new UsageError(
      `profile ${profile.name} is refused against ${environment.name}: it pushes the shared, rate-limited backend until it breaks; run it against a local or staging backend (an environment file with allowCapacity: true)`,
    );
  }
  if (!isLoopback(target) && !environment.allowCapacity) {
    throw new UsageError(
      `profile ${profile.name} pushes ${target} until it breaks; add allowCapacity: true to the environment file of a backend you may overload (e.g. environments/staging.yml)`,
    );
  }
  const hold = spec.holdSeconds * timeScale;
  const min = minHoldSeconds(periodMs);
  if (hold < min) {
    throw new UsageError(
      `each capacity step would hold ${Math.round(hold * 10) / 10} s, too short to judge (at least ${min} s, so that a whole ${periodMs / 1000} s period lies inside); use --time-scale ${Math.ceil((min / spec.holdSeconds) * 100) / 100} or more`,
    );
  }
}
