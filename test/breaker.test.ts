// The breaker's decisions (src/record/breaker.ts), as the plugin and each distributed worker take
// them: a window of whole periods at its error-rate limit, /health going bad, and a worker's stop
// carried in Artillery's own output, read back from a combined output's periods.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  afterHealth,
  afterPeriod,
  breakerStart,
  workerName,
  workerStopCounter,
  workerStops,
  workerStopsReason,
  type BreakerState,
} from '../src/record/breaker';
import { counter } from '../src/common/metrics';

const limits = { errorRatePct: 50, windowSeconds: 20, healthEverySeconds: 5 };
const PERIOD = 10_000;
const period = (requests: number, errors = 0, limited = 0) => ({ [counter.requests]: requests, [counter.errors]: errors, [counter.rateLimited]: limited });

function feed(periods: Array<Record<string, number>>, l = limits, ms = PERIOD) {
  let state: BreakerState = breakerStart();
  const trips: Array<string | undefined> = [];
  for (const c of periods) {
    const next = afterPeriod(state, c, l, ms);
    state = next.state;
    trips.push(next.trip?.reason);
  }
  return { state, trips };
}

test('no trip before the window is full, however bad the first period', () => {
  assert.deepEqual(feed([period(100, 100)]).trips, [undefined]);
});

test('over the window: at the limit it holds, just over it trips, with the share and the window in one sentence', () => {
  assert.deepEqual(feed([period(100, 50), period(100, 50)]).trips, [undefined, undefined], '50 % of 200: at the limit');
  const { trips } = feed([period(100, 50), period(100, 51)]);
  assert.equal(trips[1], '51 % of requests failed or were rate limited over the last 20 s (limit 50 %).');
  assert.equal(afterPeriod(breakerStart(), period(100, 51), limits, PERIOD).trip, undefined);
});

test('429s count as failing; a window with no requests never trips', () => {
  assert.match(feed([period(10, 0, 6), period(10, 0, 6)]).trips[1]!, /^60 % of requests failed or were rate limited/);
  assert.deepEqual(feed([period(0), period(0), period(0)]).trips, [undefined, undefined, undefined]);
  assert.deepEqual(feed([{}, {}]).trips, [undefined, undefined], 'missing counters are 0');
});

test('only the last window counts: older periods fall out of it; the window is whole periods, at least one', () => {
  const { trips, state } = feed([period(100, 100), period(100, 0), period(100, 0), period(100, 100)]);
  assert.deepEqual(trips, [undefined, undefined, undefined, undefined]);
  assert.equal(state.recent.length, 2);
  const short = { ...limits, windowSeconds: 1 };
  assert.match(feed([period(10, 6)], short).trips[0]!, /^60 % .* over the last 1 s/, 'a window shorter than a period: one period');
  const odd = { ...limits, windowSeconds: 25 };
  const three = feed([period(10, 10), period(10, 0), period(10, 0)], odd);
  assert.equal(three.state.recent.length, 3, '25 s of 10 s periods: 3 periods');
  assert.deepEqual(three.trips, [undefined, undefined, undefined]);
  assert.match(feed([period(10, 10), period(10, 10), period(10, 10)], odd).trips[2]!, /^100 %/);
  assert.equal(feed([period(10, 10), period(10, 10)], odd).trips[1], undefined, '20 s is not yet the 25 s window');
});

test('/health mid-run: a trip names what went bad', () => {
  assert.equal(afterHealth({ ok: true, at: '', status: 200, latencyMs: 3, failingServices: [] }), undefined);
  assert.deepEqual(afterHealth({ ok: false, at: '', status: 503, latencyMs: 3, problem: 'http-error', failingServices: ['database', 'redis'] }), {
    cause: 'health',
    reason: '/health went bad mid-run (http-error: database, redis down).',
  });
  assert.equal(afterHealth({ ok: false, at: '', latencyMs: 3, problem: 'refused', failingServices: [] })?.reason, '/health went bad mid-run (refused).');
  assert.equal(afterHealth({ ok: false, at: '', latencyMs: 3, problem: 'refused' })?.reason, '/health went bad mid-run (refused).');
});

test("a worker's stop as a counter, and read back from a combined output's periods, in the order they stopped", () => {
  assert.equal(workerName('ip-10-0-0-1.ec2/internal:3'), 'ip-10-0-0-1_ec2_internal_3');
  assert.equal(workerName(''), 'worker');
  assert.equal(workerName('x'.repeat(70)).length, 64);
  assert.equal(workerStopCounter('health', 'w 1'), 'voxanne.breaker.health.w_1');
  const stops = workerStops([
    { period: 30, counters: { [workerStopCounter('error-rate', 'b')]: 2, [workerStopCounter('health', 'a')]: 1 } },
    { period: 10, counters: { [workerStopCounter('health', 'a')]: 1, [workerStopCounter('error-rate', 'c')]: 0, other: 5 } },
  ]);
  assert.deepEqual(stops, [
    { worker: 'a', cause: 'health', at: 10 },
    { worker: 'b', cause: 'error-rate', at: 30 },
  ]);
  assert.equal(
    workerStopsReason(stops, 3, limits),
    '2 of 3 workers stopped their own load: a (/health went bad), b (more than 50 % of its requests failed over 20 s).',
  );
  assert.equal(workerStopsReason(stops.slice(0, 1), 1, limits), '1 of 1 worker stopped its own load: a (/health went bad).');
});
