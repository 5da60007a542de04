// The comparison model (src/outputs/report/comparison.ts): pure functions over two run records, built with
// the synthetic records the report benchmark uses (real DDSketch histograms, seeded).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compare, endpointErrorPct, verdictFlips } from '../src/outputs/report/comparison';
import { standardRecord } from '../bench/synthetic-records';
import type { RunRecord } from '../src/record/record';

const base = standardRecord(7);
const copy = (r: RunRecord): RunRecord => structuredClone(r);

describe('compare', () => {
  test('a run against itself: every figure about the same, nothing better or worse', () => {
    const cmp = compare(base, base);
    assert.equal(cmp.counts.worse, 0);
    assert.equal(cmp.counts.better, 0);
    // Each gate with a value, plus each endpoint's p99 and error rate.
    const gatesWithValues = base.gates.filter((g) => g.value !== null).length;
    const endpointsWithLatency = base.endpoints.filter((e) => e.latency).length;
    assert.equal(cmp.counts.same, gatesWithValues + endpointsWithLatency + base.endpoints.length);
    assert.ok(cmp.gates.every((g) => g.before && g.change?.trend === 'same'));
    assert.deepEqual(verdictFlips(cmp), []);
  });

  test('a slower and more failing endpoint is worse; the previous run reads as better from it', () => {
    const now = copy(base);
    const e = now.endpoints.find((x) => x.name === 'assistants');
    assert.ok(e?.latency);
    e.latency.p95 *= 2;
    e.latency.p99 *= 2;
    e.errorCount += Math.ceil(e.requests * 0.05);
    const cmp = compare(now, base);
    const row = cmp.endpoints.find((x) => x.e.name === 'assistants');
    assert.equal(row?.p95?.trend, 'worse');
    assert.equal(row?.p99?.trend, 'worse');
    assert.equal(row?.err?.trend, 'worse');
    assert.match(row?.p99?.text ?? '', /^\+[\d.,]+ ms \(\+100 %\)$/);
    assert.equal(cmp.counts.worse, 2, 'p99 and error rate count; p95 counts through its gate');
    const back = compare(base, now);
    assert.equal(back.counts.better, 2);
    assert.equal(back.counts.worse, 0);
  });

  test('small moves are about the same; gates new in this run have nothing to compare', () => {
    const now = copy(base);
    const g = now.gates.find((x) => x.unit === 'ms' && x.value !== null);
    assert.ok(g && g.value !== null);
    g.value *= 1.01; // within the latency tolerance
    now.gates.push({ ...now.gates[0], id: 'new-gate', title: 'A new gate' });
    const cmp = compare(now, base);
    assert.equal(cmp.gates.find((x) => x.gate.id === g.id)?.change?.trend, 'same');
    const fresh = cmp.gates.find((x) => x.gate.id === 'new-gate');
    assert.equal(fresh?.before, undefined);
    assert.equal(fresh?.change, null);
    assert.equal(cmp.counts.worse + cmp.counts.better, 0);
  });

  test('verdict flips name the gate and both verdicts', () => {
    const before = copy(base);
    const now = copy(base);
    const [strict] = now.gates.filter((g) => g.strict);
    const warn = now.gates.find((g) => !g.strict);
    assert.ok(strict && warn);
    for (const r of [before, now]) {
      for (const g of r.gates) g.passed = true;
    }
    strict.passed = false;
    warn.passed = false;
    const flips = verdictFlips(compare(now, before));
    assert.deepEqual(
      flips.map((f) => [f.gate.id, f.from, f.to]),
      [
        [strict.id, 'pass', 'fail'],
        [warn.id, 'pass', 'warning'],
      ].sort((a, b) => now.gates.findIndex((g) => g.id === a[0]) - now.gates.findIndex((g) => g.id === b[0])),
    );
  });
});

test('endpoint error rate: 429s leave the denominator unless counted as errors', () => {
  const r = copy(base);
  const e = { ...r.endpoints[0], requests: 200, errorCount: 10, errors: { ...r.endpoints[0].errors, rateLimited: 100 } };
  r.rateLimit = { ...r.rateLimit, countedAsErrors: false };
  assert.equal(endpointErrorPct(r, e), 10);
  r.rateLimit = { ...r.rateLimit, countedAsErrors: true };
  assert.equal(endpointErrorPct(r, e), 5);
  assert.equal(endpointErrorPct(r, undefined), null);
  assert.equal(endpointErrorPct(r, { ...e, requests: 0, errorCount: 0, errors: { ...e.errors, rateLimited: 0 } }), null, 'no requests: no rate');
});
