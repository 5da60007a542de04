// The capacity search's judge and live driver (src/search/), on per-second data shaped as the
// workers report it (processors/recorder.ts: counters and DDSketch histograms per second): each
// gate at its boundary, the generator's own limits, and the driver's whole cycle from the waiting
// pool to the answer against a model backend.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DDSketch } from '@artilleryio/sketches-js';
import type { PeriodEvent } from '../src/channel/channel';
import { judgeStep, SECOND_MS, windowDone } from '../src/search/judge';
import { ALLOW_AGAIN_MS, MAX_SETTLE_MS, searchReport, searchStart, searchState, searchTick, WARM_UP_MS, type SearchAction } from '../src/search/driver';
import { bracket } from '../src/record/capacity-answer';
import { capacityLimits } from '../src/plan/capacity';
import { loadBudgets, loadProfile } from '../src/catalog/config';
import { artilleryMetric, counter, generatorMetric } from '../src/common/metrics';
import { encodeSketch } from '../src/common/sketches';

const search = loadProfile('capacity').capacity!;
const limits = capacityLimits(loadBudgets(), false, 10_000);
const T0 = Date.UTC(2026, 0, 1);

const sketch = (values: number[]) => {
  const s = new DDSketch({ relativeAccuracy: 0.01 });
  for (const v of values) s.accept(v);
  return encodeSketch(s);
};

interface Second {
  requests?: number;
  /** Every response's latency (ms); 100 responses a second when not given otherwise. */
  latencyMs?: number;
  errors500?: number;
  timeouts?: number;
  limited?: number;
  cpuPct?: number;
  loopDelayMs?: number;
}

/** One second of one worker, as it reports it: the endpoint `root` answered every request. */
function second(at: number, o: Second = {}): PeriodEvent {
  const n = o.requests ?? 100;
  const latencies = Array.from({ length: n }, () => o.latencyMs ?? 50);
  const counters: Record<string, number> = { [counter.requests]: n, 'http.requests': n };
  const errors = (o.errors500 ?? 0) + (o.timeouts ?? 0);
  if (errors) counters[counter.errors] = errors;
  // Requests are what the endpoint answered (Artillery's codes by endpoint), timeouts and transport errors.
  const codes = artilleryMetric.endpointCodePrefix('root');
  counters[`${codes}200`] = n - (o.errors500 ?? 0) - (o.limited ?? 0) - (o.timeouts ?? 0);
  if (o.errors500) counters[`${codes}500`] = o.errors500;
  if (o.limited) counters[`${codes}429`] = o.limited;
  if (o.errors500) counters[counter.unexpected('root', 500)] = o.errors500;
  if (o.timeouts) {
    counters[counter.timeouts] = o.timeouts;
    counters[counter.timeoutOf('root')] = o.timeouts;
  }
  if (o.limited) {
    counters[counter.rateLimited] = o.limited;
    counters[counter.unexpected('root', 429)] = o.limited;
  }
  const histograms: Record<string, string> = {
    [artilleryMetric.responseTime]: sketch(latencies),
    [`${artilleryMetric.endpointHistogramPrefix}root`]: sketch(latencies),
  };
  if (o.cpuPct !== undefined) histograms[generatorMetric.cpuPct] = sketch([o.cpuPct]);
  if (o.loopDelayMs !== undefined) histograms[generatorMetric.loopDelayMs] = sketch([o.loopDelayMs]);
  return { type: 'period', period: at, first: at, last: at + 999, counters, histograms };
}

const seconds = (count: number, o: Second = {}) => Array.from({ length: count }, (_, k) => second(T0 + k * SECOND_MS, o));
const judge = (list: PeriodEvent[], l = limits, users = 10) =>
  judgeStep({ users, phase: 'grow', predicted: null, since: T0 - 3000, from: T0, to: T0 + 5 * SECOND_MS }, list, l);
const near = (a: number, b: number) => Math.abs(a - b) <= b * 0.02;

