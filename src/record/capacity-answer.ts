// The capacity search's answer (--profile capacity), stated from the steps judged in order: the
// bracket of users held and broken, the knee, the guide's users. The record states it (assemble.ts);
// the search's chooser (src/search/next-step.ts) reads the same bracket and knee.
import type { CapacitySearch } from '../catalog/config';
import { round1 } from '../common/round';
import type { CapacityAnswer, EndpointStep, StepGate, CapacityStep } from '../channel/capacity-step';

/** The knee's users: the fewest that reached this share of the highest throughput. */
const KNEE_RPS_SHARE = 0.95;

export const STEP_GATE_TITLE: Record<StepGate, string> = {
  p99: 'p99 response time',
  'error-rate': 'HTTP error rate',
  timeouts: 'timeouts',
  'rate-limited': 'rate limited',
};

export const backendSteps = (steps: CapacityStep[]) => steps.filter((s) => s.verdict !== 'generator-limit');
export const byUsers = (steps: CapacityStep[]) => [...steps].sort((a, b) => a.users - b.users);

/** The knee: the highest throughput, and the fewest users that reached it (within 5 %). */
export function kneeOf(steps: CapacityStep[]): { users: number; requestsPerSecond: number } | null {
  const judged = backendSteps(steps);
  if (!judged.length) return null;
  const top = Math.max(...judged.map((s) => s.requestsPerSecond));
  const first = byUsers(judged).find((s) => s.requestsPerSecond >= top * KNEE_RPS_SHARE)!;
  return { users: first.users, requestsPerSecond: top };
}

/** The bracket so far: the most users held below the fewest that broke a gate. */
export function bracket(steps: CapacityStep[]): { lo: number | null; hi: number | null } {
  const latest = latestPerUsers(steps);
  const broken = latest.filter((s) => s.verdict === 'broken').map((s) => s.users);
  const hi = broken.length ? Math.min(...broken) : null;
  // A noisy step that held above one that broke does not count: the bracket stays consistent.
  const held = latest.filter((s) => s.verdict === 'held' && (hi === null || s.users < hi)).map((s) => s.users);
  return { lo: held.length ? Math.max(...held) : null, hi };
}

/** A step measured again supersedes the earlier measurement of the same users. */
export function latestPerUsers(steps: CapacityStep[]): CapacityStep[] {
  return [...new Map(steps.map((s) => [s.users, s])).values()];
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
function degradedFirst(steps: CapacityStep[], broken: CapacityStep, budgets: Record<string, number>): string | null {
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
export function guideUsersFor(step: Pick<CapacityStep, 'users' | 'requestsPerSecond'>, thinkSeconds: number, requestsPerJourney: number): number {
  return Math.round(step.users + (step.requestsPerSecond * thinkSeconds) / Math.max(1, requestsPerJourney));
}

const fmt = (n: number) => (n >= 100 ? String(Math.round(n)) : String(round1(n)));
const pcts = (s: CapacityStep) => (s.latency ? `p50/p95/p99 ${fmt(s.latency.p50)}/${fmt(s.latency.p95)}/${fmt(s.latency.p99)} ms` : 'no responses');
const stepText = (s: CapacityStep) => `${s.users} users (${fmt(s.requestsPerSecond)} req/s, ${pcts(s)})`;
const gateText = (b: CapacityStep['broken'][number]) =>
  b.gate === 'p99'
    ? `p99 ${fmt(b.value)} ms >= ${b.limit} ms`
    : b.gate === 'timeouts'
      ? `${b.value} timeouts > ${b.limit}`
      : `${STEP_GATE_TITLE[b.gate]} ${b.value} % >= ${b.limit} %`;

export const GENERATOR_WAY_OUT =
  'the backend is faster than one load generator can measure: run the search from a machine with faster cores, or check a fixed profile from several machines (--platform fargate or lambda with --count N); see docs/capacity.md';

/** The answer from the judged steps, in the order run; `endpointPath` turns a request name into its path. */
export function answerCapacity(
  steps: CapacityStep[],
  o: { budgets: Record<string, number>; endpointPath: (name: string) => string; search: CapacitySearch; requestsPerJourney: number; timeUp: boolean },
): CapacityAnswer {
  const { lo, hi } = bracket(steps);
  // The latest measurement of those users (a step measured again supersedes the first).
  const indexOf = (users: number | null, verdict: CapacityStep['verdict']) => {
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
    const why = [s.cpuPct !== null ? `CPU ${fmt(s.cpuPct)} % of a core` : '', s.loopDelayMs !== null ? `event-loop delay ${fmt(s.loopDelayMs)} ms` : '']
      .filter(Boolean)
      .join(', ');
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
  const narrowed =
    s.users <= Math.max(lo + 1, Math.ceil(lo * o.search.narrowTo))
      ? ''
      : ` (not narrowed to ${Math.round((o.search.narrowTo - 1) * 100)} %: the search's time bound came first)`;
  return {
    ...base,
    result: 'knee',
    degradedFirst: endpoint,
    line: `capacity: ${kneeText}; held ${stepText(steps[heldAt])}; ${broke}${narrowed}${guideText(guide(heldAt), guide(brokeAt))}`,
  };
}
