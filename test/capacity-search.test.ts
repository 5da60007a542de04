// The capacity search's choices (src/search/ and src/record/capacity-answer.ts), without a load: each step's figures come from
// an ideal closed-loop backend (throughput = min(capacity, users / service time), latency by
// Little's law), so the search's path can be checked over the whole range of capacities in
// milliseconds. Where a search may run is the command line's refusal, in-process. The real search
// against the stand-in is in test/solo/capacity.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { answerCapacity, bracket } from '../src/record/capacity-answer';
import { nextStep, predictBreak, saturated } from '../src/search/next-step';
import { windowDone } from '../src/search/judge';
import type { CapacityStep } from '../src/channel/capacity-step';
import { capacityLimits } from '../src/plan/capacity';
import { loadBudgets, loadProfile } from '../src/catalog/config';
import { packInProcess } from './in-process';

const search = loadProfile('capacity').capacity!;
const limits = capacityLimits(loadBudgets(), false, 10_000);
const TAIL = 1.1; // p99 / mean latency of the model
const GENERATOR_RPS = 1800; // where the model's load generator saturates

/** What a step of `users` measures against a backend serving `rps` at most, each request `serviceMs`. */
function measure(users: number, rps: number, serviceMs: number, d: { phase: CapacityStep['phase']; predicted: CapacityStep['predicted'] }): CapacityStep {
  const throughput = Math.min(rps, (users * 1000) / serviceMs, GENERATOR_RPS);
  const mean = Math.max(serviceMs, (users / throughput) * 1000);
  const p99 = mean * TAIL;
  const generatorLimited = throughput >= GENERATOR_RPS;
  const broken = p99 >= limits.p99Ms ? [{ gate: 'p99' as const, value: p99, limit: limits.p99Ms }] : [];
  return {
    users,
    ...d,
    since: 0,
    from: 0,
    to: 5000,
    seconds: 5,
    requests: throughput * 5,
    requestsPerSecond: throughput,
    latency: { p50: mean, p95: mean * 1.05, p99 },
    errorRatePct: 0,
    timeouts: 0,
    rateLimitedPct: 0,
    cpuPct: generatorLimited ? 95 : 50,
    loopDelayMs: 5,
    broken,
    generatorLimited,
    verdict: generatorLimited ? 'generator-limit' : broken.length ? 'broken' : 'held',
    endpoints: [{ name: 'health', requests: throughput, errors: 0, timeouts: 0, p95: mean, p99 }],
  };
}

/** The whole search against the model; the seconds it would take (settle + measuring window per step). */
function run(rps: number, serviceMs: number) {
  const steps: CapacityStep[] = [];
  let seconds = 0;
  for (let d = nextStep(steps, search, limits); d; d = nextStep(steps, search, limits)) {
    const s = measure(d.users, rps, serviceMs, d);
    steps.push(s);
    const window = [...Array(search.maxStepSeconds).keys()].map((k) => k + 1).find((k) => windowDone(search, k, s.requestsPerSecond * k))!;
    seconds += search.settleSeconds + Math.min(5, (steps[steps.length - 2]?.latency?.p99 ?? 0) / 1000) + 1 + window;
    assert.ok(steps.length <= 30, `the search keeps going: ${steps.map((x) => x.users).join(', ')}`);
  }
  return { steps, seconds, ...bracket(steps) };
}

