// The capacity search's answer (src/record/capacity-answer.ts) from judged steps: each kind of
// result in the words the record and the summary show, the knee, the guide's users, the endpoint
// that degraded first, and the users the search let send at each moment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CapacityStep } from '../src/channel/capacity-step';
import { loadProfile } from '../src/catalog/config';
import { answerCapacity, bracket, GENERATOR_WAY_OUT, guideUsersFor, kneeOf, searchUsersAt, searchUsersWithin } from '../src/record/capacity-answer';

const search = loadProfile('capacity').capacity!;

type Endpoint = CapacityStep['endpoints'][number];
const ep = (name: string, o: Partial<Endpoint> = {}): Endpoint => ({ name, requests: 100, errors: 0, timeouts: 0, p95: 50, p99: 60, ...o });

function step(users: number, rps: number, p99: number, o: Partial<CapacityStep> = {}): CapacityStep {
  const broken: CapacityStep['broken'] = p99 >= 1000 ? [{ gate: 'p99', value: p99, limit: 1000 }] : [];
  return {
    users,
    phase: 'grow',
    predicted: null,
    since: users * 1000,
    from: 0,
    to: 5000,
    seconds: 5,
    requests: rps * 5,
    requestsPerSecond: rps,
    latency: { p50: p99 / 2, p95: p99 * 0.9, p99 },
    errorRatePct: 0,
    timeouts: 0,
    rateLimitedPct: 0,
    cpuPct: 40,
    loopDelayMs: 2,
    broken,
    generatorLimited: false,
    verdict: broken.length ? 'broken' : 'held',
    endpoints: [ep('root'), ep('health')],
    ...o,
  };
}

const opts = (o: Partial<Parameters<typeof answerCapacity>[1]> = {}) => ({
  budgets: { root: 200, health: 100 },
  endpointPath: (name: string) => `/${name}`,
  search,
  requestsPerJourney: 5,
  timeUp: false,
  ...o,
});
const think = search.guideThinkSeconds;

