// The capacity search's judge: one step's verdict from the workers' own seconds inside its measured
// window, and when that window is long enough. The live driver (driver.ts) calls it each tick.
import type { PeriodEvent } from '../channel/channel';
import type { CapacitySearch } from '../catalog/config';
import type { CapacityLimits } from '../plan/capacity';
import { errorTotal, noErrors, addErrors, type ErrorKinds } from '../record/record';
import { round1 } from '../common/round';
import { mergeSketches, summarize } from '../common/sketches';
import { buildPeriods } from '../record/periods';
import { generatorMetric } from '../common/metrics';
import type { EndpointStep, Prediction, SearchPhase, CapacityStep } from '../channel/capacity-step';

/** A step is judged on whole seconds of the workers' own data. */
export const SECOND_MS = 1000;

/** Judges one step from the workers' seconds wholly inside its measured window [from, to). */
export function judgeStep(
  step: { users: number; phase: SearchPhase; predicted: Prediction | null; since: number; from: number; to: number },
  seconds: PeriodEvent[],
  limits: CapacityLimits,
): CapacityStep {
  const inside = seconds.filter((p) => p.period >= step.from && p.period + SECOND_MS <= step.to);
  const windowSeconds = Math.max(1, (step.to - step.from) / SECOND_MS);
  const periods = buildPeriods(inside, step.from, () => step.users, SECOND_MS);
  const errors = periods.reduce((sum, p) => addErrors(sum, p.errors), noErrors());
  const requests = periods.reduce((sum, p) => sum + p.requests, 0);
  const measured = requests - (limits.count429 ? 0 : errors.rateLimited);
  const errorRatePct = measured > 0 ? (errorTotal(errors, limits.count429) / measured) * 100 : 0;
  const rateLimitedPct = requests > 0 ? (errors.rateLimited / requests) * 100 : 0;
  const l = summarize(mergeSketches(periods.map((p) => p.latency)));
  const latency = l ? { p50: l.p50, p95: l.p95, p99: l.p99 } : null;
  const median = (name: string) => {
    const s = mergeSketches(inside.map((p) => p.histograms[name]));
    return s && s.count ? round1(s.getValueAtQuantile(0.5)) : null;
  };
  const cpuPct = median(generatorMetric.cpuPct);
  const loopDelayMs = median(generatorMetric.loopDelayMs);

  const broken: CapacityStep['broken'] = [];
  if (!latency || latency.p99 >= limits.p99Ms) broken.push({ gate: 'p99', value: latency?.p99 ?? 0, limit: limits.p99Ms });
  if (errorRatePct >= limits.errorRatePct) broken.push({ gate: 'error-rate', value: round1(errorRatePct), limit: limits.errorRatePct });
  if (errors.timeout > limits.maxTimeouts) broken.push({ gate: 'timeouts', value: errors.timeout, limit: limits.maxTimeouts });
  if (!limits.count429 && rateLimitedPct >= limits.maxRateLimitedPct) {
    broken.push({ gate: 'rate-limited', value: round1(rateLimitedPct), limit: limits.maxRateLimitedPct });
  }
  // A late event loop delays every request it sends and times: it limits the measurement once it
  // is above its limit and a real share (a quarter) of the typical response time, while the worker
  // is busy itself (late at low CPU, the loop waits for other work on the machine).
  const generatorLimited =
    (cpuPct !== null && cpuPct >= limits.generatorCpuPct) ||
    (loopDelayMs !== null &&
      loopDelayMs >= limits.generatorLoopDelayMs &&
      loopDelayMs >= (latency?.p50 ?? 0) / 4 &&
      (cpuPct ?? 100) >= (limits.generatorLoopBusyCpuPct ?? 0));
  const names = [...new Set(periods.flatMap((p) => Object.keys(p.endpoints)))];
  const endpoints = names.map((name): EndpointStep => {
    const parts = periods.map((p) => p.endpoints[name]).filter(Boolean);
    const e: ErrorKinds = parts.reduce((sum, x) => addErrors(sum, x.errors), noErrors());
    const s = summarize(mergeSketches(parts.map((x) => x.latency)));
    return {
      name,
      requests: parts.reduce((n, x) => n + x.requests, 0),
      errors: errorTotal(e, limits.count429),
      timeouts: e.timeout,
      p95: s?.p95 ?? null,
      p99: s?.p99 ?? null,
    };
  });
  return {
    users: step.users,
    phase: step.phase,
    predicted: step.predicted,
    since: step.since,
    from: step.from,
    to: step.to,
    seconds: inside.length,
    requests,
    requestsPerSecond: round1(requests / windowSeconds),
    latency,
    errorRatePct: round1(errorRatePct),
    timeouts: errors.timeout,
    rateLimitedPct: round1(rateLimitedPct),
    cpuPct,
    loopDelayMs,
    broken,
    generatorLimited,
    // A saturated generator measures itself, not the backend: that comes first.
    verdict: generatorLimited ? 'generator-limit' : broken.length ? 'broken' : 'held',
    endpoints,
  };
}

/** A step's measured window is long enough: enough responses for a stable p99, within the step's bounds. */
export function windowDone(s: CapacitySearch, seconds: number, requests: number): boolean {
  return seconds >= s.maxStepSeconds || (seconds >= s.minStepSeconds && requests >= s.minRequests);
}
