// The capacity search's chooser: the next step's users from the steps judged so far. Users grow
// geometrically until a gate breaks or throughput stops growing; past that knee, Little's law
// (latency ~ users / throughput) and the measured latency's shape predict where a gate breaks; real
// steps check the prediction, bracket the breaking point and narrow it to about 5 %.
import type { CapacitySearch } from '../catalog/config';
import type { CapacityLimits } from '../plan/capacity';
import { backendSteps, bracket, byUsers, kneeOf, latestPerUsers } from '../record/capacity-answer';
import type { Decision, Prediction, CapacityStep } from '../channel/capacity-step';

/** Steps past the knee that a prediction reads: throughput at least this share of the knee's. */
const PAST_KNEE_RPS_SHARE = 0.9;
/** A step is near the p99 gate from this share of it (where a contradiction counts). */
const NEAR_GATE_SHARE = 0.5;
/** A p99 contradicts another step's when it is lower with more users (or higher with fewer) by this factor. */
const CONTRADICTION_FACTOR = 1.1;
/** A predicting step goes at most this many times the users that held (a flat curve predicts far). */
const MAX_PREDICT_FACTOR = 4;

/**
 * Throughput stopped growing: some step had at least `usersGrowth` times the users of a smaller one
 * and less than `rpsGrowthPct` % more requests/s. Past that point added users only add waiting.
 */
export function saturated(steps: CapacityStep[], s: CapacitySearch): boolean {
  const sorted = byUsers(backendSteps(steps));
  return sorted.some((b, j) =>
    sorted
      .slice(0, j)
      .some((a) => b.users >= a.users * s.saturation.usersGrowth && b.requestsPerSecond < a.requestsPerSecond * (1 + s.saturation.rpsGrowthPct / 100)),
  );
}

/**
 * Where a gate breaks, from the steps past the knee. Throughput is flat there, so by Little's law
 * latency grows in proportion to users: p99 is interpolated between the steps on either side of
 * the gate, extrapolated along the line of the two highest below it, or (one step only) scaled in
 * proportion to users. The error rate is extrapolated the same way when it rises. Timeouts are not
 * predicted: a request times out (10 s) long after p99 passes its gate, unless the backend hangs.
 */
export function predictBreak(steps: CapacityStep[], limits: CapacityLimits): Prediction | null {
  const knee = kneeOf(steps);
  if (!knee) return null;
  const past = byUsers(backendSteps(steps)).filter((s) => s.users >= knee.users && s.requestsPerSecond >= knee.requestsPerSecond * PAST_KNEE_RPS_SHARE);
  const along = (value: (s: CapacityStep) => number | undefined, gate: number, proportional: boolean): number | null => {
    const pts = past.flatMap((s) => (value(s) === undefined ? [] : [{ u: s.users, v: value(s)! }]));
    const below = pts.filter((p) => p.v < gate);
    const above = pts.filter((p) => p.v >= gate);
    const line = (a: { u: number; v: number }, b: { u: number; v: number }) =>
      b.v > a.v && b.u !== a.u ? a.u + ((gate - a.v) * (b.u - a.u)) / (b.v - a.v) : null;
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

/**
 * Past the knee, p99 grows with users. A step near the gate (p99 at least half of it) that says
 * otherwise against an earlier step (more users and a p99 over 10 % lower, or fewer users and one
 * over 10 % higher) was disturbed, typically by other work on the machine: it is measured again.
 */
function contradicts(last: CapacityStep, earlier: CapacityStep[], limits: CapacityLimits): boolean {
  const p = last.latency?.p99;
  if (p === undefined || p < limits.p99Ms * NEAR_GATE_SHARE) return false;
  return backendSteps(latestPerUsers(earlier)).some((e) => {
    const q = e.latency?.p99;
    if (q === undefined || e.users === last.users) return false;
    return (e.users > last.users && q * CONTRADICTION_FACTOR < p) || (e.users < last.users && q > p * CONTRADICTION_FACTOR);
  });
}

/**
 * Near the gate latency is mostly queueing, so by Little's law a step's mean latency is users ÷
 * throughput, and its p99 a steady multiple of that (the tail). The other steps past the knee near
 * the gate (p99 at least half of it, where the generator's jitter no longer weighs) give that
 * multiple; a step whose verdict on the p99 gate it contradicts, more than `offLinePct` % off it,
 * was disturbed.
 */
function offTheLine(last: CapacityStep, earlier: CapacityStep[], s: CapacitySearch, limits: CapacityLimits): boolean {
  const p = last.latency?.p99;
  const knee = kneeOf([...earlier, last]);
  if (p === undefined || !knee || !last.requestsPerSecond || last.verdict === 'generator-limit' || last.broken.some((b) => b.gate !== 'p99')) return false;
  const tails = backendSteps(latestPerUsers(earlier))
    .filter((e) => e.users !== last.users && e.users >= knee.users && e.requestsPerSecond > 0 && e.latency && e.latency.p99 >= limits.p99Ms * NEAR_GATE_SHARE)
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
function disturbed(steps: CapacityStep[], s: CapacitySearch, limits: CapacityLimits): CapacityStep | null {
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
  if (
    knee &&
    last.phase !== 'again' &&
    last.verdict === 'broken' &&
    last.users > knee.users &&
    last.requestsPerSecond < knee.requestsPerSecond * (1 - s.remeasure.rpsDipPct / 100)
  ) {
    return last;
  }
  return null;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** The next step's users, from the steps judged so far (in order); null when the search has its answer. */
export function nextStep(steps: CapacityStep[], s: CapacitySearch, limits: CapacityLimits): Decision | null {
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
    const users = clamp(predicted?.users ?? lo * s.growth, up(lo), lo * MAX_PREDICT_FACTOR);
    return { users: Math.min(s.maxUsers, Math.round(users)), phase: 'predict', predicted };
  }
  // Inside the bracket: the prediction when the bracket is wide, else its geometric middle.
  const middle = Math.sqrt(lo * hi);
  const users = hi <= up(up(lo)) ? middle : clamp(predicted?.users ?? middle, up(lo), Math.floor(hi / s.narrowTo));
  return { users: clamp(Math.round(users), lo + 1, hi - 1), phase: 'narrow', predicted };
}
