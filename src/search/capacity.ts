// The capacity search (--profile capacity): an adaptive search for the users a backend holds within
// the gates. Users grow geometrically until a gate breaks or throughput stops growing; past that
// knee, Little's law (latency ~ users / throughput) and the measured latency's shape predict where
// a gate breaks; real steps check the prediction, bracket the breaking point and narrow it to about
// 10 %. Pure functions, shared by the live driver (driver.ts, which chooses each step from what the
// previous ones measured, inside the Artillery run) and the run record (which gives the answer).
import type { PeriodEvent } from '../channel/channel';
import type { CapacitySearch } from '../catalog/config';
import type { CapacityLimits } from '../plan/capacity';
import { errorTotal, noErrors, addErrors, type ErrorKinds } from '../record/record';
import { mergeSketches, summarize } from '../shared/sketches';
import { buildPeriods } from '../record/periods';
import { round1 } from '../shared/round';
import type { CapacityAnswer, Decision, EndpointStep, Prediction, SearchPhase, StepGate, StepResult } from './shapes';


/** The load generator's own measurements, per worker and per second (processors/recorder.ts). */
export const generatorMetric = {
  prefix: 'voxanne.generator.',
  cpuPct: 'voxanne.generator.cpu_pct',
  loopDelayMs: 'voxanne.generator.loop_delay_ms',
} as const;

/** A step is judged on whole seconds of the workers' own data. */
export const SECOND_MS = 1000;


export const STEP_GATE_TITLE: Record<StepGate, string> = {
  p99: 'p99 response time',
  'error-rate': 'HTTP error rate',
  timeouts: 'timeouts',
  'rate-limited': 'rate limited',
};


