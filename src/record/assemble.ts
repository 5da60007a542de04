// Builds the run record from the plan and what came back on the event channel (src/channel/channel.ts):
// a pure function, so every way a run can end (finished, interrupted, aborted, killed, never
// started) is decided here, once, from data.
import { answerCapacity, searchUsersAt, searchUsersWithin } from './capacity-answer';
import type { CapacityAnswer, CapacityStep } from '../channel/capacity-step';
import { capacityLimits } from '../plan/capacity';
import { notStartedReason } from './artillery-start';
import { diagnose } from './diagnosis';
import { EXIT } from '../common/errors';
import type { EventOf, PeriodEvent, RunEvent, TailSnapshot } from '../channel/channel';
import { evaluateGates, gatesForPlan, plannedForRecord } from './gates';
import { artilleryMetric } from '../common/metrics';
import { planVisits, plannedUsersAt } from '../plan/users';
import { RECORD_SCHEMA, type Outcome, type RunRecord } from './record';
import { workerStops, workerStopsReason } from './breaker';
import { type LatencySummary } from '../common/sketches';
import { buildPeriods, computeTotals, pickSummary, summarizeEndpoints, totalCounters } from './periods';
import type { RunPlan } from '../plan/resolve';
import type { ArtilleryEnd } from '../channel/channel';
import { periodMs } from '../catalog/contract';
import { round1 } from '../common/round';

/** Exit codes of a run stopped by a signal: 128 + its number, as shells and CI runners expect. */
const SIGNAL_EXIT: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };

const first = <T extends RunEvent['type']>(events: RunEvent[], type: T) => events.find((e): e is EventOf<T> => e.type === type);

const secondsText = (s: number) => `${Math.round(s)} s`;

/** The verdict, its one-sentence reason and the exit code, in order of precedence. */
function verdict(
  plan: RunPlan,
  end: ArtilleryEnd,
  events: RunEvent[],
  o: { failedGates: string[]; loadSeconds: number; tooShort: string | undefined; distributed: boolean; capacity?: CapacityAnswer; running: boolean },
): { outcome: Outcome; reason: string; exitCode: number } {
  const preflight = first(events, 'preflight');
  const abort = first(events, 'abort');
  const ended = first(events, 'end');
  const healthEnd = first(events, 'health-end')?.result;
  if (end.stoppedBy) {
    const during = ended && !ended.earlyStop ? 'during the check after the load' : `after ${secondsText(o.loadSeconds)} of load`;
    return { outcome: 'interrupted', exitCode: SIGNAL_EXIT[end.stoppedBy] ?? EXIT.interrupted, reason: `Stopped by ${end.stoppedBy} ${during}.` };
  }
  if (!preflight && !o.distributed) {
    if (end.killedBy)
      return { outcome: 'crashed', exitCode: EXIT.crashed, reason: `Artillery was killed (${end.killedBy}) before the preflight; no load was sent.` };
    return { outcome: 'refused', exitCode: EXIT.badInput, reason: notStartedReason(end.code, end.startError) };
  }
  switch (preflight?.verdict) {
    case 'unhealthy':
      return {
        outcome: 'unhealthy',
        exitCode: EXIT.unhealthyAtStart,
        reason: `The target was not healthy before the load (${preflight.health.problem}); no load was sent.`,
      };
    case 'api-failing':
      return {
        outcome: 'unhealthy',
        exitCode: EXIT.unhealthyAtStart,
        reason: `API failing while /health is OK (${preflight.api?.path} answered ${preflight.api?.status ?? preflight.api?.detail}); no load was sent.`,
      };
    case 'auth-rejected':
    case 'headers-rejected':
      return { outcome: 'refused', exitCode: EXIT.badInput, reason: `Not started: ${preflight.message}; no load was sent.` };
    case 'over-limit':
      return {
        outcome: 'refused',
        exitCode: EXIT.badInput,
        reason: 'The run would exceed what is left of the rate limit; not confirmed (--yes), so no load was sent.',
      };
    default:
  }
  if (abort) return { outcome: 'aborted', exitCode: EXIT.gateFailed, reason: `Stopped early by the breaker: ${abort.reason}` };
  if (!ended && !o.distributed && !o.running) {
    const how = end.killedBy ? `was killed (${end.killedBy})` : `ended unexpectedly (exit ${end.code})`;
    return {
      outcome: 'crashed',
      exitCode: EXIT.crashed,
      reason: `Artillery ${how} after ${secondsText(o.loadSeconds)} of load; the record keeps what was measured until then.`,
    };
  }
  if (healthEnd && !healthEnd.ok) {
    return { outcome: 'failed', exitCode: EXIT.unhealthyAtEnd, reason: `/health failed after the load (${healthEnd.problem}).` };
  }
  if (o.capacity) return capacityVerdict(o.capacity);
  if (o.tooShort && !o.running) return { outcome: 'failed', exitCode: EXIT.gateFailed, reason: o.tooShort };
  if (o.failedGates.length) return { outcome: 'failed', exitCode: EXIT.gateFailed, reason: `Gate failed: ${o.failedGates.join(', ')}.` };
  if (o.distributed && !healthEnd)
    return { outcome: 'passed', exitCode: EXIT.passed, reason: 'Every gate passed (from a combined output: /health was not checked from here).' };
  return { outcome: 'passed', exitCode: EXIT.passed, reason: 'Every gate passed and /health was ok before and after the load.' };
}

