// The capacity search, live, as a state machine: one state object, fed the workers' reports and the
// clock, answering with what to do (let N users send, record a step, say something, stop). The
// plugin (plugins/artillery-plugin-voxanne) only wires its timer and channels to it.
import type { PeriodEvent, RunConfig } from '../channel/channel';
import { counter } from '../common/metrics';
import { judgeStep, SECOND_MS, windowDone } from './judge';
import { nextStep } from './next-step';
import type { Decision, CapacityStep } from '../channel/capacity-step';

/** Before the first step: the worker's first seconds run late (compiling, first connections). */
export const WARM_UP_MS = 2000;
/** The workers may have missed a message sent before their first user: it is said again this often. */
export const ALLOW_AGAIN_MS = SECOND_MS;
/** A settling wait never exceeds this, however slow the last step's p99. */
export const MAX_SETTLE_MS = 5000;

/** What a worker tells the search: the seconds that closed since its last report, and its users. */
export interface SearchReport {
  worker: number;
  at: number;
  seconds?: PeriodEvent[];
  arrived?: number;
}

export type SearchAction =
  { type: 'allow'; users: number } | { type: 'step'; step: CapacityStep } | { type: 'log'; line: string } | { type: 'done'; reason: string; timeUp: boolean };

export interface SearchState {
  capacity: NonNullable<RunConfig['capacity']>;
  /** The waiting pool's size: the first step waits until all of it has arrived. */
  pool: number;
  loadStart?: number;
  seconds: Map<number, PeriodEvent[]>;
  arrived: Map<number, number>;
  reportedTo: Map<number, number>;
  steps: CapacityStep[];
  current?: Decision & { changedAt: number; from: number | null };
  lastAllowAt: number;
  finished: boolean;
}

export function searchState(capacity: NonNullable<RunConfig['capacity']>): SearchState {
  return {
    capacity,
    pool: capacity.search.maxUsers,
    seconds: new Map(),
    arrived: new Map(),
    reportedTo: new Map(),
    steps: [],
    lastAllowAt: 0,
    finished: false,
  };
}

export function searchReport(state: SearchState, w: SearchReport): void {
  for (const s of w.seconds ?? []) state.seconds.set(s.period, [...(state.seconds.get(s.period) ?? []), s]);
  if (w.arrived !== undefined) state.arrived.set(w.worker, w.arrived);
  state.reportedTo.set(w.worker, w.at - (w.at % SECOND_MS));
}

export function searchStart(state: SearchState, at: number): void {
  state.loadStart ??= at;
}

const begin = (state: SearchState, d: Decision, now: number): SearchAction[] => {
  state.current = { ...d, changedAt: now, from: null };
  state.lastAllowAt = now;
  return [{ type: 'allow', users: d.users }];
};

const finish = (state: SearchState, reason: string, timeUp: boolean): SearchAction[] => {
  state.finished = true;
  return [{ type: 'done', reason, timeUp }];
};

/**
 * One tick of the clock: sets how many users may send (the rest wait), lets the queue settle,
 * measures the step on whole seconds of the workers' own data until it has enough responses,
 * judges it, and chooses the next step from every step so far.
 */
export function searchTick(state: SearchState, now: number): SearchAction[] {
  const { search, limits } = state.capacity;
  if (state.finished || state.loadStart === undefined) return [];
  const timeUp = now - state.loadStart >= search.maxSeconds * 1000;
  const arrived = [...state.arrived.values()].reduce((a, b) => a + b, 0);
  const current = state.current;
  if (!current) {
    // The first step waits for the whole pool: its arrival (one burst) is then over before anything is measured.
    if (arrived < state.pool && !timeUp) return [];
    return begin(state, nextStep(state.steps, search, limits)!, now);
  }
  const out: SearchAction[] = [];
  if (now - state.lastAllowAt >= ALLOW_AGAIN_MS) {
    out.push({ type: 'allow', users: current.users });
    state.lastAllowAt = now;
  }
  if (current.from === null) {
    if (timeUp) return [...out, ...finish(state, `the search's time bound (${search.maxSeconds} s) came before the step of ${current.users} users`, true)];
    if (arrived < current.users) return out; // the pool is still arriving
    // The queue settles within about one response time of the change; the first step also waits for the worker to warm up.
    const last = state.steps[state.steps.length - 1];
    const settle = search.settleSeconds * 1000 + (last ? Math.min(MAX_SETTLE_MS, last.latency?.p99 ?? 0) : WARM_UP_MS);
    const from = Math.max(now, current.changedAt + settle);
    current.from = from - (from % SECOND_MS) + SECOND_MS;
    return out;
  }
  const to = Math.min(...state.reportedTo.values());
  const whole = Math.floor((to - current.from) / SECOND_MS);
  if (whole < 1) return out;
  const inWindow = [...state.seconds.entries()].filter(([t]) => t >= current.from! && t < to).flatMap(([, parts]) => parts);
  const requests = inWindow.reduce((n, p) => n + (p.counters[counter.requests] ?? 0), 0);
  if (!windowDone(search, whole, requests) && !timeUp) return out;
  const r = judgeStep({ ...current, since: current.changedAt, from: current.from, to: current.from + whole * SECOND_MS }, inWindow, limits);
  state.steps.push(r);
  out.push({ type: 'step', step: r });
  for (const t of state.seconds.keys()) if (t < to) state.seconds.delete(t);
  const figures = `${r.requestsPerSecond} req/s, p99 ${r.latency?.p99 ?? '-'} ms, errors ${r.errorRatePct} %, generator CPU ${r.cpuPct ?? '-'} %`;
  const verdict = r.verdict === 'held' ? 'held' : r.verdict === 'broken' ? `BROKE ${r.broken.map((b) => b.gate).join(', ')}` : 'saturated the load generator';
  out.push({ type: 'log', line: `Capacity: ${r.users} users ${verdict} (${figures}; ${r.seconds} s measured).` });
  const next = nextStep(state.steps, search, limits);
  if (!next) return [...out, ...finish(state, 'the search has its answer', false)];
  if (timeUp) return [...out, ...finish(state, `the search's time bound (${search.maxSeconds} s) came`, true)];
  const why =
    next.phase === 'again'
      ? ' (measured again: the step contradicted the curve)'
      : next.predicted
        ? ` (predicted: the ${next.predicted.gate} gate breaks at about ${next.predicted.users} users)`
        : '';
  out.push({ type: 'log', line: `Capacity: next step ${next.users} users, ${next.phase}${why}.` });
  return [...out, ...begin(state, next, now)];
}