describe('judging a step', () => {
  test('a step well within the gates holds; its figures are the seconds inside its window', () => {
    const outside = [second(T0 - SECOND_MS, { latencyMs: 5000 }), second(T0 + 5 * SECOND_MS, { latencyMs: 5000 })];
    const r = judge([...seconds(5), ...outside]);
    assert.equal(r.verdict, 'held');
    assert.deepEqual(r.broken, []);
    assert.equal(r.seconds, 5);
    assert.equal(r.requests, 500);
    assert.equal(r.requestsPerSecond, 100);
    assert.ok(r.latency && near(r.latency.p99, 50) && near(r.latency.p50, 50));
    assert.deepEqual([r.errorRatePct, r.timeouts, r.rateLimitedPct], [0, 0, 0]);
    assert.deepEqual([r.cpuPct, r.loopDelayMs, r.generatorLimited], [null, null, false]);
    assert.deepEqual(
      r.endpoints.map((e) => [e.name, e.requests, e.errors, e.timeouts]),
      [['root', 500, 0, 0]],
    );
    assert.deepEqual([r.users, r.phase, r.predicted, r.since, r.from, r.to], [10, 'grow', null, T0 - 3000, T0, T0 + 5000]);
    const half = judgeStep({ users: 1, phase: 'grow', predicted: null, since: 0, from: T0, to: T0 + 4500 }, seconds(5), limits);
    assert.equal(half.seconds, 4, 'a second that ends after the window is left out');
    assert.equal(half.requestsPerSecond, 88.9, 'over the window, rounded to 0.1');
  });

  test('p99: broken at its limit, held just under it; no responses at all breaks it too', () => {
    const at = judge(seconds(5, { latencyMs: limits.p99Ms }));
    assert.equal(at.verdict, 'broken');
    assert.equal(at.broken[0].gate, 'p99');
    assert.equal(at.broken[0].limit, limits.p99Ms);
    assert.equal(judge(seconds(5, { latencyMs: limits.p99Ms * 0.97 })).verdict, 'held');
    const none = judge([]);
    assert.equal(none.latency, null);
    assert.deepEqual(none.broken, [{ gate: 'p99', value: 0, limit: limits.p99Ms }]);
    assert.equal(none.seconds, 0);
  });

  test('the error rate: broken at its limit, held just under', () => {
    const pct = limits.errorRatePct;
    const at = judge(seconds(5, { errors500: pct }));
    assert.deepEqual(at.broken, [{ gate: 'error-rate', value: pct, limit: pct }]);
    assert.equal(at.errorRatePct, pct);
    assert.equal(at.endpoints[0].errors, 5 * pct);
    const under = judge(seconds(5, { requests: 1000, errors500: pct * 10 - 1 }));
    assert.deepEqual(under.broken, []);
    assert.equal(under.errorRatePct, 5 - 0.1);
  });

  test('timeouts: broken only above their limit', () => {
    const over = limits.maxTimeouts + 1;
    const list = seconds(5);
    list[0] = second(T0, { timeouts: over });
    const r = judge(list);
    assert.ok(r.broken.some((b) => b.gate === 'timeouts' && b.value === over && b.limit === limits.maxTimeouts));
    assert.equal(r.timeouts, over);
    assert.equal(r.endpoints[0].timeouts, over);
    const at = seconds(5);
    at[0] = second(T0, { timeouts: limits.maxTimeouts });
    assert.ok(!judge(at).broken.some((b) => b.gate === 'timeouts'));
  });

  test('429s: their own gate, out of the error rate; with --count-429 they are errors and the rate-limit gate goes', () => {
    const pct = limits.maxRateLimitedPct;
    const r = judge(seconds(5, { limited: pct }));
    assert.deepEqual(r.broken, [{ gate: 'rate-limited', value: pct, limit: pct }]);
    assert.equal(r.rateLimitedPct, pct);
    assert.equal(r.errorRatePct, 0);
    assert.deepEqual(judge(seconds(5, { requests: 1000, limited: pct * 10 - 1 })).broken, []);
    const counted = judge(seconds(5, { limited: 50 }), { ...limits, count429: true });
    assert.deepEqual(
      counted.broken.map((b) => b.gate),
      ['error-rate'],
    );
    assert.equal(counted.errorRatePct, 50);
    assert.equal(counted.endpoints[0].errors, 250);
  });

  test("the generator's limit: its CPU at the limit, or a late event loop while it is busy and the delay is a real share of p50", () => {
    const busy = limits.generatorCpuPct;
    const cpu = judge(seconds(5, { cpuPct: busy * 1.02 }));
    assert.equal(cpu.verdict, 'generator-limit');
    assert.ok(near(cpu.cpuPct!, busy * 1.02));
    assert.equal(judge(seconds(5, { cpuPct: busy * 0.97 })).verdict, 'held');
    const late = limits.generatorLoopDelayMs * 1.02; // a sketch keeps values within 1 %
    const busyCpu = (limits.generatorLoopBusyCpuPct ?? 0) * 1.02;
    assert.equal(judge(seconds(5, { loopDelayMs: late, latencyMs: late * 3.8, cpuPct: busyCpu })).verdict, 'generator-limit');
    assert.equal(judge(seconds(5, { loopDelayMs: late, latencyMs: late * 4.4, cpuPct: busyCpu })).verdict, 'held', 'a small share of p50');
    assert.equal(judge(seconds(5, { loopDelayMs: limits.generatorLoopDelayMs * 0.97, latencyMs: 1, cpuPct: busyCpu })).verdict, 'held', 'under its limit');
    if (busyCpu > 0) assert.equal(judge(seconds(5, { loopDelayMs: late, latencyMs: 1, cpuPct: busyCpu * 0.9 })).verdict, 'held', 'late at low CPU: other work');
    assert.equal(judge(seconds(5, { loopDelayMs: late, latencyMs: 1 })).verdict, 'generator-limit', 'no CPU figure: taken as busy');
    const both = judge(seconds(5, { cpuPct: busy * 1.02, latencyMs: limits.p99Ms }));
    assert.equal(both.verdict, 'generator-limit', 'a saturated generator comes before a broken gate');
    assert.equal(both.broken[0].gate, 'p99');
  });

  test("a step's window is done at maxStepSeconds, or at minStepSeconds with minRequests", () => {
    assert.equal(windowDone(search, search.maxStepSeconds, 0), true);
    assert.equal(windowDone(search, search.maxStepSeconds - 1, search.minRequests - 1), false);
    assert.equal(windowDone(search, search.minStepSeconds, search.minRequests), true);
    assert.equal(windowDone(search, search.minStepSeconds - 1, search.minRequests), false);
  });
});