/** Judges one step from the workers' seconds wholly inside its measured window [from, to). */
export function judgeStep(
  step: { users: number; phase: SearchPhase; predicted: Prediction | null; since: number; from: number; to: number },
  seconds: PeriodEvent[],
  limits: CapacityLimits,
): StepResult {
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

  const broken: StepResult['broken'] = [];
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
    return { name, requests: parts.reduce((n, x) => n + x.requests, 0), errors: errorTotal(e, limits.count429), timeouts: e.timeout, p95: s?.p95 ?? null, p99: s?.p99 ?? null };
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

const backendSteps = (steps: StepResult[]) => steps.filter((s) => s.verdict !== 'generator-limit');
const byUsers = (steps: StepResult[]) => [...steps].sort((a, b) => a.users - b.users);

/** The knee: the highest throughput, and the fewest users that reached it (within 5 %). */
export function kneeOf(steps: StepResult[]): { users: number; requestsPerSecond: number } | null {
  const judged = backendSteps(steps);
  if (!judged.length) return null;
  const top = Math.max(...judged.map((s) => s.requestsPerSecond));
  const first = byUsers(judged).find((s) => s.requestsPerSecond >= top * 0.95)!;
  return { users: first.users, requestsPerSecond: top };
}

/**
 * Throughput stopped growing: some step had at least `usersGrowth` times the users of a smaller one
 * and less than `rpsGrowthPct` % more requests/s. Past that point added users only add waiting.
 */
export function saturated(steps: StepResult[], s: CapacitySearch): boolean {
  const sorted = byUsers(backendSteps(steps));
  return sorted.some((b, j) =>
    sorted.slice(0, j).some((a) => b.users >= a.users * s.saturation.usersGrowth && b.requestsPerSecond < a.requestsPerSecond * (1 + s.saturation.rpsGrowthPct / 100)),
  );
}

/**
 * Where a gate breaks, from the steps past the knee. Throughput is flat there, so by Little's law
 * latency grows in proportion to users: p99 is interpolated between the steps on either side of
 * the gate, extrapolated along the line of the two highest below it, or (one step only) scaled in
 * proportion to users. The error rate is extrapolated the same way when it rises. Timeouts are not
 * predicted: a request times out (10 s) long after p99 passes its gate, unless the backend hangs.
 */
export function predictBreak(steps: StepResult[], limits: CapacityLimits): Prediction | null {
  const knee = kneeOf(steps);
  if (!knee) return null;
  const past = byUsers(backendSteps(steps)).filter((s) => s.users >= knee.users && s.requestsPerSecond >= knee.requestsPerSecond * 0.9);
  const along = (value: (s: StepResult) => number | undefined, gate: number, proportional: boolean): number | null => {
    const pts = past.flatMap((s) => (value(s) === undefined ? [] : [{ u: s.users, v: value(s)! }]));
    const below = pts.filter((p) => p.v < gate);
    const above = pts.filter((p) => p.v >= gate);
    const line = (a: { u: number; v: number }, b: { u: number; v: number }) => (b.v > a.v && b.u !== a.u ? a.u + ((gate - a.v) * (b.u - a.u)) / (b.v - a.v) : null);
    if (below.length && above.length && above[0].u > below[below.length - 1].u) return line(below[below.length - 1], above[0]);
    if (below.length >= 2) {
      const u = line(below[below.length - 2], below[below.length - 1]);
      if (u !== null) return u;
    }
    const p = below[below.length - 1] ?? above[0];
    return proportional && p && p.v > 0 ? (p.u * gate) / p.v : null;
  };
  const candidates: Prediction[] = [];
  const p99 = along((s) => s.latency?.p99, limits.p99Ms, true);
  if (p99 !== null) candidates.push({ users: p99, gate: 'p99' });
  const errors = along((s) => s.errorRatePct, limits.errorRatePct, false);
  if (errors !== null) candidates.push({ users: errors, gate: 'error-rate' });
  if (!candidates.length) return null;
  const best = candidates.sort((a, b) => a.users - b.users)[0];
  return { users: Math.max(1, Math.floor(best.users)), gate: best.gate };
}

/** The bracket so far: the most users held below the fewest that broke a gate. */
export function bracket(steps: StepResult[]): { lo: number | null; hi: number | null } {
  const latest = latestPerUsers(steps);
  const broken = latest.filter((s) => s.verdict === 'broken').map((s) => s.users);
  const hi = broken.length ? Math.min(...broken) : null;
  // A noisy step that held above one that broke does not count: the bracket stays consistent.
  const held = latest.filter((s) => s.verdict === 'held' && (hi === null || s.users < hi)).map((s) => s.users);
  return { lo: held.length ? Math.max(...held) : null, hi };
}

/** A step measured again supersedes the earlier measurement of the same users. */
function latestPerUsers(steps: StepResult[]): StepResult[] {
  return [...new Map(steps.map((s) => [s.users, s])).values()];
}

/**
 * Past the knee, p99 grows with users. A step near the gate (p99 at least half of it) that says
 * otherwise against an earlier step (more users and a p99 over 10 % lower, or fewer users and one
 * over 10 % higher) was disturbed, typically by other work on the machine: it is measured again.
 */
function contradicts(last: StepResult, earlier: StepResult[], limits: CapacityLimits): boolean {
  const p = last.latency?.p99;
  if (p === undefined || p < limits.p99Ms / 2) return false;
  return backendSteps(latestPerUsers(earlier)).some((e) => {
    const q = e.latency?.p99;
    if (q === undefined || e.users === last.users) return false;
    return (e.users > last.users && q * 1.1 < p) || (e.users < last.users && q > p * 1.1);
  });
}

/**
 * Near the gate latency is mostly queueing, so by Little's law a step's mean latency is users ÷
 * throughput, and its p99 a steady multiple of that (the tail). The other steps past the knee near
 * the gate (p99 at least half of it, where the generator's jitter no longer weighs) give that
 * multiple; a step whose verdict on the p99 gate it contradicts, more than `offLinePct` % off it,
 * was disturbed.
 */
function offTheLine(last: StepResult, earlier: StepResult[], s: CapacitySearch, limits: CapacityLimits): boolean {
  const p = last.latency?.p99;
  const knee = kneeOf([...earlier, last]);
  if (p === undefined || !knee || !last.requestsPerSecond || last.verdict === 'generator-limit' || last.broken.some((b) => b.gate !== 'p99')) return false;
  const tails = backendSteps(latestPerUsers(earlier))
    .filter((e) => e.users !== last.users && e.users >= knee.users && e.requestsPerSecond > 0 && e.latency && e.latency.p99 >= limits.p99Ms / 2)
    .map((e) => (e.latency!.p99 * e.requestsPerSecond) / e.users)
    .sort((a, b) => a - b);
  if (!tails.length) return false;
  const expected = (tails[Math.floor(tails.length / 2)] * last.users) / last.requestsPerSecond;
  const flips = p >= limits.p99Ms !== expected >= limits.p99Ms;
  return flips && Math.abs(p / expected - 1) * 100 > s.remeasure.offLinePct;
}

/**
 * A step the curve says was disturbed, to be measured again (once) before the answer rests on it:
 * the last step, when its p99 contradicts an earlier step's or Little's line, or when it broke past
 * the knee with its throughput below the knee's; or an earlier step with fewer users, when the last one's throughput grew faster
 * than its users (in a closed loop it cannot: that step read too little).
 */
function disturbed(steps: StepResult[], s: CapacitySearch, limits: CapacityLimits): StepResult | null {
  const last = steps[steps.length - 1];
  const remeasured = (users: number) => steps.some((x) => x.users === users && x.phase === 'again');
  if (last.phase !== 'again' && contradicts(last, steps.slice(0, -1), limits)) return last;
  if (last.phase !== 'again' && offTheLine(last, steps.slice(0, -1), s, limits)) return last;
  const latest = backendSteps(latestPerUsers(steps));
  const slower = latest.find(
    (e) =>
      e.users < last.users &&
      e.requestsPerSecond > 0 &&
      !remeasured(e.users) &&
      last.requestsPerSecond / e.requestsPerSecond > (last.users / e.users) * (1 + s.remeasure.superlinearPct / 100),
  );
  if (slower && last.verdict !== 'generator-limit') return slower;
  // A dip matters where it breaks a gate (latency = users ÷ throughput rises with it); a held step is held either way.
  const knee = kneeOf(steps);
  if (knee && last.phase !== 'again' && last.verdict === 'broken' && last.users > knee.users && last.requestsPerSecond < knee.requestsPerSecond * (1 - s.remeasure.rpsDipPct / 100)) {
    return last;
  }
  return null;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** The next step's users, from the steps judged so far (in order); null when the search has its answer. */
export function nextStep(steps: StepResult[], s: CapacitySearch, limits: CapacityLimits): Decision | null {
  const last = steps[steps.length - 1];
  if (!last) return { users: Math.min(s.startUsers, s.maxUsers), phase: 'grow', predicted: null };
  if (last.verdict === 'generator-limit') {
    // Measured twice before it ends the search: a machine busy with other work can make one step
    // look like the generator's limit (a late event loop at low CPU).
    const before = steps[steps.length - 2];
    if (before?.users === last.users && before.verdict === 'generator-limit') return null;
    return { users: last.users, phase: 'again', predicted: last.predicted };
  }
  const again = disturbed(steps, s, limits);
  if (again) return { users: again.users, phase: 'again', predicted: again.predicted ?? null };
  const { lo, hi } = bracket(steps);
  const up = (u: number) => Math.max(u + 1, Math.ceil(u * s.narrowTo));
  if (lo === null) {
    // Even the fewest users tried broke a gate: go down until one holds (1 user at least).
    if (hi === null || hi <= 1) return null;
    return { users: Math.max(1, Math.floor(hi / s.growth)), phase: 'down', predicted: null };
  }
  if (hi !== null && hi <= up(lo)) return null;
  if (hi === null && lo >= s.maxUsers) return null;
  if (hi === null && !saturated(steps, s)) {
    return { users: Math.min(s.maxUsers, Math.max(lo + 1, Math.round(lo * s.growth))), phase: 'grow', predicted: null };
  }
  const predicted = predictBreak(steps, limits);
  if (hi === null) {
    // Aim at the prediction, at least one narrowing step above what held, at most 4x (a flat curve).
    const users = clamp(predicted?.users ?? lo * s.growth, up(lo), lo * 4);
    return { users: Math.min(s.maxUsers, Math.round(users)), phase: 'predict', predicted };
  }
  // Inside the bracket: the prediction when the bracket is wide, else its geometric middle.
  const middle = Math.sqrt(lo * hi);
  const users = hi <= up(up(lo)) ? middle : clamp(predicted?.users ?? middle, up(lo), Math.floor(hi / s.narrowTo));
  return { users: clamp(Math.round(users), lo + 1, hi - 1), phase: 'narrow', predicted };
}

/** The users the search let send at `t` (epoch ms): the step set last before it. */
export function searchUsersAt(steps: Array<{ users: number; since?: number }>, t: number): number {
  let users = 0;
  for (const s of steps) if (s.since !== undefined && s.since <= t) users = s.users;
  return users;
}

/** The most users the search let send at any time in [from, to) (epoch ms): the most the backend saw then. */
export function searchUsersWithin(steps: Array<{ users: number; since?: number }>, from: number, to: number): number {
  return Math.max(searchUsersAt(steps, from), ...steps.filter((s) => s.since !== undefined && s.since >= from && s.since < to).map((s) => s.users));
}

/**
 * The endpoint that degraded first: in order of users, the first step where one went over its p95
 * budget or had errors or timeouts; otherwise, at the broken step, the one furthest over its budget.
 */
function degradedFirst(steps: StepResult[], broken: StepResult, budgets: Record<string, number>): string | null {
  const ratio = (e: EndpointStep) => (e.p95 ?? 0) / (budgets[e.name] ?? Infinity);
  for (const step of byUsers(steps).filter((x) => x.users <= broken.users)) {
    const bad = step.endpoints.filter((e) => ratio(e) >= 1 || e.errors > 0 || e.timeouts > 0);
    if (bad.length) return bad.sort((a, b) => b.errors + b.timeouts - (a.errors + a.timeouts) || ratio(b) - ratio(a))[0].name;
  }
  return broken.endpoints.length ? [...broken.endpoints].sort((a, b) => ratio(b) - ratio(a))[0].name : null;
}

/**
 * Users of the guide (a pause of `thinkSeconds` after each journey of `requestsPerJourney`) at the
 * same throughput and latency: by Little's law a journey of N back-to-back users lasts
 * N x requests / throughput, so each guide user adds its pause: N + throughput x pause / requests.
 */
export function guideUsersFor(step: Pick<StepResult, 'users' | 'requestsPerSecond'>, thinkSeconds: number, requestsPerJourney: number): number {
  return Math.round(step.users + (step.requestsPerSecond * thinkSeconds) / Math.max(1, requestsPerJourney));
}

const fmt = (n: number) => (n >= 100 ? String(Math.round(n)) : String(round1(n)));
const pcts = (s: StepResult) => (s.latency ? `p50/p95/p99 ${fmt(s.latency.p50)}/${fmt(s.latency.p95)}/${fmt(s.latency.p99)} ms` : 'no responses');
const stepText = (s: StepResult) => `${s.users} users (${fmt(s.requestsPerSecond)} req/s, ${pcts(s)})`;
const gateText = (b: StepResult['broken'][number]) =>
  b.gate === 'p99' ? `p99 ${fmt(b.value)} ms >= ${b.limit} ms` : b.gate === 'timeouts' ? `${b.value} timeouts > ${b.limit}` : `${STEP_GATE_TITLE[b.gate]} ${b.value} % >= ${b.limit} %`;

export const GENERATOR_WAY_OUT =
  'the backend is faster than one load generator can measure: run the search from a machine with faster cores, or check a fixed profile from several machines (--platform fargate or lambda with --count N); see docs/capacity.md';

/** The answer from the judged steps, in the order run; `endpointPath` turns a request name into its path. */
export function answerCapacity(
  steps: StepResult[],
  o: { budgets: Record<string, number>; endpointPath: (name: string) => string; search: CapacitySearch; requestsPerJourney: number; timeUp: boolean },
): CapacityAnswer {
  const { lo, hi } = bracket(steps);
  // The latest measurement of those users (a step measured again supersedes the first).
  const indexOf = (users: number | null, verdict: StepResult['verdict']) => {
    for (let i = steps.length - 1; users !== null && i >= 0; i--) if (steps[i].users === users) return steps[i].verdict === verdict ? i : -1;
    return -1;
  };
  const heldAt = indexOf(lo, 'held');
  const brokeAt = indexOf(hi, 'broken');
  const generatorAt = steps[steps.length - 1]?.verdict === 'generator-limit' ? steps.length - 1 : -1;
  const knee = kneeOf(steps);
  const predicted = [...steps].reverse().find((s) => s.predicted)?.predicted ?? null;
  const think = o.search.guideThinkSeconds;
  // Both sides at one throughput (the held step's, else the broken one's): past the knee throughput
  // is flat and its step-to-step differences are noise, which would otherwise cross the estimates.
  const atRps = heldAt >= 0 ? steps[heldAt].requestsPerSecond : brokeAt >= 0 ? steps[brokeAt].requestsPerSecond : 0;
  const guide = (i: number) => (i < 0 ? null : guideUsersFor({ users: steps[i].users, requestsPerSecond: atRps }, think, o.requestsPerJourney));
  const base = {
    steps,
    held: heldAt < 0 ? null : heldAt,
    stoppedAt: generatorAt >= 0 ? generatorAt : brokeAt < 0 ? null : brokeAt,
    knee,
    predicted,
    guideUsers: heldAt < 0 && brokeAt < 0 ? null : { held: guide(heldAt), broke: guide(brokeAt), thinkSeconds: think, atRps },
    largestStep: Math.max(0, ...steps.map((x) => x.users)),
    degradedFirst: null,
    atLeastRps: null,
  };
  const kneeText = knee ? `highest throughput ${fmt(knee.requestsPerSecond)} req/s, reached at ${knee.users} users (the knee)` : '';
  const guideText = (held: number | null, broke: number | null) =>
    held === null && broke === null
      ? ''
      : `; as the guide's users (${think} s pause between journeys), about ${[held !== null ? `${held} held` : '', broke !== null ? `${broke} broke` : ''].filter(Boolean).join(', ')} (an estimate, by Little's law at ${fmt(atRps)} req/s)`;

  if (generatorAt >= 0) {
    const s = steps[generatorAt];
    // The backend held the gates at every step the generator could drive (this one too, if its gates held).
    const clean = steps.filter((x) => x.verdict === 'held' || (x === s && !x.broken.length));
    const atLeast = Math.max(0, ...clean.map((x) => x.requestsPerSecond));
    const why = [s.cpuPct !== null ? `CPU ${fmt(s.cpuPct)} % of a core` : '', s.loopDelayMs !== null ? `event-loop delay ${fmt(s.loopDelayMs)} ms` : ''].filter(Boolean).join(', ');
    return {
      ...base,
      result: 'generator-limit',
      atLeastRps: atLeast,
      line:
        `capacity: the load generator reached its limit at ${fmt(atLeast)} req/s before the backend broke: capacity is at least ${fmt(atLeast)} req/s ` +
        `(at ${s.users} users: ${why}${s.broken.length ? `; the gates it broke then may be the generator's own queueing` : `; ${pcts(s)}`})` +
        `${lo !== null ? `; held ${lo} users${guideText(guide(heldAt), null)}` : ''}; ${GENERATOR_WAY_OUT}`,
    };
  }
  if (hi === null) {
    const top = heldAt >= 0 ? steps[heldAt] : undefined;
    if (top && top.users >= o.search.maxUsers) {
      return {
        ...base,
        result: 'top-held',
        line: `capacity: at least ${stepText(top)}: the search's bound of ${o.search.maxUsers} users held (search.maxUsers in config/profiles.yml); ${kneeText}${guideText(guide(heldAt), null)}`,
      };
    }
    return {
      ...base,
      result: 'incomplete',
      line: `capacity: not found: ${o.timeUp ? `the search's time bound (${o.search.maxSeconds} s) came` : 'the run ended'} before a step broke${top ? `; at least ${stepText(top)} held; ${kneeText}${guideText(guide(heldAt), null)}` : ' and no step was judged'}`,
    };
  }
  const s = steps[brokeAt];
  const endpoint = degradedFirst(steps, s, o.budgets);
  const broke = `broke at ${s.users} users (${fmt(s.requestsPerSecond)} req/s): ${s.broken.map(gateText).join(', ')}${endpoint ? `; GET ${o.endpointPath(endpoint)} degraded first` : ''}`;
  if (lo === null) {
    return {
      ...base,
      result: 'below-first-step',
      degradedFirst: endpoint,
      line: `capacity: below ${s.users} user${s.users === 1 ? '' : 's'}: it ${broke}${kneeText ? `; ${kneeText}` : ''}`,
    };
  }
  const narrowed = s.users <= Math.max(lo + 1, Math.ceil(lo * o.search.narrowTo)) ? '' : ` (not narrowed to ${Math.round((o.search.narrowTo - 1) * 100)} %: the search's time bound came first)`;
  return {
    ...base,
    result: 'knee',
    degradedFirst: endpoint,
    line: `capacity: ${kneeText}; held ${stepText(steps[heldAt])}; ${broke}${narrowed}${guideText(guide(heldAt), guide(brokeAt))}`,
  };
}
