// The run's configuration value for its Artillery side (src/channel/channel.ts), from a resolved plan: what
// the pack writes into script.yml, and what a plain `npx artillery run` of the scenario derives
// from the scenario's own variables. The Artillery side reads it back in processors/read-run-config.ts.
import { capacityLimits } from '../plan/capacity';
import { RunConfig } from '../channel/channel';
import { periodMs } from '../catalog/contract';
import { gatesForPlan } from '../record/gates';
import { DEFAULT_HEALTH_TIMEOUT_MS, isLoopback } from '../plan/options';
import type { RunPlan } from '../plan/resolve';

/** The one configuration value the Artillery side reads (checked by the same schema there). */
export function runConfigFromPlan(plan: RunPlan): RunConfig {
  const { opts } = plan;
  return RunConfig.parse({
    stages: plan.stages,
    thinkMs: plan.profile.thinkSeconds * 1000,
    count429: opts.count429,
    spreadIps: opts.spreadIps,
    auth: { mode: plan.auth.mode, devOrgId: plan.auth.devOrgId, devEmail: plan.auth.devEmail },
    rateLimit: {
      apiEstimate: plan.estimate.api,
      profiles: plan.profileEstimates,
      timeScale: opts.timeScale,
      confirmed: opts.yes,
      refuseAnyOverrun: plan.environment.production,
      loopback: isLoopback(plan.target),
    },
    gates: gatesForPlan(plan).map(({ id, expression, strict }) => ({ id, expression, strict })),
    breaker: plan.breaker ? plan.budgets.breaker : null,
    contract: plan.contract,
    healthTimeoutMs: opts.healthTimeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS,
    ...(plan.profile.capacity && {
      capacity: { search: plan.profile.capacity, limits: capacityLimits(plan.budgets, opts.count429, periodMs(plan.contract)) },
    }),
  } satisfies RunConfig);
}