describe('the capacity search against an ideal backend', () => {
  for (const [rps, serviceMs] of [
    [10, 100],
    [20, 50],
    [50, 20],
    [200, 20],
    [500, 20],
    [1000, 10],
  ]) {
    test(`${rps} req/s: brackets the users where p99 reaches the gate within 10 %, within the time bound`, () => {
      const r = run(rps, serviceMs);
      const truth = (rps * limits.p99Ms) / 1000 / TAIL;
      const path = r.steps.map((s) => `${s.users} ${s.verdict}`).join(', ');
      assert.ok(r.lo !== null && r.hi !== null, path);
      assert.ok(r.lo <= truth && truth <= r.hi, `truth ${truth.toFixed(1)} in [${r.lo}, ${r.hi}]: ${path}`);
      assert.ok(r.hi <= Math.max(r.lo + 1, Math.ceil(r.lo * search.narrowTo)), `narrowed to ${Math.round((search.narrowTo - 1) * 100)} %: ${path}`);
      assert.ok(r.seconds <= search.maxSeconds, `${r.seconds.toFixed(0)} s of load: ${path}`);
      assert.ok(r.steps.length <= 12, path);
      // Once throughput stopped growing, the search predicted the break instead of walking to it.
      assert.ok(
        r.steps.some((s) => s.phase === 'predict' && s.predicted),
        path,
      );
      const a = answerCapacity(r.steps, { budgets: { health: 100 }, endpointPath: () => '/health', search, requestsPerJourney: 5, timeUp: false });
      assert.equal(a.result, 'knee');
      assert.ok(Math.abs(a.knee!.requestsPerSecond - rps) < rps * 0.01);
      assert.match(
        a.line,
        new RegExp(
          `^capacity: highest throughput [\\d.]+ req/s, reached at \\d+ users \\(the knee\\); held ${r.lo} users .*; broke at ${r.hi} users .*p99 \\d+ ms >= 1000 ms; GET /health degraded first; as the guide's users \\(1 s pause between journeys\\), about \\d+ held, \\d+ broke \\(an estimate, by Little's law at [\\d.]+ req/s\\)$`,
        ),
      );
    });
  }

  test('a backend faster than the generator: the search stops where the generator saturates', () => {
    const r = run(2500, 2);
    const last = r.steps[r.steps.length - 1];
    assert.equal(last.verdict, 'generator-limit');
    const a = answerCapacity(r.steps, { budgets: {}, endpointPath: (n) => n, search, requestsPerJourney: 5, timeUp: false });
    assert.equal(a.result, 'generator-limit');
    assert.match(a.line, /^capacity: the load generator reached its limit at [\d.]+ req\/s before the backend broke/);
  });

  test("one step that looks like the generator's limit is measured again before the search ends on it", () => {
    const d = { phase: 'grow' as const, predicted: null };
    const busy = { ...measure(4, 200, 20, d), verdict: 'generator-limit' as const, generatorLimited: true };
    assert.deepEqual(nextStep([busy], search, limits), { users: 4, phase: 'again', predicted: null });
    // Held the second time: the search goes on from there.
    assert.equal(nextStep([busy, measure(4, 200, 20, d)], search, limits)?.users, 8);
    assert.equal(nextStep([busy, { ...busy, phase: 'again' }], search, limits), null);
  });

  test('a step that contradicts the latency curve (fewer users, far higher p99) is measured again, and the second measurement counts', () => {
    const d = { phase: 'narrow' as const, predicted: null };
    const steps = [measure(8, 200, 20, d), measure(184, 200, 20, d)];
    const disturbed = { ...measure(176, 200, 20, d), latency: { p50: 1100, p95: 1150, p99: 1200 }, verdict: 'broken' as const };
    disturbed.broken = [{ gate: 'p99', value: 1200, limit: 1000 }];
    assert.deepEqual(nextStep([...steps, disturbed], search, limits), { users: 176, phase: 'again', predicted: null });
    const again = measure(176, 200, 20, { phase: 'again', predicted: null });
    assert.equal(again.verdict, 'held');
    assert.deepEqual(bracket([...steps, disturbed, again]), { lo: 176, hi: 184 });
    assert.equal(nextStep([...steps, disturbed, again], search, limits), null, '184 is within 5 % of 176');
  });

  test('throughput that grew faster than the users: the step below was disturbed, and is measured again before the answer rests on it', () => {
    // As seen against a real backend: 145 users at 713 req/s held, then 160 users at 900 req/s.
    const d = { phase: 'narrow' as const, predicted: null };
    const slow = { ...measure(145, 900, 20, d), requestsPerSecond: 713 };
    const steps = [measure(64, 900, 20, d), slow, measure(160, 900, 20, d)];
    assert.deepEqual(nextStep(steps, search, limits), { users: 145, phase: 'again', predicted: null });
    // Measured once more: the search goes on from the new figures, and never asks a third time.
    const again = measure(145, 900, 20, { phase: 'again', predicted: null });
    assert.notEqual(nextStep([...steps, again], search, limits)?.phase, 'again');
    assert.notEqual(nextStep([...steps, { ...again, requestsPerSecond: 713 }], search, limits)?.phase, 'again');
  });

  test("a step that broke off Little's line (p99 per user of the steps near the gate says it held) is measured again", () => {
    // As seen against the 20 req/s stand-in: 13 users p99 650 ms, 27 users 1350 ms, then 19 users 1200 ms (the line says 950).
    const d = { phase: 'narrow' as const, predicted: null };
    const at = (users: number, p99: number) => ({ ...measure(users, 20, 50, d), latency: { p50: p99, p95: p99, p99 } });
    const steps = [measure(4, 20, 50, d), at(13, 650), { ...at(27, 1350), verdict: 'broken' as const }];
    const off = { ...at(19, 1200), verdict: 'broken' as const };
    off.broken = [{ gate: 'p99', value: 1200, limit: 1000 }];
    assert.deepEqual(nextStep([...steps, off], search, limits), { users: 19, phase: 'again', predicted: null });
    // On the line (or off it without changing the verdict), the search goes on.
    assert.notEqual(nextStep([...steps, at(19, 950)], search, limits)?.phase, 'again');
  });

  test("past the knee, a step that broke with its throughput below the knee's is measured again", () => {
    const d = { phase: 'predict' as const, predicted: null };
    const steps = [measure(16, 500, 20, d), measure(256, 500, 20, d)];
    const dipped = { ...measure(449, 500, 20, d), requestsPerSecond: 470, verdict: 'broken' as const };
    dipped.broken = [{ gate: 'p99', value: 1050, limit: 1000 }];
    assert.deepEqual(nextStep([...steps, dipped], search, limits), { users: 449, phase: 'again', predicted: null });
    assert.notEqual(
      nextStep([...steps, { ...measure(400, 500, 20, d), requestsPerSecond: 470 }], search, limits)?.phase,
      'again',
      'a held step is held either way',
    );
    assert.notEqual(nextStep([...steps, measure(449, 500, 20, d)], search, limits)?.phase, 'again', 'a step on the curve is not');
  });

  test("the guide's users: held never above broke, even when the broken step read less throughput", () => {
    const d = { phase: 'narrow' as const, predicted: null };
    // As seen against a real backend: about 340 held, 334 broke, when each side used its own throughput.
    const held = { ...measure(150, 1000, 20, d), requestsPerSecond: 950 };
    const broke = { ...measure(160, 1000, 20, d), requestsPerSecond: 850, latency: { p50: 900, p95: 1000, p99: 1100 }, verdict: 'broken' as const };
    broke.broken = [{ gate: 'p99', value: 1100, limit: 1000 }];
    const a = answerCapacity([held, broke], { budgets: {}, endpointPath: (n) => n, search, requestsPerJourney: 5, timeUp: false });
    assert.equal(a.result, 'knee');
    assert.deepEqual(a.guideUsers, { held: 150 + 190, broke: 160 + 190, thinkSeconds: 1, atRps: 950 });
    assert.match(a.line, /about 340 held, 350 broke \(an estimate, by Little's law at 950 req\/s\)$/);
  });

  test('a backend that breaks with the first users: the search goes down to 1 user', () => {
    const r = run(0.5, 2000);
    assert.deepEqual(
      r.steps.map((s) => s.users),
      [4, 2, 1],
    );
    const a = answerCapacity(r.steps, { budgets: {}, endpointPath: (n) => n, search, requestsPerJourney: 5, timeUp: false });
    assert.equal(a.result, 'below-first-step');
    assert.match(a.line, /^capacity: below 1 user: it broke at 1 users/);
  });

  test('the knee rule: x1.5 users and less than 10 % more requests/s', () => {
    const d = { phase: 'grow' as const, predicted: null };
    const flat = [measure(4, 100, 20, d), measure(8, 100, 20, d)];
    assert.equal(saturated(flat, search), true, 'x2 users, +0 %');
    const growing = [measure(4, 1000, 20, d), measure(8, 1000, 20, d)];
    assert.equal(saturated(growing, search), false, 'x2 users, +100 %');
    // Past the knee, p99 grows in proportion to users: one step is enough to predict the break.
    const p = predictBreak([measure(8, 100, 20, d)], limits)!;
    assert.equal(p.gate, 'p99');
    assert.ok(Math.abs(p.users - 100 / TAIL) <= 1, `predicted ${p.users}`);
  });
});

/** A step with the given figures, judged against the gates as the judge does (p99 and error rate). */
function step(users: number, requestsPerSecond: number, p99: number, o: { errorRatePct?: number; phase?: CapacityStep['phase'] } = {}): CapacityStep {
  const errorRatePct = o.errorRatePct ?? 0;
  const broken = [
    ...(p99 >= limits.p99Ms ? [{ gate: 'p99' as const, value: p99, limit: limits.p99Ms }] : []),
    ...(errorRatePct >= limits.errorRatePct ? [{ gate: 'error-rate' as const, value: errorRatePct, limit: limits.errorRatePct }] : []),
  ];
  return {
    users,
    phase: o.phase ?? 'narrow',
    predicted: null,
    since: 0,
    from: 0,
    to: 5000,
    seconds: 5,
    requests: requestsPerSecond * 5,
    requestsPerSecond,
    latency: { p50: p99 / 1.2, p95: p99 / 1.1, p99 },
    errorRatePct,
    timeouts: 0,
    rateLimitedPct: 0,
    cpuPct: 50,
    loopDelayMs: 5,
    broken,
    generatorLimited: false,
    verdict: broken.length ? 'broken' : 'held',
    endpoints: [],
  };
}

describe("the chooser's rules at their thresholds", () => {
  // The knee: 10 users at 100 req/s; every step after it at that throughput unless said otherwise.
  const knee = step(10, 100, 100);

  test('the break is interpolated between the steps either side of the gate, extrapolated along the two below, or scaled from one', () => {
    assert.deepEqual(predictBreak([knee, step(50, 100, 500), step(150, 100, 1500)], limits), { users: 100, gate: 'p99' });
    assert.deepEqual(predictBreak([knee, step(50, 100, 400), step(70, 100, 600)], limits), { users: 110, gate: 'p99' });
    assert.deepEqual(predictBreak([step(10, 100, 250)], limits), { users: 40, gate: 'p99' });
  });

  test('a step past the knee counts from 90 % of its throughput', () => {
    // At 89 req/s the 50-user step is left out: the knee alone predicts 10 x 1000 / 100 users.
    assert.deepEqual(predictBreak([knee, step(50, 89, 700)], limits), { users: 100, gate: 'p99' });
    assert.deepEqual(predictBreak([knee, step(50, 90, 700)], limits), { users: 70, gate: 'p99' });
  });

  test('a rising error rate predicts the break when it comes before p99 does', () => {
    const gate = limits.errorRatePct;
    const p = predictBreak([knee, step(50, 100, 200, { errorRatePct: gate / 5 }), step(100, 100, 300, { errorRatePct: (gate * 3) / 5 })], limits);
    // Along the error rate: 50 + (5 - 1) x 50 / (3 - 1) = 150 users; along p99: 450.
    assert.deepEqual(p, { users: 150, gate: 'error-rate' });
  });

  test('a p99 contradicts an earlier one from half the gate, and by more than 10 %', () => {
    const earlier = [knee, step(100, 100, 500)];
    const next = (p99: number) => nextStep([...earlier, step(80, 100, p99)], search, limits)?.phase;
    assert.equal(next(551), 'again', 'fewer users, p99 over 10 % higher');
    assert.notEqual(next(550), 'again', 'exactly 10 % higher');
    const near = [knee, step(100, 100, 400)];
    assert.equal(nextStep([...near, step(80, 100, 500)], search, limits)?.phase, 'again', 'at half the gate');
    assert.notEqual(nextStep([...near, step(80, 100, 499)], search, limits)?.phase, 'again', 'below half the gate');
  });

  test("a verdict off Little's line by more than 15 % is measured again", () => {
    // The 60-user step near the gate gives p99 x throughput / users = 1000; at 90 users the line says 900 ms.
    const earlier = [knee, step(60, 100, 600)];
    assert.equal(nextStep([...earlier, step(90, 100, 1060)], search, limits)?.phase, 'again', '17.8 % off, and broken where the line holds');
    assert.equal(nextStep([...earlier, step(90, 100, 1030)], search, limits)?.phase, 'narrow', '14.4 % off');
  });

  test('throughput that grew more than 10 % faster than the users has the smaller step measured again', () => {
    const small = step(50, 100, 100);
    assert.deepEqual(nextStep([small, step(100, 221, 100)], search, limits), { users: 50, phase: 'again', predicted: null });
    assert.notEqual(nextStep([small, step(100, 220, 100)], search, limits)?.phase, 'again');
  });

  test('the prediction skips a line that falls or crosses back, and scales only p99 from one step', () => {
    // p99 falling between the two highest below the gate: no line; scaled from the last one (70 x 1000 / 500).
    assert.deepEqual(predictBreak([knee, step(50, 100, 600), step(70, 100, 500)], limits), { users: 140, gate: 'p99' });
    // The step above the gate has fewer users than the last below it: extrapolated along the two below instead.
    assert.deepEqual(predictBreak([knee, step(50, 100, 1100), step(80, 100, 900)], limits), { users: 88, gate: 'p99' });
    // One error rate is not a trend: only p99 is scaled from a single step.
    assert.deepEqual(predictBreak([step(10, 100, 100, { errorRatePct: 1 })], limits), { users: 100, gate: 'p99' });
  });

  test('fewer users with a p99 more than 10 % higher than an earlier step contradicts it too', () => {
    const earlier = [knee, step(50, 100, 600)];
    assert.equal(nextStep([...earlier, step(80, 100, 545)], search, limits)?.phase, 'again');
    assert.notEqual(nextStep([...earlier, step(80, 100, 546)], search, limits)?.phase, 'again');
  });

  test("Little's line: only from steps near the gate, and only a verdict on p99 alone", () => {
    // A step at exactly half the gate sets the line (tail 500 x 100 / 40 = 1250: 90 users should break).
    assert.equal(nextStep([knee, step(40, 100, 500), step(90, 100, 900)], search, limits)?.phase, 'again');
    // Just under half the gate, it does not: no line, nothing to contradict.
    assert.notEqual(nextStep([knee, step(40, 100, 499), step(90, 100, 900)], search, limits)?.phase, 'again');
    // Off the line, but broken on the error rate as well: the error rate's verdict stands.
    assert.equal(nextStep([knee, step(60, 100, 600), step(90, 100, 1060, { errorRatePct: 6 })], search, limits)?.phase, 'narrow');
  });

  test('a step measured again is not asked for a third time when a later step grows faster than it', () => {
    const steps = [step(50, 100, 100), step(100, 221, 100), step(50, 100, 100, { phase: 'again' }), step(200, 450, 100)];
    assert.notEqual(nextStep(steps, search, limits)?.phase, 'again');
  });

  test('inside a wide bracket the next step is the prediction; in a narrow one, the geometric middle', () => {
    // 50 held, 150 broke: the line between them says 100.
    assert.deepEqual(nextStep([knee, step(50, 100, 500), step(150, 100, 1500)], search, limits), {
      users: 100,
      phase: 'narrow',
      predicted: { users: 100, gate: 'p99' },
    });
    // 100 held, 108 broke (within two narrowing steps): the middle, 104, whatever the prediction (105).
    assert.equal(nextStep([knee, step(100, 100, 950), step(108, 100, 1030)], search, limits)?.users, 104);
  });

  test("a step that broke with its throughput more than 5 % below the knee's is measured again", () => {
    const earlier = [knee, step(100, 100, 900)];
    assert.deepEqual(nextStep([...earlier, step(120, 94.9, 1100)], search, limits), { users: 120, phase: 'again', predicted: null });
    assert.notEqual(nextStep([...earlier, step(120, 95, 1100)], search, limits)?.phase, 'again');
  });
});

describe('where a capacity search may run', () => {
  test('refused against prod before anything is sent: exit 2, one line', async () => {
    const r = await packInProcess('run', ['--profile', 'capacity', '--env', 'prod', '--yes']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^error: profile capacity is refused against prod: .*allowCapacity: true\)\n$/);
    assert.equal(r.stdout, '');
    assert.equal(r.dir, undefined, 'no run folder');
  });

  test('a remote target needs an environment file that allows it; the dry run shows the search', async () => {
    const remote = await packInProcess('run', ['--profile', 'capacity', '--base-url', 'https://staging.example.invalid', '--dry-run']);
    assert.equal(remote.code, 2);
    assert.match(remote.stderr, /^error: profile capacity pushes https:\/\/staging\.example\.invalid until it breaks; add allowCapacity: true/);
    const allowed = await packInProcess('run', ['--profile', 'capacity', '--env', 'environments/examples/staging.yml', '--dry-run']);
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.match(allowed.stdout, /^Dry run: nothing is sent\./);
    assert.match(allowed.stdout, /grow: {5}4 users, then x2 per step until a gate breaks or throughput stops growing/);
    assert.match(allowed.stdout, /bounds: {3}2000 users \(a waiting pool that arrives in 1 s and sends only as each step lets it\), 240 s of load/);
    assert.match(allowed.stdout, /p99 response time < 1000 ms; HTTP error rate < 5 %/);
    assert.doesNotMatch(allowed.stdout, /client address/, 'spread IPs only on loopback');
    const scaled = await packInProcess('run', ['--profile', 'capacity', '--time-scale', '0.5', '--dry-run']);
    assert.equal(scaled.code, 2);
    assert.match(
      scaled.stderr,
      /^error: profile capacity sets its own step lengths .*--time-scale does not apply to it; change search: in config\/profiles\.yml instead\n$/,
    );
  });

  test('on Fargate or Lambda it is refused up front, with the reason: their workers cannot run the live search', async () => {
    for (const platform of ['fargate', 'lambda']) {
      const r = await packInProcess('run', ['--profile', 'capacity', '--platform', platform, '--dry-run']);
      assert.equal(r.code, 2, r.stdout);
      assert.match(
        r.stderr,
        new RegExp(`^error: profile capacity runs on this machine only: .*Artillery's ${platform} workers do not run the pack's plugin that does it; .*\\n$`),
      );
      assert.equal(r.stdout, '');
    }
    // The same for a combined output of distributed workers: there is no search to judge in it.
    const combined = await packInProcess('run', ['--profile', 'capacity', '--platform', 'lambda', '--from-output', 'test/fixtures/combined-output.json']);
    assert.equal(combined.code, 2);
    assert.match(combined.stderr, /^error: profile capacity runs on this machine only/);
    assert.equal(combined.dir, undefined, 'no run folder');
  });
});