/**
 * A capacity search succeeds when it has an answer: the users where the backend broke, a lower
 * bound where the generator saturated, or the search's bound held. It fails when even the fewest
 * users it tried broke a gate, or when its time ran out before a step broke.
 */
function capacityVerdict(c: CapacityAnswer): { outcome: Outcome; reason: string; exitCode: number } {
  const passed = (reason: string) => ({ outcome: 'passed' as const, exitCode: EXIT.passed, reason });
  const held = c.held === null ? undefined : c.steps[c.held];
  const stop = c.stoppedAt === null ? undefined : c.steps[c.stoppedAt];
  switch (c.result) {
    case 'knee':
      return passed(`Capacity found: the backend held ${held?.users} users and broke the gates at ${stop?.users}.`);
    case 'generator-limit':
      return passed(`The load generator saturated before the backend broke: capacity is at least ${c.atLeastRps} req/s.`);
    case 'top-held':
      return passed(`The backend held the search's bound of ${held?.users} users: its capacity is higher.`);
    case 'below-first-step':
      return {
        outcome: 'failed',
        exitCode: EXIT.gateFailed,
        reason: `The backend broke the gates even at ${stop?.users} user${stop?.users === 1 ? '' : 's'}, the fewest the search tried: its capacity is below it.`,
      };
    default:
      return { outcome: 'failed', exitCode: EXIT.gateFailed, reason: `The capacity search has no answer: ${c.line.replace(/^capacity: /, '')}.` };
  }
}

/** Periods Artillery reported, plus the workers' own record of those it never did. */
function allPeriods(events: RunEvent[], tail: TailSnapshot | undefined): PeriodEvent[] {
  const reported = events.filter((e): e is PeriodEvent => e.type === 'period');
  const seen = new Set(reported.filter((p) => !p.unreported).map((p) => p.period));
  const extra = [...reported.filter((p) => p.unreported), ...(tail?.periods ?? [])];
  const byPeriod = new Map<number, PeriodEvent>();
  for (const p of extra) if (!seen.has(p.period) && !byPeriod.has(p.period)) byPeriod.set(p.period, { ...p, unreported: true });
  return [...reported.filter((p) => !p.unreported), ...byPeriod.values()].sort((a, b) => a.period - b.period);
}

