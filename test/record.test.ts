// The record is a pure function of the plan and the channel's events: every way a run ends with no
// response gets a verdict and a diagnosis made from data (no percentage of nothing). And run.json
// is read back through its schema, older versions migrated.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assembleRecord } from '../src/record/assemble';
import type { ArtilleryEnd } from '../src/channel/channel';
import type { RunEvent } from '../src/channel/channel';
import { parseRecord, RECORD_SCHEMA } from '../src/record/record';
import { syntheticRecord } from '../bench/synthetic-records';
import { resolvePlan } from '../src/plan/resolve';
import { formatSummary } from '../src/outputs/summary';

const T0 = Date.parse('2026-11-30T10:00:00Z');
const health = { ok: true, at: new Date(T0).toISOString(), status: 200, latencyMs: 5 };
const preflight: RunEvent = { type: 'preflight', verdict: 'go', health, api: { ok: true, path: '/api/vapi/webhook/health', status: 200 } };
const phase: RunEvent = { type: 'phase', index: 0, name: 'stage 1', at: T0 + 1000 };
const endOf = (o: Partial<ArtilleryEnd>): ArtilleryEnd => ({
  code: 0,
  killedBy: null,
  stoppedBy: null,
  startedAt: new Date(T0),
  endedAt: new Date(T0 + 20_000),
  ...o,
});

async function recordOf(events: RunEvent[], end: Partial<ArtilleryEnd>) {
  const plan = await resolvePlan(['--profile', 'smoke', '--base-url', 'http://127.0.0.1:9'], {});
  return assembleRecord(plan, 'r1', events, endOf(end));
}

const NONSENSE = /NaN|undefined|null ms|\(0\.0 %\)|Infinity/;

describe('runs with no response: a verdict and a diagnosis from data', () => {
  const cases: Array<[string, RunEvent[], Partial<ArtilleryEnd>, string, number, RegExp]> = [
    ['interrupted before the load', [preflight], { stoppedBy: 'SIGINT', code: 130 }, 'interrupted', 130, /stopped before the load started/],
    [
      'interrupted before any answer',
      [preflight, phase, { type: 'end', at: T0 + 2000, exitCode: 130, earlyStop: true, inFlight: 2 }],
      { stoppedBy: 'SIGTERM', code: 143 },
      'interrupted',
      143,
      /before the first answer came back/,
    ],
    [
      'Artillery never started',
      [],
      { code: 1, startError: 'Error: run is not a artillery command' },
      'refused',
      2,
      /Artillery did not start \(exit 1: Error: run is not a artillery command\); no load was sent\. A local problem, not the target/,
    ],
    ['Artillery killed after the preflight', [preflight, phase], { code: null, killedBy: 'SIGKILL' }, 'crashed', 5, /Artillery was killed \(SIGKILL\)/],
    [
      'aborted by the breaker',
      [
        preflight,
        phase,
        { type: 'abort', at: T0 + 5000, reason: '/health went bad mid-run (refused).' },
        { type: 'end', at: T0 + 5000, exitCode: 1, earlyStop: true, inFlight: 0 },
      ],
      { code: 1 },
      'aborted',
      1,
      /before the breaker stopped the load/,
    ],
    [
      'finished, nothing answered',
      [preflight, phase, { type: 'end', at: T0 + 12000, exitCode: 1, earlyStop: false, inFlight: 0 }],
      { code: 1 },
      'failed',
      1,
      /the target answered nothing during the load/,
    ],
    [
      'unhealthy before the load',
      [{ type: 'preflight', verdict: 'unhealthy', health: { ...health, ok: false, problem: 'refused', detail: 'ECONNREFUSED' } }],
      { code: 3 },
      'unhealthy',
      3,
      /Connection refused/,
    ],
  ];
  for (const [name, events, end, outcome, exitCode, says] of cases) {
    test(name, async () => {
      const r = await recordOf(events, end);
      assert.equal(r.outcome, outcome);
      assert.equal(r.exitCode, exitCode);
      assert.equal(r.totals.requests, 0);
      const text = [r.reason, ...r.diagnosis, formatSummary(r)].join('\n');
      assert.match(text, says);
      assert.doesNotMatch(text, NONSENSE);
      assert.doesNotMatch(text, /High error rate|High response times|over its .* budget/);
    });
  }
});

describe('run.json through its schema', () => {
  test('a version-1 record is migrated: the fields added since get what version 1 implied', () => {
    const v2 = syntheticRecord({ profile: 'smoke', stages: [{ duration: 40, target: 2 }], seed: 1, journeysPerUserSecond: 0.5 });
    const v1 = JSON.parse(JSON.stringify(v2));
    v1.schema = 'voxanne-run/1';
    delete v1.ending;
    delete v1.redirects;
    for (const e of [v1.totals.errors, ...v1.endpoints.map((x: any) => x.errors), ...v1.periods.map((p: any) => p.errors)]) delete e.badBody;
    const read = parseRecord(v1);
    assert.equal(read.schema, RECORD_SCHEMA);
    assert.deepEqual(read.ending, { signal: null, inFlight: 0, unknownSeconds: 0, unreportedPeriods: 0 });
    assert.equal(read.totals.errors.badBody, 0);
    assert.deepEqual(read.totals, v2.totals);
  });

  test('a record that is not one is an error naming the field', () => {
    assert.throws(() => parseRecord({ schema: 'something-else' }), /run\.json is not a "voxanne-run\/2" record/);
    const broken = JSON.parse(
      JSON.stringify(syntheticRecord({ profile: 'smoke', stages: [{ duration: 40, target: 2 }], seed: 1, journeysPerUserSecond: 0.5 })),
    );
    broken.totals.requests = 'many';
    assert.throws(() => parseRecord(broken), /run\.json: totals\.requests: /);
  });
});