test('the knee: held and broke, with the knee, the endpoint that degraded first and the guide users at one throughput', () => {
  const steps = [
    step(4, 40, 100),
    step(8, 80, 110),
    step(16, 100, 400),
    step(32, 101, 1200, { endpoints: [ep('root', { p95: 900 }), ep('health')] }),
    step(20, 100, 700),
  ];
  const a = answerCapacity(steps, opts());
  assert.equal(a.result, 'knee');
  assert.deepEqual([a.held, a.stoppedAt, a.largestStep, a.atLeastRps], [4, 3, 32, null]);
  assert.deepEqual(a.knee, { users: 16, requestsPerSecond: 101 });
  assert.equal(a.degradedFirst, 'root');
  assert.deepEqual(a.guideUsers, {
    held: guideUsersFor({ users: 20, requestsPerSecond: 100 }, think, 5),
    broke: guideUsersFor({ users: 32, requestsPerSecond: 100 }, think, 5),
    thinkSeconds: think,
    atRps: 100,
  });
  assert.ok(a.guideUsers.held < a.guideUsers.broke);
  assert.equal(
    a.line,
    'capacity: highest throughput 101 req/s, reached at 16 users (the knee); held 20 users (100 req/s, p50/p95/p99 350/630/700 ms); ' +
      "broke at 32 users (101 req/s): p99 1200 ms >= 1000 ms; GET /root degraded first (not narrowed to 5 %: the search's time bound came first)" +
      `; as the guide's users (${think} s pause between journeys), about ${a.guideUsers.held} held, ${a.guideUsers.broke} broke (an estimate, by Little's law at 100 req/s)`,
  );
  const narrowed = answerCapacity([...steps.slice(0, 3), step(17, 100, 1100), step(16, 100, 600)], opts());
  assert.doesNotMatch(narrowed.line, /not narrowed/);
  assert.match(narrowed.line, /; held 16 users .*; broke at 17 users \(100 req\/s\): p99 1100 ms >= 1000 ms; GET \/health degraded first; as the guide's/);
});

test('gates in their own words: error rate, timeouts and the rate limiter', () => {
  const broke = step(8, 50, 300, {
    broken: [
      { gate: 'error-rate', value: 7.5, limit: 5 },
      { gate: 'timeouts', value: 3, limit: 0 },
      { gate: 'rate-limited', value: 12, limit: 5 },
    ],
    verdict: 'broken',
    endpoints: [ep('root', { errors: 1 }), ep('health', { errors: 2, timeouts: 3 })],
  });
  const a = answerCapacity([broke], opts());
  assert.equal(a.result, 'below-first-step');
  assert.equal(a.degradedFirst, 'health', 'the most errors and timeouts first');
  assert.equal(
    a.line,
    'capacity: below 8 users: it broke at 8 users (50 req/s): HTTP error rate 7.5 % >= 5 %, 3 timeouts > 0, rate limited 12 % >= 5 %; GET /health degraded first; highest throughput 50 req/s, reached at 8 users (the knee)',
  );
  const one = answerCapacity([step(1, 5, 1500, { endpoints: [] })], opts());
  assert.equal(
    one.line,
    'capacity: below 1 user: it broke at 1 users (5 req/s): p99 1500 ms >= 1000 ms; highest throughput 5 req/s, reached at 1 users (the knee)',
  );
  assert.equal(one.degradedFirst, null);
});

test('the endpoint that degraded first: the first step, in users, where one went over its budget or failed; else the furthest over at the break', () => {
  const steps = [
    step(4, 40, 100, { endpoints: [ep('root', { p95: 150 }), ep('health', { p95: 100 })] }),
    step(8, 60, 1200, { endpoints: [ep('root', { p95: 190 }), ep('health', { p95: 90 })] }),
  ];
  assert.equal(answerCapacity(steps, opts()).degradedFirst, 'health', 'at its budget at 4 users');
  const under = [
    step(4, 40, 100, { endpoints: [ep('root', { p95: 150 }), ep('health', { p95: 50 })] }),
    step(8, 60, 1200, { endpoints: [ep('root', { p95: 190 }), ep('health', { p95: 90 })] }),
  ];
  assert.equal(answerCapacity(under, opts()).degradedFirst, 'root', 'none over: the furthest over its budget at the break (190/200 against 90/100)');
  const noBudget = [step(8, 60, 1200, { endpoints: [ep('other', { p95: 5000 }), ep('root', { p95: 20 })] })];
  assert.equal(answerCapacity(noBudget, opts()).degradedFirst, 'root', 'an endpoint without a budget is never over it');
});

test('the top held: the bound of users held, with the knee and the guide users', () => {
  const a = answerCapacity([step(search.maxUsers / 2, 100, 100), step(search.maxUsers, 150, 200)], opts());
  assert.equal(a.result, 'top-held');
  assert.deepEqual([a.held, a.stoppedAt], [1, null]);
  assert.equal(
    a.line,
    `capacity: at least ${search.maxUsers} users (150 req/s, p50/p95/p99 100/180/200 ms): the search's bound of ${search.maxUsers} users held (search.maxUsers in config/profiles.yml); ` +
      `highest throughput 150 req/s, reached at ${search.maxUsers} users (the knee); as the guide's users (${think} s pause between journeys), about ${a.guideUsers!.held} held (an estimate, by Little's law at 150 req/s)`,
  );
});

test('incomplete: the time bound or the run ended before a step broke; nothing judged at all', () => {
  const a = answerCapacity([step(4, 40.04, 100)], opts({ timeUp: true }));
  assert.equal(a.result, 'incomplete');
  assert.match(
    a.line,
    new RegExp(
      `^capacity: not found: the search's time bound \\(${search.maxSeconds} s\\) came before a step broke; at least 4 users \\(40 req/s, p50/p95/p99 50/90/100 ms\\) held; highest throughput 40 req/s`,
    ),
  );
  assert.match(answerCapacity([step(4, 40, 100)], opts()).line, /^capacity: not found: the run ended before a step broke; at least 4 users/);
  const none = answerCapacity([], opts());
  assert.equal(none.line, 'capacity: not found: the run ended before a step broke and no step was judged');
  assert.deepEqual([none.held, none.stoppedAt, none.knee, none.guideUsers, none.largestStep, none.predicted], [null, null, null, null, 0, null]);
});

test("the generator's limit: at least the throughput the backend held, why, and the way out", () => {
  const gen = step(64, 900, 300, { verdict: 'generator-limit', generatorLimited: true, cpuPct: 97.26, loopDelayMs: 55 });
  const a = answerCapacity([step(16, 400, 100), step(32, 700, 200), gen], opts());
  assert.equal(a.result, 'generator-limit');
  assert.deepEqual([a.atLeastRps, a.stoppedAt, a.held], [900, 2, 1]);
  assert.equal(
    a.line,
    `capacity: the load generator reached its limit at 900 req/s before the backend broke: capacity is at least 900 req/s (at 64 users: CPU 97.3 % of a core, event-loop delay 55 ms; p50/p95/p99 150/270/300 ms); ` +
      `held 32 users; as the guide's users (${think} s pause between journeys), about ${a.guideUsers!.held} held (an estimate, by Little's law at 700 req/s); ${GENERATOR_WAY_OUT}`,
  );
  const brokeToo = step(64, 900, 1300, { verdict: 'generator-limit', generatorLimited: true, cpuPct: null, loopDelayMs: 80 });
  const b = answerCapacity([brokeToo], opts());
  assert.equal(b.atLeastRps, 0, 'a step that broke its gates proves nothing held');
  assert.match(b.line, /\(at 64 users: event-loop delay 80 ms; the gates it broke then may be the generator's own queueing\); the backend is faster/);
  assert.match(
    answerCapacity([step(64, 900, 300, { verdict: 'generator-limit', generatorLimited: true, cpuPct: 90, loopDelayMs: null })], opts()).line,
    /\(at 64 users: CPU 90 % of a core; p50/,
  );
  assert.ok(
    answerCapacity([step(8, 50, 100), step(8, 90, 100, { verdict: 'generator-limit', generatorLimited: true })], opts()).result === 'generator-limit',
    'only the last step ends it',
  );
  assert.equal(answerCapacity([step(8, 90, 100, { verdict: 'generator-limit', generatorLimited: true }), step(4, 50, 100)], opts()).result, 'incomplete');
});

test('the knee: the fewest users within 5 % of the highest throughput; the generator-limited steps left out', () => {
  assert.deepEqual(kneeOf([step(4, 94, 100), step(8, 100, 100), step(16, 99, 100)]), { users: 8, requestsPerSecond: 100 });
  assert.deepEqual(kneeOf([step(4, 95, 100), step(8, 100, 100)]), { users: 4, requestsPerSecond: 100 });
  assert.deepEqual(kneeOf([step(8, 100, 100), step(4, 96, 100)]), { users: 4, requestsPerSecond: 100 }, 'in order of users');
  assert.equal(kneeOf([step(4, 95, 100, { verdict: 'generator-limit' })]), null);
  assert.deepEqual(kneeOf([step(4, 50, 100), step(8, 500, 100, { verdict: 'generator-limit' })]), { users: 4, requestsPerSecond: 50 });
});

test('the bracket: the latest measurement of each step counts; a held step above the broken one does not', () => {
  assert.deepEqual(bracket([]), { lo: null, hi: null });
  assert.deepEqual(bracket([step(8, 50, 1200), step(8, 50, 100)]), { lo: 8, hi: null }, 'measured again: held');
  assert.deepEqual(bracket([step(4, 40, 100), step(16, 50, 1200), step(8, 50, 1100), step(32, 50, 100)]), { lo: 4, hi: 8 });
});

test("the guide's users: the users plus throughput x pause / requests per journey", () => {
  assert.equal(guideUsersFor({ users: 10, requestsPerSecond: 50 }, 1, 5), 20);
  assert.equal(guideUsersFor({ users: 10, requestsPerSecond: 50 }, 1, 0), 60, 'at least one request a journey');
  assert.equal(guideUsersFor({ users: 10, requestsPerSecond: 7 }, 1, 2), 14, 'rounded');
});

test('the users the search let send: the step set last before the moment, the most within a span', () => {
  const steps = [{ users: 4, since: 1000 }, { users: 8, since: 5000 }, { users: 2 }, { users: 6, since: 9000 }];
  assert.equal(searchUsersAt(steps, 999), 0);
  assert.equal(searchUsersAt(steps, 1000), 4);
  assert.equal(searchUsersAt(steps, 5000), 8);
  assert.equal(searchUsersAt(steps, 20_000), 6);
  assert.equal(searchUsersWithin(steps, 2000, 5000), 4, 'a step set at the end of the span is not within it');
  assert.equal(searchUsersWithin(steps, 2000, 5001), 8);
  assert.equal(searchUsersWithin(steps, 5000, 9500), 8, 'the step at the start of the span counts');
  assert.equal(searchUsersWithin(steps, 9000, 9500), 6);
});
