// Every gate at its boundary: just inside, exactly at, and just past its limit. Judged twice, as a
// run is: by Artillery's own ensure plugin (its code, from node_modules) on the expression the pack
// gives it, and by the pack's own comparison on the record's figures (used when ensure's verdicts
// do not count: a stopped run). Both must give the verdicts written below.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { artilleryEnsure } from './helpers';
import { loadBudgets, type Budgets } from '../src/catalog/config';
import { ensureConfig, evaluateGates, gatesForPlan, gateSpecs } from '../src/record/gates';
import type { EndpointSummary, RunRecord } from '../src/record/record';
import { artilleryMetric, counter } from '../src/common/metrics';

/** ensure's verdict on one expression, given Artillery's counters and summaries. */
async function ensureSays(expression: string, counters: Record<string, number>, summaries: Record<string, Record<string, number>> = {}): Promise<boolean> {
  const [check] = await artilleryEnsure({ conditions: [{ expression, strict: true }] }, { counters, summaries });
  return Boolean(check.result);
}

/** Limits away from zero, so each side of every boundary can be measured. */
const budgets: Budgets = (() => {
  const b = loadBudgets();
  return {
    ...b,
    gates: { ...b.gates, p99Ms: 1000, errorRatePct: 5, minRps: 2, maxTimeouts: 3, maxCrashedUsers: 2, maxRateLimitedPct: 5, minLoadSharePct: 50 },
  };
})();
const LOAD_SECONDS = 100;
const PLANNED = 400; // enough load: 50 % of it, 200 requests

const noErrors = { transport: 0, timeout: 0, http4xx: 0, http5xx: 0, otherStatus: 0, notJson: 0, badBody: 0, rateLimited: 0 };
const totals = (over: Partial<RunRecord['totals']> = {}): RunRecord['totals'] => ({
  requests: 1000,
  errors: { ...noErrors },
  errorCount: 0,
  errorRatePct: 0,
  durationSeconds: LOAD_SECONDS,
  requestsPerSecond: 10,
  latency: { count: 1000, min: 1, mean: 10, p50: 10, p95: 20, p99: 30, max: 40 },
  maxUsers: 5,
  crashedUsers: 0,
  codes: {},
  ...over,
});
const endpoint = (name: string, p95: number | null): EndpointSummary =>
  ({ name, latency: p95 === null ? null : { count: 10, min: 1, mean: 2, p50: 2, p95, p99: p95, max: p95 } }) as EndpointSummary;

/** How each gate's measured value `v` reads in the record and in Artillery's report. */
interface Measured {
  totals: RunRecord['totals'];
  endpoints: EndpointSummary[];
  counters: Record<string, number>;
  summaries?: Record<string, Record<string, number>>;
}
const base = { [counter.requests]: 1000, [counter.errors]: 0, [counter.rateLimited]: 0, [counter.timeouts]: 0, 'vusers.failed': 0 };
const MEASURE: Record<string, (v: number) => Measured> = {
  'enough-load': (v) => ({ totals: totals({ requests: v }), endpoints: [], counters: { ...base, [counter.requests]: v } }),
  p99: (v) => ({
    totals: totals({ latency: { ...totals().latency!, p99: v } }),
    endpoints: [],
    counters: base,
    summaries: { [artilleryMetric.responseTime]: { p99: v } },
  }),
  'error-rate': (v) => ({ totals: totals({ errorRatePct: v }), endpoints: [], counters: { ...base, [counter.errors]: v * 10 } }),
  'request-rate': (v) => ({ totals: totals({ requests: v * LOAD_SECONDS }), endpoints: [], counters: { ...base, [counter.requests]: v * LOAD_SECONDS } }),
  timeouts: (v) => ({ totals: totals({ errors: { ...noErrors, timeout: v } }), endpoints: [], counters: { ...base, [counter.timeouts]: v } }),
  'crashed-users': (v) => ({ totals: totals({ crashedUsers: v }), endpoints: [], counters: { ...base, 'vusers.failed': v } }),
  'rate-limited': (v) => ({
    totals: totals({ errors: { ...noErrors, rateLimited: v * 10 } }),
    endpoints: [],
    counters: { ...base, [counter.rateLimited]: v * 10 },
  }),
  'p95-calls': (v) => ({
    totals: totals(),
    endpoints: [endpoint('calls', v)],
    counters: base,
    summaries: { [artilleryMetric.endpointResponseTime('calls')]: { p95: v } },
  }),
};

