// The capacity search (--profile capacity): a staircase of concurrent users, each step judged from
// the reporting periods (10 s, from the contract catalog) that lie wholly inside its hold. Pure functions, shared by the Artillery plugin
// (which stops the load at the first step that breaks) and the run record (which gives the answer),
// so both judge a step the same way.
import type { Stage } from '../catalog/config';
import type { CapacityLimits, PeriodEvent } from '../artillery/channel';
import { buildPeriods, errorTotal, mergeSketches, noErrors, addErrors, summarize, type ErrorKinds } from './record';

/** A hold shorter than two periods may contain no whole period: nothing to judge the step by. */
export const minHoldSeconds = (periodMs: number): number => (2 * periodMs) / 1000;

/** The load generator's own measurements, per worker and per second (processors/recorder.ts). */
export const generatorMetric = {
  prefix: 'voxanne.generator.',
  cpuPct: 'voxanne.generator.cpu_pct',
  loopDelayMs: 'voxanne.generator.loop_delay_ms',
} as const;

export interface CapacitySpec {
  start: number;
  step: number;
  max: number;
  rampSeconds: number;
  holdSeconds: number;
}

/** Limits a step is judged by: the guide's gates, and where the generator stops measuring the backend. */
export type { CapacityLimits };

/** One step, in seconds from the start of the load (already time-scaled). */
export interface StepWindow {
  users: number;
  from: number;
  holdFrom: number;
  holdTo: number;
}

const RAMP_DOWN_SECONDS = 5;

export function stepUsers(spec: CapacitySpec): number[] {
  const users: number[] = [];
  for (let u = spec.start; u <= spec.max; u += spec.step) users.push(u);
  return users;
}

/** The staircase as the pack's stages: a short ramp to each step, its hold, then down to 0. */
export function capacityStages(spec: CapacitySpec): Stage[] {
  return [
    ...stepUsers(spec).flatMap((target) => [
      { duration: spec.rampSeconds, target },
      { duration: spec.holdSeconds, target },
    ]),
    { duration: RAMP_DOWN_SECONDS, target: 0 },
  ];
}

export function stepWindows(spec: CapacitySpec, timeScale: number): StepWindow[] {
  const stepSeconds = (spec.rampSeconds + spec.holdSeconds) * timeScale;
  return stepUsers(spec).map((users, i) => ({
    users,
    from: i * stepSeconds,
    holdFrom: i * stepSeconds + spec.rampSeconds * timeScale,
    holdTo: (i + 1) * stepSeconds,
  }));
}

/** Start (epoch ms) of the last whole period inside a hold; the step can be judged once it is in. */
export function lastWholePeriod(w: StepWindow, loadStart: number, periodMs: number): number {
  return Math.floor((loadStart + w.holdTo * 1000) / periodMs) * periodMs - periodMs;
}

export const insideHold = (p: PeriodEvent, w: StepWindow, loadStart: number, periodMs: number): boolean =>
  p.period >= loadStart + w.holdFrom * 1000 && p.period + periodMs <= loadStart + w.holdTo * 1000;

export type StepGate = 'p99' | 'error-rate' | 'timeouts' | 'rate-limited';
export const STEP_GATE_TITLE: Record<StepGate, string> = {
  p99: 'p99 response time',
  'error-rate': 'HTTP error rate',
  timeouts: 'timeouts',
  'rate-limited': 'rate limited',
};

export interface EndpointStep {
  name: string;
  requests: number;
  errors: number;
  timeouts: number;
  p95: number | null;
  p99: number | null;
}

export interface StepResult {
  users: number;
  /** Whole periods judged. */
  periods: number;
  requests: number;
  requestsPerSecond: number;
  latency: { p50: number; p95: number; p99: number } | null;
  errorRatePct: number;
  timeouts: number;
  rateLimitedPct: number;
  /** The busiest worker's CPU, % of one core (median second), and its event-loop delay (median second's worst, ms). */
  cpuPct: number | null;
  loopDelayMs: number | null;
  broken: Array<{ gate: StepGate; value: number; limit: number }>;
  generatorLimited: boolean;
  verdict: 'held' | 'broken' | 'generator-limit';
  endpoints: EndpointStep[];
}

const round1 = (n: number) => Math.round(n * 10) / 10;