/** A model backend: p99 grows with users past `capacity`; the generator is fine. */
const latencyAt = (users: number, capacity: number) => (users <= capacity ? 20 : 20 + (users - capacity) * 40);

function drive(capacity: number, pool = search.maxUsers) {
  const state = searchState({ search: { ...search }, limits });
  state.pool = pool;
  const actions: Array<SearchAction & { now: number }> = [];
  let now = T0;
  let allowed = 0;
  let arrived = 0;
  searchStart(state, now);
  assert.deepEqual(searchTick(state, now), [], 'nothing before the pool arrived');
  for (let tick = 0; tick < 4 * search.maxSeconds && !state.finished; tick++) {
    now += 250;
    arrived = Math.min(pool, arrived + Math.ceil(pool / 4));
    const closed = now % SECOND_MS === 0 && allowed > 0 ? [second(now - SECOND_MS, { requests: 100, latencyMs: latencyAt(allowed, capacity) })] : [];
    searchReport(state, { worker: 1, at: now, seconds: closed, arrived });
    for (const a of searchTick(state, now)) {
      actions.push({ ...a, now });
      if (a.type === 'allow') allowed = a.users;
    }
  }
  return { state, actions };
}

describe('the live driver', () => {
  test('from the waiting pool to the answer: allow, settle, measure, judge, log, choose, stop', () => {
    const { state, actions } = drive(40);
    const firstAllow = actions.find((a) => a.type === 'allow')!;
    assert.equal(firstAllow.users, search.startUsers, 'the first step once the whole pool arrived');
    const steps = actions.flatMap((a) => (a.type === 'step' ? [a.step] : []));
    assert.deepEqual(steps, state.steps);
    assert.ok(steps.length >= 3);
    const first = steps[0];
    assert.ok(first.from >= firstAllow.now + search.settleSeconds * 1000 + WARM_UP_MS, 'the first step waits to settle and warm up');
    assert.equal(first.from % SECOND_MS, 0, 'whole seconds');
    assert.equal(first.since, firstAllow.now);
    for (const s of steps) assert.ok(windowDone(search, s.seconds, s.requests), `${s.users} users: a full window`);
    const done = actions[actions.length - 1];
    assert.deepEqual(done.type === 'done' && [done.reason, done.timeUp], ['the search has its answer', false]);
    const { lo, hi } = bracket(steps);
    assert.ok(lo !== null && hi !== null && hi <= Math.max(lo + 1, Math.ceil(lo * search.narrowTo)), `bracket ${lo}..${hi}, narrowed`);
    // The model's p99 reaches the gate between the users held and those that broke (a sketch is within 1 %).
    assert.ok(latencyAt(lo, 40) < limits.p99Ms * 1.01 && latencyAt(hi, 40) >= limits.p99Ms * 0.99, `bracket ${lo}..${hi}`);
    const logs = actions.flatMap((a) => (a.type === 'log' ? [a.line] : []));
    assert.match(
      logs[0],
      new RegExp(`^Capacity: ${search.startUsers} users held \\(100 req/s, p99 \\d+(\\.\\d)? ms, errors 0 %, generator CPU - %; \\d+ s measured\\)\\.$`),
    );
    assert.ok(logs.some((l) => /^Capacity: \d+ users BROKE p99 \(/.test(l)));
    assert.ok(logs.some((l) => /^Capacity: next step \d+ users, (grow|predict|narrow|down)/.test(l)));
    assert.deepEqual(searchTick(state, done.now + 10_000), [], 'nothing after the answer');
    // The allowance is said again each ALLOW_AGAIN_MS while a step runs.
    const allows = actions.filter((a) => a.type === 'allow' && a.users === search.startUsers);
    assert.ok(allows.length >= 3);
    for (let i = 1; i < allows.length; i++) assert.ok(allows[i].now - allows[i - 1].now >= ALLOW_AGAIN_MS);
  });

  test("the time bound: before a step's window began, the search stops and says so", () => {
    const state = searchState({ search: { ...search }, limits });
    state.pool = 10;
    searchStart(state, T0);
    searchReport(state, { worker: 1, at: T0, arrived: 10 });
    assert.deepEqual(searchTick(state, T0), [{ type: 'allow', users: search.startUsers }]);
    const end = searchTick(state, T0 + search.maxSeconds * 1000);
    assert.deepEqual(end.at(-1), {
      type: 'done',
      reason: `the search's time bound (${search.maxSeconds} s) came before the step of ${search.startUsers} users`,
      timeUp: true,
    });
    assert.equal(state.finished, true);
  });

  test('without the load started, or before the pool arrived, the driver waits; at the time bound the first step starts anyway', () => {
    const state = searchState({ search: { ...search }, limits });
    assert.equal(state.pool, search.maxUsers);
    assert.deepEqual(searchTick(state, T0), [], 'no load yet');
    searchStart(state, T0);
    searchStart(state, T0 + 5000);
    assert.equal(state.loadStart, T0, 'the first start counts');
    searchReport(state, { worker: 1, at: T0, arrived: search.maxUsers - 1 });
    assert.deepEqual(searchTick(state, T0 + 1000), []);
    assert.deepEqual(searchTick(state, T0 + search.maxSeconds * 1000), [{ type: 'allow', users: search.startUsers }]);
  });

  test('the settling wait after a step: the last p99, at most MAX_SETTLE_MS', () => {
    const { actions } = drive(4, 40);
    const steps = actions.flatMap((a) => (a.type === 'step' ? [a.step] : []));
    const allows = actions.filter((a) => a.type === 'allow');
    for (let i = 1; i < steps.length; i++) {
      const began = allows.find((a) => a.now === steps[i].since)!;
      const wait = search.settleSeconds * 1000 + Math.min(MAX_SETTLE_MS, steps[i - 1].latency?.p99 ?? 0);
      assert.ok(steps[i].from >= began.now + wait && steps[i].from <= began.now + wait + 2 * SECOND_MS, `step ${i}`);
    }
  });
});
