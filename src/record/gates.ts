// The gates of config/budgets.yml and the per-endpoint p95 budgets of config/contract.yml as ensure checks (Artillery enforces them) and as figures the
// record can show. One definition per gate: its expression, its limit and how to read its value.
import { isDeepStrictEqual } from 'node:util';
import type { Budgets, Stage } from '../catalog/config';
import { arrivalsOf, phasesSeconds, toPhases } from '../plan/users';
import type { Endpoint } from '../catalog/contract';
import { errorRateOf, type EndpointSummary, type Gate, type RunRecord } from './record';
import { artilleryMetric, counter } from '../common/metrics';

interface GateOptions {
  /** Planned load duration, seconds: the request-rate gate divides by it. */
  loadSeconds: number;
  /** Per-endpoint p95 budgets fail the run instead of warning. */
  strictBudgets: boolean;
  /** 429s count as errors (--count-429); otherwise they are left out of the error rate and gated apart. */
  count429: boolean;
  /** The profile's own request-rate floor, when it has one (soak). */
  minRps?: number;
  /** Requests the plan expects to send: a run that sent far fewer is too short to judge. */
  plannedRequests: number;
}

type GateSpec = Omit<Gate, 'value' | 'passed'> & {
  read: (totals: RunRecord['totals'], endpoints: EndpointSummary[]) => number | null;
};

/** The run's gates; `endpoints`: the catalog's entries of the scenario's requests (a p95 gate each). */
export function gateSpecs(budgets: Budgets, endpoints: Array<Pick<Endpoint, 'name' | 'budgetP95Ms'>>, opts: GateOptions): GateSpec[] {
  const g = budgets.gates;
  const seconds = Math.max(1, Math.round(opts.loadSeconds));
  const enough = Math.max(1, Math.ceil((opts.plannedRequests * g.minLoadSharePct) / 100));
  const specs: GateSpec[] = [
    {
      id: 'enough-load',
      title: 'Enough load to judge',
      expression: `${counter.requests} >= ${enough}`,
      limit: enough,
      comparator: '>=',
      unit: 'count',
      strict: true,
      read: (t) => t.requests,
    },
    {
      id: 'p99',
      title: 'p99 response time',
      expression: `${artilleryMetric.responseTime}.p99 < ${g.p99Ms}`,
      limit: g.p99Ms,
      comparator: '<',
      unit: 'ms',
      strict: true,
      read: (t) => t.latency?.p99 ?? null,
    },
    {
      id: 'error-rate',
      title: 'HTTP error rate',
      expression: opts.count429
        ? `${counter.errors} / ${counter.requests} * 100 < ${g.errorRatePct}`
        : `${counter.errors} / (${counter.requests} - ${counter.rateLimited}) * 100 < ${g.errorRatePct}`, // measuredRequests (record.ts), in ensure's terms
      limit: g.errorRatePct,
      comparator: '<',
      unit: '%',
      strict: true,
      read: errorRateOf,
    },
    {
      id: 'request-rate',
      title: 'Request rate',
      expression: `${counter.requests} / ${seconds} >= ${opts.minRps ?? g.minRps}`,
      limit: opts.minRps ?? g.minRps,
      comparator: '>=',
      unit: 'req/s',
      strict: true,
      read: (t) => t.requests / seconds,
    },
    {
      id: 'timeouts',
      title: 'Timeouts',
      expression: `${counter.timeouts} <= ${g.maxTimeouts}`,
      limit: g.maxTimeouts,
      comparator: '<=',
      unit: 'count',
      strict: true,
      read: (t) => t.errors.timeout,
    },
    {
      id: 'crashed-users',
      title: 'Crashed users',
      expression: `vusers.failed <= ${g.maxCrashedUsers}`,
      limit: g.maxCrashedUsers,
      comparator: '<=',
      unit: 'count',
      strict: true,
      read: (t) => t.crashedUsers,
    },
  ];
  if (!opts.count429) {
    specs.push({
      id: 'rate-limited',
      title: 'Rate limited',
      expression: `${counter.rateLimited} / ${counter.requests} * 100 < ${g.maxRateLimitedPct}`,
      limit: g.maxRateLimitedPct,
      comparator: '<',
      unit: '%',
      strict: true,
      read: (t) => (t.requests ? (t.errors.rateLimited / t.requests) * 100 : null),
    });
  }
  for (const { name, budgetP95Ms } of endpoints) {
    specs.push({
      id: `p95-${name}`,
      title: `${name} p95`,
      expression: `${artilleryMetric.endpointResponseTime(name)}.p95 < ${budgetP95Ms}`,
      limit: budgetP95Ms,
      comparator: '<',
      unit: 'ms',
      strict: opts.strictBudgets,
      endpoint: name,
      read: (_t, endpoints) => endpoints.find((e) => e.name === name)?.latency?.p95 ?? null,
    });
  }
  return specs;
}