/** Judges one step from the periods wholly inside its hold; undefined when there is none. */
export function judgeStep(w: StepWindow, events: PeriodEvent[], loadStart: number, limits: CapacityLimits): StepResult | undefined {
  const inside = events.filter((p) => insideHold(p, w, loadStart, limits.periodMs));
  if (!inside.length) return undefined;
  const periods = buildPeriods(inside, loadStart, () => w.users, limits.periodMs);
  const errors = periods.reduce((sum, p) => addErrors(sum, p.errors), noErrors());
  const requests = periods.reduce((sum, p) => sum + p.requests, 0);
  const measured = requests - (limits.count429 ? 0 : errors.rateLimited);
  const errorRatePct = measured > 0 ? (errorTotal(errors, limits.count429) / measured) * 100 : 0;
  const rateLimitedPct = requests > 0 ? (errors.rateLimited / requests) * 100 : 0;
  const l = summarize(mergeSketches(periods.map((p) => p.latency)));
  // Without sketches (a distributed run's output) the periods' own summaries, the worst of them.
  const summaries = periods.flatMap((p) => (p.latencySummary ? [p.latencySummary] : []));
  const worst = (k: 'p50' | 'p95' | 'p99') => Math.max(...summaries.map((x) => x[k]));
  const latency = l ? { p50: l.p50, p95: l.p95, p99: l.p99 } : summaries.length ? { p50: worst('p50'), p95: worst('p95'), p99: worst('p99') } : null;
  const median = (name: string) => {
    const s = mergeSketches(inside.map((p) => p.histograms[name]));
    return s && s.count ? round1(s.getValueAtQuantile(0.5)) : null;
  };
  const cpuPct = median(generatorMetric.cpuPct);
  const loopDelayMs = median(generatorMetric.loopDelayMs);

  const broken: StepResult['broken'] = [];
  if (!latency || latency.p99 >= limits.p99Ms) broken.push({ gate: 'p99', value: latency?.p99 ?? 0, limit: limits.p99Ms });
  if (errorRatePct >= limits.errorRatePct) broken.push({ gate: 'error-rate', value: round1(errorRatePct), limit: limits.errorRatePct });
  if (errors.timeout > limits.maxTimeouts) broken.push({ gate: 'timeouts', value: errors.timeout, limit: limits.maxTimeouts });
  if (!limits.count429 && rateLimitedPct >= limits.maxRateLimitedPct) {
    broken.push({ gate: 'rate-limited', value: round1(rateLimitedPct), limit: limits.maxRateLimitedPct });
  }
  // A late event loop delays every request it sends and times: it limits the measurement once it
  // is above its limit and a real share (a quarter) of the typical response time.
  const generatorLimited =
    (cpuPct !== null && cpuPct >= limits.generatorCpuPct) ||
    (loopDelayMs !== null && loopDelayMs >= limits.generatorLoopDelayMs && loopDelayMs >= (latency?.p50 ?? 0) / 4);
  const names = [...new Set(periods.flatMap((p) => Object.keys(p.endpoints)))];
  const endpoints = names.map((name): EndpointStep => {
    const parts = periods.map((p) => p.endpoints[name]).filter(Boolean);
    const e: ErrorKinds = parts.reduce((sum, x) => addErrors(sum, x.errors), noErrors());
    const s = summarize(mergeSketches(parts.map((x) => x.latency)));
    return { name, requests: parts.reduce((n, x) => n + x.requests, 0), errors: errorTotal(e, limits.count429), timeouts: e.timeout, p95: s?.p95 ?? null, p99: s?.p99 ?? null };
  });
  return {
    users: w.users,
    periods: inside.length,
    requests,
    requestsPerSecond: round1(requests / ((inside.length * limits.periodMs) / 1000)),
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

export type CapacityResult = 'knee' | 'generator-limit' | 'top-held' | 'below-first-step' | 'incomplete';

export interface CapacityAnswer {
  result: CapacityResult;
  steps: StepResult[];
  /** Index in `steps` of the highest step held, if any. */
  held: number | null;
  /** The step that ended the search (broken, or where the generator saturated). */
  stoppedAt: number | null;
  /** Which endpoint degraded first, on the way to the broken step. */
  degradedFirst: string | null;
  /** With a saturated generator: the backend holds at least this many requests/s. */
  atLeastRps: number | null;
  line: string;
}

/**
 * The endpoint that degraded first: the earliest step where one went over its p95 budget or had
 * errors or timeouts; otherwise, at the broken step, the one furthest over (or nearest) its budget.
 */
function degradedFirst(steps: StepResult[], upTo: number, budgets: Record<string, number>): string | null {
  const ratio = (e: EndpointStep) => (e.p95 ?? 0) / (budgets[e.name] ?? Infinity);
  for (const step of steps.slice(0, upTo + 1)) {
    const bad = step.endpoints.filter((e) => ratio(e) >= 1 || e.errors > 0 || e.timeouts > 0);
    if (bad.length) return bad.sort((a, b) => b.errors + b.timeouts - (a.errors + a.timeouts) || ratio(b) - ratio(a))[0].name;
  }
  const at = steps[upTo]?.endpoints ?? [];
  return at.length ? [...at].sort((a, b) => ratio(b) - ratio(a))[0].name : null;
}

const fmt = (n: number) => (n >= 100 ? String(Math.round(n)) : String(round1(n)));
const pcts = (s: StepResult) => (s.latency ? `p50/p95/p99 ${fmt(s.latency.p50)}/${fmt(s.latency.p95)}/${fmt(s.latency.p99)} ms` : 'no responses');
const stepText = (s: StepResult) => `${s.users} users (${fmt(s.requestsPerSecond)} req/s, ${pcts(s)})`;
const gateText = (b: StepResult['broken'][number]) =>
  b.gate === 'p99' ? `p99 ${fmt(b.value)} ms >= ${b.limit} ms` : b.gate === 'timeouts' ? `${b.value} timeouts > ${b.limit}` : `${STEP_GATE_TITLE[b.gate]} ${b.value} % >= ${b.limit} %`;

export const GENERATOR_WAY_OUT =
  'for more load, run from more machines (--platform fargate or lambda with --count N); a machine with more cores only helps once users are spread across its workers (see README, How much headroom)';

/** The answer from the judged steps, in order; `endpointPath` turns a request name into its path. */
export function answerCapacity(
  judged: StepResult[],
  o: { budgets: Record<string, number>; endpointPath: (name: string) => string; topUsers: number },
): CapacityAnswer {
  const stop = judged.findIndex((s) => s.verdict !== 'held');
  const heldSteps = (stop < 0 ? judged : judged.slice(0, stop)).length;
  const held = heldSteps ? heldSteps - 1 : null;
  const heldText = held === null ? '' : stepText(judged[held]);
  const base = { steps: judged, held, stoppedAt: stop < 0 ? null : stop, degradedFirst: null, atLeastRps: null };
  if (stop < 0) {
    if (held !== null && judged[held].users >= o.topUsers) {
      return { ...base, result: 'top-held', line: `capacity: at least ${heldText}: the top step held; raise max in config/profiles.yml to search further` };
    }
    return {
      ...base,
      result: 'incomplete',
      line: `capacity: not found: the run ended before a step broke${held !== null ? `; highest step held: ${heldText}` : ' and no step was judged'}`,
    };
  }
  const s = judged[stop];
  if (s.verdict === 'generator-limit') {
    // The backend held the gates at every step the generator could drive (this one too, if its gates held).
    const clean = judged.slice(0, stop + (s.broken.length ? 0 : 1));
    const atLeast = Math.max(0, ...clean.map((x) => x.requestsPerSecond));
    const why = [s.cpuPct !== null ? `CPU ${fmt(s.cpuPct)} % of a core` : '', s.loopDelayMs !== null ? `event-loop delay ${fmt(s.loopDelayMs)} ms` : ''].filter(Boolean).join(', ');
    return {
      ...base,
      result: 'generator-limit',
      atLeastRps: atLeast,
      line:
        `capacity: the load generator reached its limit at ${fmt(atLeast)} req/s before the backend broke: capacity is at least ${fmt(atLeast)} req/s ` +
        `(at ${s.users} users: ${why}${s.broken.length ? `; the gates it broke then may be the generator's own queueing` : `; ${pcts(s)}`}); ${GENERATOR_WAY_OUT}`,
    };
  }
  const endpoint = degradedFirst(judged, stop, o.budgets);
  const broke = `broke at ${s.users} users (${fmt(s.requestsPerSecond)} req/s): ${s.broken.map(gateText).join(', ')}${endpoint ? `; ${o.endpointPath(endpoint)} degraded first` : ''}`;
  if (held === null) {
    return { ...base, result: 'below-first-step', degradedFirst: endpoint, line: `capacity: below ${s.users} users: the first step ${broke.replace(/^broke at \d+ users/, 'broke')}; lower start in config/profiles.yml` };
  }
  return { ...base, result: 'knee', degradedFirst: endpoint, line: `capacity: ${heldText} held; ${broke}` };
}

/** Every step that has whole periods to judge, in order, up to the first that did not hold. */
export function judgeSteps(windows: StepWindow[], events: PeriodEvent[], loadStart: number, limits: CapacityLimits): StepResult[] {
  const out: StepResult[] = [];
  for (const w of windows) {
    const r = judgeStep(w, events, loadStart, limits);
    if (!r) break;
    out.push(r);
    if (r.verdict !== 'held') break;
  }
  return out;
}