/** Each gate: its limit, a step either side, and whether it passes [just inside, at, just past] the limit. */
const BOUNDARIES: Array<{ id: string; limit: number; step: number; passes: [boolean, boolean, boolean] }> = [
  // Below the floor fails; at it passes.
  { id: 'enough-load', limit: 200, step: 1, passes: [false, true, true] },
  { id: 'request-rate', limit: 2, step: 0.5, passes: [false, true, true] },
  // Strictly below the limit passes; at it fails.
  { id: 'p99', limit: 1000, step: 1, passes: [true, false, false] },
  { id: 'error-rate', limit: 5, step: 0.5, passes: [true, false, false] },
  { id: 'rate-limited', limit: 5, step: 0.5, passes: [true, false, false] },
  { id: 'p95-calls', limit: 800, step: 1, passes: [true, false, false] },
  // Up to the limit passes; one more fails.
  { id: 'timeouts', limit: 3, step: 1, passes: [true, true, false] },
  { id: 'crashed-users', limit: 2, step: 1, passes: [true, true, false] },
];

describe('every gate at its boundary', () => {
  const specs = gateSpecs(budgets, [{ name: 'calls', budgetP95Ms: 800 }], {
    loadSeconds: LOAD_SECONDS,
    strictBudgets: false,
    count429: false,
    plannedRequests: PLANNED,
  });

  test('the run has exactly these gates, as the report names them, with these limits', () => {
    assert.deepEqual(
      specs.map((s) => [s.id, s.title, s.comparator, s.limit, s.unit]),
      [
        ['enough-load', 'Enough load to judge', '>=', 200, 'count'],
        ['p99', 'p99 response time', '<', 1000, 'ms'],
        ['error-rate', 'HTTP error rate', '<', 5, '%'],
        ['request-rate', 'Request rate', '>=', 2, 'req/s'],
        ['timeouts', 'Timeouts', '<=', 3, 'count'],
        ['crashed-users', 'Crashed users', '<=', 2, 'count'],
        ['rate-limited', 'Rate limited', '<', 5, '%'],
        ['p95-calls', 'calls p95', '<', 800, 'ms'],
      ],
    );
  });

  test("an endpoint's p95 gate without figures for that endpoint has no value, and fails", () => {
    const [gate] = evaluateGates(
      specs.filter((s) => s.id === 'p95-calls'),
      totals(),
      [endpoint('other', 10), endpoint('calls', null)],
      undefined,
    );
    assert.deepEqual([gate.value, gate.passed], [null, false]);
    assert.equal(
      evaluateGates(
        specs.filter((s) => s.id === 'p95-calls'),
        totals(),
        [],
        undefined,
      )[0].value,
      null,
    );
  });

  for (const { id, limit, step, passes } of BOUNDARIES) {
    test(`${id}: ${passes.map((p) => (p ? 'pass' : 'fail')).join(', ')} just inside, at and just past ${limit}`, async () => {
      const spec = specs.find((s) => s.id === id)!;
      // "Inside" is the passing side of a ceiling, the failing side of a floor: below the limit either way.
      const values = [limit - step, limit, limit + step];
      for (const [i, v] of values.entries()) {
        const m = MEASURE[id](v);
        assert.equal(await ensureSays(spec.expression, m.counters, m.summaries), passes[i], `ensure: ${spec.expression} at ${v}`);
        const [gate] = evaluateGates([spec], m.totals, m.endpoints, undefined);
        assert.equal(gate.passed, passes[i], `the pack: ${id} at ${v}`);
        assert.equal(gate.value, v, `the value shown for ${id}`);
      }
    });
  }

  test("ensure's verdicts, when they count, decide; a gate with no value fails", () => {
    const p99 = specs.filter((s) => s.id === 'p99');
    const fast = MEASURE.p99(10);
    assert.equal(evaluateGates(p99, fast.totals, [], { p99: false })[0].passed, false, 'ensure said no');
    const slow = MEASURE.p99(5000);
    assert.equal(evaluateGates(p99, slow.totals, [], { p99: true })[0].passed, true, 'ensure said yes');
    assert.equal(evaluateGates(p99, slow.totals, [], { other: true })[0].passed, false, 'no verdict for this gate: the figures decide');
    const none = evaluateGates(p99, totals({ latency: null }), [], undefined)[0];
    assert.deepEqual([none.value, none.passed], [null, false]);
    // Without requests there is no error rate to judge, nor rate-limited share.
    const idle = evaluateGates(
      specs.filter((s) => s.id === 'error-rate' || s.id === 'rate-limited'),
      totals({ requests: 0 }),
      [],
      undefined,
    );
    assert.deepEqual(
      idle.map((g) => [g.id, g.value, g.passed]),
      [
        ['error-rate', null, false],
        ['rate-limited', null, false],
      ],
    );
  });

  test('values are shown to two decimals', () => {
    const [gate] = evaluateGates(
      specs.filter((s) => s.id === 'request-rate'),
      totals({ requests: 123_456 }),
      [],
      undefined,
    );
    assert.equal(gate.value, 1234.56);
  });

  test('a too-short run has a floor of one request, and a sub-second load counts as one second', () => {
    const [enough, rate] = gateSpecs(budgets, [], { loadSeconds: 0.2, strictBudgets: false, count429: false, plannedRequests: 1 }).filter(
      (s) => s.id === 'enough-load' || s.id === 'request-rate',
    );
    assert.equal(enough.limit, 1);
    assert.equal(enough.expression, `${counter.requests} >= 1`);
    assert.equal(rate.expression, `${counter.requests} / 1 >= 2`);
    // The planned share rounds up: 50 % of 5 requests is 3.
    assert.equal(gateSpecs(budgets, [], { loadSeconds: 10, strictBudgets: false, count429: false, plannedRequests: 5 })[0].limit, 3);
  });
});