/**
 * The requests a run must show: the plan's, or for a distributed run (Fargate, Lambda) every
 * worker's, since Artillery's leader judges ensure's conditions on the workers' combined output
 * (its workers run with ensure turned off), and so does the record.
 */
export const plannedForRecord = (plan: { estimate: { total: number }; opts: { platform?: string; count?: number } }): number =>
  !plan.opts.platform || plan.opts.platform === 'local' ? plan.estimate.total : plan.estimate.total * (plan.opts.count ?? 1);

/**
 * The gates of a resolved run plan: the budgets, with the run's options and the profile's own floor.
 * A capacity search has none over the whole run: it breaks them on purpose, and judges each step
 * (src/search/judge.ts).
 */
export function gatesForPlan(plan: {
  budgets: Budgets;
  endpoints: Array<Pick<Endpoint, 'name' | 'budgetP95Ms'>>;
  loadSeconds: number;
  opts: { strict: boolean; count429: boolean; platform?: string; count?: number };
  profile: { minRps?: number; capacity?: unknown };
  estimate: { total: number };
}): GateSpec[] {
  if (plan.profile.capacity) return [];
  return gateSpecs(plan.budgets, plan.endpoints, {
    plannedRequests: plannedForRecord(plan),
    loadSeconds: plan.loadSeconds,
    strictBudgets: plan.opts.strict,
    count429: plan.opts.count429,
    minRps: plan.profile.minRps,
  });
}

/**
 * The gates of a plan run with phases of the user's own (plain Artillery with --overrides): each
 * arriving user makes one journey, so the load the gates expect, and the seconds the request rate
 * is over, are those of the phases that ran. The same as gatesForPlan for the profile's own phases.
 */
export function gatesForPhases(plan: Parameters<typeof gatesForPlan>[0] & { stages: Stage[] }, phases: Array<Record<string, unknown>>): GateSpec[] {
  if (isDeepStrictEqual(phases, toPhases(plan.stages))) return gatesForPlan(plan);
  const journeys = Math.round(arrivalsOf(phases));
  return gatesForPlan({ ...plan, loadSeconds: phasesSeconds(phases), estimate: { total: journeys * plan.endpoints.length } });
}

/**
 * The ensure conditions for the phases that ran: those of the plan's gates replaced by the same
 * gates for `phases` (the load and rate gates change; a condition of the user's own stays as it is).
 */
export function conditionsForPhases(
  conditions: Array<{ expression: string; strict?: boolean }>,
  plan: Parameters<typeof gatesForPhases>[0],
  phases: Array<Record<string, unknown>>,
): Array<{ expression: string; strict?: boolean }> {
  const ran = new Map(gatesForPhases(plan, phases).map((g) => [g.id, g.expression]));
  const idOf = new Map(gatesForPlan(plan).map((g) => [g.expression, g.id]));
  return conditions.map((c) => {
    const id = idOf.get(c.expression);
    return id && ran.has(id) ? { ...c, expression: ran.get(id)! } : c;
  });
}

/** The ensure plugin's configuration for these gates. */
export function ensureConfig(specs: GateSpec[]): { conditions: Array<{ expression: string; strict: boolean }> } {
  return { conditions: specs.map((s) => ({ expression: s.expression, strict: s.strict })) };
}

const holds = (value: number, cmp: Gate['comparator'], limit: number) => (cmp === '<' ? value < limit : cmp === '<=' ? value <= limit : value >= limit);

/**
 * Gates with their values. Verdicts come from ensure when it ran (`verdicts`, by gate id);
 * otherwise (an interrupted or aborted run) from the same comparison on the record's figures.
 */
export function evaluateGates(
  specs: GateSpec[],
  totals: RunRecord['totals'],
  endpoints: EndpointSummary[],
  verdicts: Record<string, boolean> | undefined,
): Gate[] {
  return specs.map(({ read, ...spec }) => {
    const value = read(totals, endpoints);
    const passed = verdicts?.[spec.id] ?? (value !== null && holds(value, spec.comparator, spec.limit));
    return { ...spec, value: value === null ? null : Math.round(value * 100) / 100, passed };
  });
}
