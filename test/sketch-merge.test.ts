// The sketch-merging adapter (src/outputs/report/sketch-merge.ts) against the library's public API: the
// same merged quantiles, counts and extremes, so a library change under the adapter shows here.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DDSketch } from '@artilleryio/sketches-js';
import { SketchMerger } from '../src/outputs/report/sketch-merge';
import { mulberry32 } from '../src/standin/faults';

const b64 = (s: DDSketch) => Buffer.from(s.toProto()).toString('base64');

test('merging serialized sketches gives what DDSketch.fromProto + merge gives', () => {
  const random = mulberry32(5);
  // Periods of different shapes: fast, slow, with zeros, a single value, and a wide spread.
  const periods = [
    Array.from({ length: 500 }, () => 5 + random() * 20),
    Array.from({ length: 300 }, () => 150 + random() * 900),
    [0, 0, 0, 12.5, 40],
    [7],
    Array.from({ length: 1000 }, () => Math.exp(random() * 10)),
  ].map((values) => {
    const s = new DDSketch();
    for (const v of values) s.accept(v);
    return b64(s);
  });
  const merger = new SketchMerger();
  let expected: DDSketch | undefined;
  for (const p of periods) {
    merger.add(p);
    const one = DDSketch.fromProto(Buffer.from(p, 'base64'));
    if (expected) expected.merge(one);
    else expected = one;
  }
  const got = merger.toSketch();
  assert.ok(got && expected);
  assert.equal(got.count, expected.count);
  assert.equal(got.zeroCount, expected.zeroCount);
  assert.equal(got.min, expected.min);
  assert.equal(got.max, expected.max);
  assert.ok(Math.abs(got.sum - expected.sum) < 1e-6);
  for (const q of [0, 0.01, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1]) {
    assert.equal(got.getValueAtQuantile(q), expected.getValueAtQuantile(q), `quantile ${q}`);
  }
});

test('nothing added: no sketch; different accuracies: refused, as DDSketch.merge refuses', () => {
  assert.equal(new SketchMerger().toSketch(), undefined);
  const merger = new SketchMerger();
  const fine = new DDSketch();
  fine.accept(10);
  const coarse = new DDSketch({ relativeAccuracy: 0.05 });
  coarse.accept(10);
  merger.add(b64(fine));
  assert.throws(() => merger.add(b64(coarse)), /different accuracies/);
  assert.throws(() => DDSketch.fromProto(coarse.toProto()).merge(DDSketch.fromProto(fine.toProto())));
});