/**
 * The record of a run. `combined` is the output of a distributed run (Fargate/Lambda), where the
 * plugin and the preflight ran on the workers: periods then come from Artillery's output.
 * `running`: the record so far of a run still going (the live view): rates over the load measured
 * until now, and the verdict so far, not that of a run that ended without an end.
 */
export function assembleRecord(
  plan: RunPlan,
  id: string,
  events: RunEvent[],
  end: ArtilleryEnd,
  combined?: { periods: PeriodEvent[]; aggregate: Record<string, LatencySummary> },
  { running = false }: { running?: boolean } = {},
): RunRecord {
  const distributed = Boolean(combined);
  // A distributed worker's breaker leaves its stop in the output: the run was stopped early, as a local one.
  const stops = combined && plan.breaker ? workerStops(combined.periods) : [];
  if (stops.length && plan.budgets.breaker) {
    events = [...events, { type: 'abort', at: stops[0].at, reason: workerStopsReason(stops, plan.opts.count, plan.budgets.breaker) }];
  }
  const ended = first(events, 'end');
  // A killed Artillery wrote no end: the workers' last snapshot (tail.json) stands in for it.
  const tail = ended ? undefined : end.tail;
  const periodEvents = combined ? combined.periods : allPeriods(events, tail);
  const phase = first(events, 'phase');
  const abort = first(events, 'abort');
  const preflight = first(events, 'preflight');
  const healthEnd = first(events, 'health-end')?.result ?? null;
  // After an abort or a signal, ensure judged an incomplete run: its verdicts mean nothing then.
  const incomplete = !distributed && (!ended || ended.earlyStop);
  const verdicts = end.stoppedBy || abort || incomplete ? undefined : first(events, 'verdicts')?.gates;
  const count429 = plan.opts.count429;

  const loadStart = phase?.at ?? periodEvents[0]?.period ?? end.startedAt.getTime();
  const visits = planVisits(plan.stages);
  // A capacity search plans its users as it goes: those it let send, not the waiting pool.
  // The channel's steps may come from an older search, which recorded fewer of its reasons (RecordedStep): judged as they are.
  const searchSteps = events.flatMap((e) => (e.type === 'capacity-step' ? [e.step as CapacityStep] : []));
  const planned = plan.profile.capacity ? (s: number) => searchUsersAt(searchSteps, loadStart + s * 1000) : (s: number) => plannedUsersAt(visits, s);
  const sending = plan.profile.capacity ? (from: number, to: number) => searchUsersWithin(searchSteps, from, to) : undefined;
  const periods = buildPeriods(periodEvents, loadStart, planned, periodMs(plan.contract), sending);
  const counters = totalCounters(periodEvents);
  const endpoints = summarizeEndpoints(periods, plan.endpoints, counters, count429, combined?.aggregate);
  const lastActivity = periodEvents.length ? Math.max(...periodEvents.map((e) => e.last)) : loadStart;
  const loadSeconds = phase || periodEvents.length ? Math.max(0, (lastActivity - loadStart) / 1000) : 0;
  const aggregateLatency = combined?.aggregate[artilleryMetric.responseTime];
  const totals = computeTotals(periods, {
    count429,
    // A capacity search ends when it has its answer: its rate is over the load it really ran.
    loadSeconds: plan.profile.capacity || running ? Math.max(1, loadSeconds) : plan.loadSeconds,
    durationSeconds: loadSeconds,
    crashedUsers: counters['vusers.failed'] ?? 0,
    fallbackLatency: aggregateLatency ? pickSummary(aggregateLatency) : null,
  });
  const plannedRequests = plannedForRecord(plan);
  // A run still going has not had its load yet: whether it was enough is judged at its end.
  const gates = evaluateGates(gatesForPlan(plan), totals, endpoints, verdicts).filter((g) => !running || g.id !== 'enough-load');
  const enough = gates.find((g) => g.id === 'enough-load');
  const tooShort =
    enough && !enough.passed
      ? `Too short to judge: ${totals.requests} requests in ${secondsText(loadSeconds)} of load, against ~${plannedRequests} planned over ${secondsText(plan.loadSeconds)}${distributed ? ` by ${plan.opts.count} workers` : ''} (at least ${enough.limit} needed).`
      : undefined;
  const failedGates = gates.filter((g) => g.strict && !g.passed).map((g) => g.title);
  const search = plan.profile.capacity;
  const limits = capacityLimits(plan.budgets, count429, periodMs(plan.contract));
  // The steps as the plugin judged them, live (each judged once, there).
  const capacity = search
    ? answerCapacity(searchSteps, {
        budgets: Object.fromEntries(plan.endpoints.map((e) => [e.name, e.budgetP95Ms])),
        endpointPath: (name) => plan.endpoints.find((e) => e.name === name)?.path ?? name,
        search,
        requestsPerJourney: plan.endpoints.length,
        timeUp: first(events, 'capacity-stop')?.timeUp ?? false,
      })
    : undefined;
  const { outcome, reason, exitCode } = verdict(plan, end, events, { failedGates, loadSeconds, tooShort, distributed, capacity, running });
  const unknownSeconds = !ended && !distributed && end.tail ? Math.max(0, (end.endedAt.getTime() - end.tail.at) / 1000) : 0;

  const record: RunRecord = {
    schema: RECORD_SCHEMA,
    pack: { name: 'voxanne-load-test', version: plan.packVersion },
    id,
    startedAt: end.startedAt.toISOString(),
    loadStartedAt: phase ? new Date(phase.at).toISOString() : null,
    endedAt: end.endedAt.toISOString(),
    target: plan.target,
    environment: plan.environment.name,
    profile: { name: plan.profile.name, description: plan.profile.description, stages: plan.stages, thinkSeconds: plan.profile.thinkSeconds },
    timeScale: plan.opts.timeScale,
    periodSeconds: plan.contract.periodSeconds,
    platform: plan.opts.platform === 'local' ? { name: 'local', count: 1 } : { name: plan.opts.platform, count: plan.opts.count, region: plan.opts.region },
    auth: { mode: plan.auth.mode, description: plan.auth.description, ...(plan.auth.warning && { warning: plan.auth.warning }) },
    outcome,
    reason,
    exitCode,
    gates,
    health: { start: preflight?.health ?? null, end: healthEnd },
    apiCheck: preflight?.api ?? null,
    rateLimit: {
      atStart: preflight?.api?.rateLimit ?? null,
      predictedApiRequests: plan.estimate.api,
      limited: totals.errors.rateLimited,
      countedAsErrors: count429,
      spreadIps: plan.opts.spreadIps,
      warning: preflight?.rateLimitWarning ?? null,
    },
    abort: abort ? { at: new Date(abort.at).toISOString(), reason: abort.reason } : null,
    ...(stops.length && { workerStops: stops.map((s) => ({ worker: s.worker, cause: s.cause, at: new Date(s.at).toISOString() })) }),
    ending: {
      signal: end.stoppedBy ?? end.killedBy,
      inFlight: ended?.inFlight ?? end.tail?.inFlight ?? 0,
      unknownSeconds: round1(unknownSeconds),
      unreportedPeriods: periodEvents.filter((p) => p.unreported).length,
    },
    redirects: events.filter((e): e is EventOf<'redirect'> => e.type === 'redirect').map(({ endpoint, status, location }) => ({ endpoint, status, location })),
    totals,
    endpoints,
    periods,
    diagnosis: [],
    // The waiting pool: the users Artillery brought in to wait (its vusers.created), never all sending.
    ...(capacity && search && { capacity: { ...capacity, waitingPool: counters['vusers.created'] ?? 0, search, limits } }),
  };
  // Before the first answer of a run still going, there is nothing to diagnose yet.
  record.diagnosis = running && !totals.requests ? [] : diagnose(record);
  return record;
}
