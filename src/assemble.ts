// Builds the run record from what a run left in its folder: the plugin's events, the preflight and
// the end health check. Works on whatever is there, so an interrupted or crashed run still has one.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { notStartedReason } from './artillery-start';
import { ROOT } from './config';
import { diagnose } from './diagnosis';
import { EXIT } from './errors';
import type { AbortEvent, ChecksEvent, PeriodEvent, PhaseEvent, RunEvent } from './events';
import { evaluateGates, gatesForPlan } from './gates';
import type { HealthResult } from './health';
import { artilleryMetric } from './metrics';
import { planVisits, plannedUsersAt } from './plan';
import {
  buildPeriods, computeTotals, pickSummary, RECORD_SCHEMA, summarizeEndpoints, totalCounters,
  type LatencySummary, type Outcome, type RunRecord,
} from './record';
import type { RunPlan } from './run';
import { scenarioEndpoints } from './scenario';
import type { Preflight } from '../processors/preflight';

export interface ArtilleryEnd {
  code: number | null;
  interrupted: boolean;
  startedAt: Date;
  endedAt: Date;
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

function readJson<T>(dir: string, file: string): T | null {
  try {
    return JSON.parse(readFileSync(join(dir, file), 'utf8')) as T;
  } catch {
    return null;
  }
}

const packVersion = (): string => JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;

/** The verdict, its one-sentence reason and the exit code, in order of precedence. */
function verdict(
  end: ArtilleryEnd,
  preflight: Preflight | null,
  healthEnd: HealthResult | null,
  abort: AbortEvent | undefined,
  checksRan: boolean,
  failedGates: string[],
  durationSeconds: number,
  distributed: boolean,
  dir: string,
): { outcome: Outcome; reason: string; exitCode: number } {
  if (end.interrupted) {
    return { outcome: 'interrupted', exitCode: EXIT.interrupted, reason: `Stopped by the user after ${Math.round(durationSeconds)} s of load.` };
  }
  if (!preflight && !distributed) {
    return { outcome: 'refused', exitCode: EXIT.badInput, reason: notStartedReason(end.code, dir) };
  }
  switch (preflight?.verdict) {
    case 'unhealthy':
      return { outcome: 'unhealthy', exitCode: EXIT.unhealthyAtStart, reason: `The target was not healthy before the load (${preflight?.health.problem}); no load was sent.` };
    case 'api-failing':
      return {
        outcome: 'unhealthy',
        exitCode: EXIT.unhealthyAtStart,
        reason: `API failing while /health is OK (${preflight?.api?.path} answered ${preflight?.api?.status ?? preflight?.api?.detail}); no load was sent.`,
      };
    case 'over-limit':
      return { outcome: 'refused', exitCode: EXIT.badInput, reason: 'The run would exceed what is left of the rate limit; not confirmed, so no load was sent.' };
    default:
  }
  if (abort) return { outcome: 'aborted', exitCode: EXIT.gateFailed, reason: `Stopped early by the breaker: ${abort.reason}` };
  if (healthEnd && !healthEnd.ok) {
    return { outcome: 'failed', exitCode: EXIT.unhealthyAtEnd, reason: `/health failed after the load (${healthEnd.problem}).` };
  }
  if (!checksRan && !distributed) return { outcome: 'failed', exitCode: EXIT.gateFailed, reason: `Artillery ended unexpectedly (exit ${end.code}); see artillery.log.` };
  if (failedGates.length) return { outcome: 'failed', exitCode: EXIT.gateFailed, reason: `Gate failed: ${failedGates.join(', ')}.` };
  if (distributed) return { outcome: 'passed', exitCode: EXIT.passed, reason: 'Every gate passed (health was checked on each worker).' };
  return { outcome: 'passed', exitCode: EXIT.passed, reason: 'Every gate passed and /health was ok before and after the load.' };
}

/** ensure's verdicts as it printed them ("ok: <expression>", "fail: <expression> (optional)"). */
function checksFromLog(dir: string): ChecksEvent | undefined {
  let text: string;
  try {
    text = readFileSync(join(dir, 'artillery.log'), 'utf8');
  } catch {
    return undefined;
  }
  const checks = [...text.matchAll(/^(ok|fail): (.+?)( \(optional\))?$/gm)].map(([, verdict, expression, optional]) => ({
    expression,
    passed: verdict === 'ok',
    strict: !optional,
  }));
  return checks.length ? { type: 'checks', checks } : undefined;
}

/**
 * The record of a run. `combined` is the output of a distributed run (Fargate/Lambda), where the
 * plugin and the preflight ran on the workers: periods and verdicts then come from Artillery's output.
 */
export function assembleRecord(
  plan: RunPlan,
  id: string,
  dir: string,
  end: ArtilleryEnd,
  combined?: { periods: PeriodEvent[]; aggregate: Record<string, LatencySummary> },
): RunRecord {
  const distributed = Boolean(combined);
  const events = combined ? [...combined.periods, ...(checksFromLog(dir) ? [checksFromLog(dir)!] : [])] : readEvents(dir);
  const periodEvents = events.filter((e): e is PeriodEvent => e.type === 'period');
  const phases = events.filter((e): e is PhaseEvent => e.type === 'phase');
  const abort = events.find((e): e is AbortEvent => e.type === 'abort');
  // After an abort or Ctrl-C, ensure judged an empty report: its verdicts mean nothing then.
  const checks = end.interrupted || abort ? undefined : events.find((e): e is ChecksEvent => e.type === 'checks');
  const preflight = readJson<Preflight>(dir, 'preflight.json');
  const healthEnd = readJson<HealthResult>(dir, 'health-end.json');
  const count429 = plan.opts.count429;

  const loadStart = phases[0]?.at ?? periodEvents[0]?.period ?? end.startedAt.getTime();
  const visits = planVisits(plan.stages);
  const periods = buildPeriods(periodEvents, loadStart, (s) => plannedUsersAt(visits, s));
  const counters = totalCounters(periodEvents);
  const endpoints = summarizeEndpoints(
    periods,
    scenarioEndpoints(plan.scenario).map(({ name, path }) => ({ name, path, ...plan.budgets.endpoints[name] })),
    counters,
    count429,
    combined?.aggregate,
  );
  const lastActivity = periodEvents.length ? Math.max(...periodEvents.map((e) => e.last)) : loadStart;
  const durationSeconds = Math.max(0, (lastActivity - loadStart) / 1000);
  const aggregateLatency = combined?.aggregate[artilleryMetric.responseTime];
  const totals = computeTotals(periods, {
    count429,
    loadSeconds: plan.loadSeconds,
    durationSeconds,
    crashedUsers: counters['vusers.failed'] ?? 0,
    fallbackLatency: aggregateLatency ? pickSummary(aggregateLatency) : null,
  });
  const specs = gatesForPlan(plan);
  const verdicts = checks ? new Map(checks.checks.map((c) => [c.expression, c.passed])) : undefined;
  const gates = evaluateGates(specs, totals, endpoints, verdicts);
  const failedGates = gates.filter((g) => g.strict && !g.passed).map((g) => g.title);
  const { outcome, reason, exitCode } = verdict(end, preflight, healthEnd, abort, Boolean(checks), failedGates, durationSeconds, distributed, dir);

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
    platform:
      plan.opts.platform === 'local'
        ? { name: 'local', count: 1 }
        : { name: plan.opts.platform, count: plan.opts.count, region: plan.opts.region },
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
    totals,
    endpoints,
    periods,
    diagnosis: [],
  };
  record.diagnosis = diagnose(record);
  return record;
}