describe('the options that change the gates', () => {
  test("--count-429: 429s count as errors in ensure's error rate, and no rate-limited gate", async () => {
    const specs = gateSpecs(budgets, [], { loadSeconds: LOAD_SECONDS, strictBudgets: false, count429: true, plannedRequests: PLANNED });
    assert.equal(
      specs.find((s) => s.id === 'rate-limited'),
      undefined,
    );
    const errorRate = specs.find((s) => s.id === 'error-rate')!;
    // 40 errors of 1000 requests (4 %) pass; the same with 100 of the requests rate limited: 40 of 900 is still under 5 %,
    // but counted against all 1000 requests, as --count-429 asks.
    assert.equal(await ensureSays(errorRate.expression, { ...base, [counter.errors]: 40, [counter.rateLimited]: 100 }), true);
    const without = gateSpecs(budgets, [], { loadSeconds: LOAD_SECONDS, strictBudgets: false, count429: false, plannedRequests: PLANNED });
    // Without it, 429s are left out of the rate: 48 errors of 1000 pass (4.8 %), but not of the 900 that were not rate limited (5.3 %).
    const measured = without.find((s) => s.id === 'error-rate')!;
    assert.equal(await ensureSays(measured.expression, { ...base, [counter.errors]: 48 }), true);
    assert.equal(await ensureSays(measured.expression, { ...base, [counter.errors]: 48, [counter.rateLimited]: 100 }), false);
    assert.equal(await ensureSays(errorRate.expression, { ...base, [counter.errors]: 48, [counter.rateLimited]: 100 }), true);
  });

  test('--strict makes the per-endpoint p95 budgets fail the run; the other gates always do', () => {
    const strictness = (strictBudgets: boolean) =>
      gateSpecs(budgets, [{ name: 'calls', budgetP95Ms: 800 }], { loadSeconds: LOAD_SECONDS, strictBudgets, count429: false, plannedRequests: PLANNED }).map(
        (s) => [s.id, s.strict],
      );
    assert.deepEqual(Object.fromEntries(strictness(false)), {
      'enough-load': true,
      p99: true,
      'error-rate': true,
      'request-rate': true,
      timeouts: true,
      'crashed-users': true,
      'rate-limited': true,
      'p95-calls': false,
    });
    assert.equal(Object.fromEntries(strictness(true))['p95-calls'], true);
    // A p95 gate names its endpoint; ensure gets every gate with its strictness.
    const specs = gateSpecs(budgets, [{ name: 'calls', budgetP95Ms: 800 }], {
      loadSeconds: LOAD_SECONDS,
      strictBudgets: false,
      count429: false,
      plannedRequests: PLANNED,
    });
    assert.equal(specs.find((s) => s.id === 'p95-calls')!.endpoint, 'calls');
    assert.deepEqual(ensureConfig(specs).conditions.at(-1), { expression: `${artilleryMetric.endpointResponseTime('calls')}.p95 < 800`, strict: false });
    assert.equal(ensureConfig(specs).conditions.length, specs.length);
  });

  test("a profile's own request-rate floor replaces the budget's", async () => {
    const specs = gateSpecs(budgets, [], { loadSeconds: LOAD_SECONDS, strictBudgets: false, count429: false, plannedRequests: PLANNED, minRps: 7 });
    const rate = specs.find((s) => s.id === 'request-rate')!;
    assert.equal(rate.limit, 7);
    assert.equal(await ensureSays(rate.expression, { ...base, [counter.requests]: 700 }), true);
    assert.equal(await ensureSays(rate.expression, { ...base, [counter.requests]: 699 }), false);
  });

  test("a plan's gates: its options and profile; a capacity search has none over the whole run", () => {
    const plan = {
      budgets,
      endpoints: [{ name: 'calls', budgetP95Ms: 800 }],
      loadSeconds: LOAD_SECONDS,
      opts: { strict: true, count429: true },
      profile: { minRps: 4 },
      estimate: { total: 1000 },
    };
    const specs = gatesForPlan(plan);
    assert.deepEqual(
      specs.map((s) => [s.id, s.limit, s.strict]),
      [
        ['enough-load', 500, true],
        ['p99', 1000, true],
        ['error-rate', 5, true],
        ['request-rate', 4, true],
        ['timeouts', 3, true],
        ['crashed-users', 2, true],
        ['p95-calls', 800, true],
      ],
    );
    assert.deepEqual(gatesForPlan({ ...plan, profile: { capacity: {} } }), []);
  });
});
