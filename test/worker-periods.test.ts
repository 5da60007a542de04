// The plugin's decisions about the workers' periods (src/record/worker-periods.ts), on recorded
// periods of real runs (test/fixtures/runs/): what Artillery has not reported is merged across
// workers exactly, what it reported is never written twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DDSketch } from '@artilleryio/sketches-js';
import { PeriodEvent } from '../src/channel/channel';
import { RecorderRequest, WorkerMessage, type WorkerReport } from '../src/channel/recorder';
import { artilleryMetric, counter } from '../src/common/metrics';
import { mergeSketches } from '../src/common/sketches';
import * as wp from '../src/record/worker-periods';
import { FIXTURES } from './record-fixtures';

const periodsOf = (name: string) =>
  readFileSync(join(FIXTURES, name, 'events.ndjson'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { type: string })
    .filter((e) => e.type === 'period')
    .map((e) => PeriodEvent.parse(e));

const healthy = periodsOf('healthy');
const report = (worker: number, periods: PeriodEvent[], inFlight = 0): WorkerReport => ({ worker, at: periods[periods.length - 1].last, inFlight, periods });
const count = (p: PeriodEvent, name: string = artilleryMetric.responseTime) => mergeSketches([p.histograms[name]])!.count;

test('two workers measured the same periods: merged, counters add up, sketches merge exactly, first and last span both', () => {
  assert.ok(healthy.length >= 2 && count(healthy[0]) > 0);
  const s = wp.workerPeriods();
  const shifted = healthy.map((p) => ({ ...p, first: p.first - 5, last: p.last + 7 }));
  wp.noteReport(s, report(1, healthy));
  wp.noteReport(s, report(2, shifted));
  const merged = wp.unreported(s);
  assert.deepEqual(
    merged.map((p) => p.period),
    healthy.map((p) => p.period),
    'one per period, in order',
  );
  merged.forEach((m, i) => {
    const p = healthy[i];
    assert.equal(m.unreported, true);
    assert.equal(m.first, p.first - 5);
    assert.equal(m.last, p.last + 7);
    for (const [name, n] of Object.entries(p.counters)) assert.equal(m.counters[name], 2 * n, name);
    assert.deepEqual(Object.keys(m.histograms).sort(), Object.keys(p.histograms).sort());
    for (const name of Object.keys(p.histograms)) assert.equal(count(m, name), 2 * count(p, name), name);
  });
});

test('a period Artillery delivered is not written again; a later report of a worker replaces its earlier one', () => {
  const s = wp.workerPeriods();
  wp.noteReport(s, report(1, healthy.slice(0, 1), 3));
  wp.noteReport(s, report(2, healthy, 2));
  assert.equal(wp.inFlight(s), 5);
  wp.noteReport(s, report(1, healthy, 0));
  assert.equal(wp.inFlight(s), 2, "worker 1's latest report");
  const sketches: Record<string, DDSketch> = {};
  for (const [name, text] of Object.entries(healthy[0].histograms)) sketches[name] = mergeSketches([text])!;
  const event = wp.delivered(s, {
    period: String(healthy[0].period),
    firstMetricAt: healthy[0].first,
    lastMetricAt: healthy[0].last,
    counters: healthy[0].counters,
    histograms: { ...sketches, 'vusers.session_length': new DDSketch() },
  });
  assert.equal(event.period, healthy[0].period);
  assert.deepEqual(Object.keys(event.histograms).sort(), Object.keys(healthy[0].histograms).sort(), 'only the kept histograms');
  assert.equal(count(event), count(healthy[0]));
  assert.equal(event.unreported, undefined);
  assert.deepEqual(
    wp.unreported(s).map((p) => p.period),
    healthy.slice(1).map((p) => p.period),
  );
  assert.deepEqual(wp.delivered(wp.workerPeriods(), { period: 5, firstMetricAt: 1, lastMetricAt: 2 }), {
    type: 'period',
    period: 5,
    first: 1,
    last: 2,
    counters: {},
    histograms: {},
  });
});

test('the recorder channel: a report and a redirect note are checked on receipt; the first redirect of an endpoint is written', () => {
  const r = report(1, healthy);
  assert.deepEqual(WorkerMessage.parse(JSON.parse(JSON.stringify(r))), r);
  assert.throws(() => WorkerMessage.parse({ worker: 1, at: 2, periods: [] }), /inFlight/);
  const note = { redirect: { endpoint: 'root', status: 302, location: '/login' } };
  assert.deepEqual(WorkerMessage.parse(note), note);
  // Every thread hears every other: a worker's report is no request to the other workers, a request no report to the plugin.
  assert.equal(RecorderRequest.safeParse(r).success, false);
  assert.equal(RecorderRequest.safeParse(note).success, false);
  assert.equal(WorkerMessage.safeParse({ stop: true, breakerCounter: 'voxanne.breaker.health.w' }).success, false);
  assert.deepEqual(RecorderRequest.parse({ stop: false, users: 8 }), { stop: false, users: 8 });
  const s = wp.workerPeriods();
  assert.equal(wp.firstRedirect(s, note), true);
  assert.equal(wp.firstRedirect(s, note), false);
  assert.equal(wp.firstRedirect(s, { redirect: { ...note.redirect, endpoint: 'health' } }), true);
});

test("the drain waits the request timeout and a margin, at most the limit; Artillery's default timeout is 10 s", () => {
  assert.equal(wp.drainLimitMs(undefined, 15_000, 500), 10_500);
  assert.equal(wp.drainLimitMs(2, 15_000, 500), 2_500);
  assert.equal(wp.drainLimitMs(30, 15_000, 500), 15_000);
});

test("ensure's verdicts by gate id: by expression, unknown expressions left out, only a result of 1 passes", () => {
  const gates = [
    { id: 'p99', expression: 'p99 < 1000' },
    { id: 'errors', expression: 'rate < 5' },
  ];
  assert.deepEqual(
    wp.verdictsByGate(gates, [
      { original: 'p99 < 1000', result: 1 },
      { original: 'rate < 5', result: 0 },
      { original: 'other', result: 1 },
    ]),
    { p99: true, errors: false },
  );
});

test("the console's line for a period: its UTC time, users, requests, errors, p95 when measured", () => {
  const at = Date.UTC(2026, 0, 2, 3, 4, 5);
  assert.equal(wp.periodLine(at, 7, { [counter.requests]: 120, [counter.errors]: 3 }, 41.6), '03:04:05  users 7  requests 120  errors 3  p95 42 ms');
  assert.equal(wp.periodLine(at, 0, {}, undefined), '03:04:05  users 0  requests 0  errors 0');
});
