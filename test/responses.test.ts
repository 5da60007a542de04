// The classification of responses (src/record/responses.ts) on real responses of the stand-in,
// recorded before any classification (test/fixtures/responses.json, `npm run record-responses`):
// each situation's responses count exactly as the gates need them to.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadContract } from '../src/catalog/config';
import { expectationsFor, fallbackText } from '../src/catalog/contract';
import { counter } from '../src/common/metrics';
import {
  bodyCounters,
  brief,
  classifyResponse,
  expectedStatuses,
  failureLines,
  printedFailures,
  responseCounters,
  transportCounters,
} from '../src/record/responses';
import { RESPONSES_FILE, type RecordedResponse } from './record-responses';

const recorded = JSON.parse(readFileSync(RESPONSES_FILE, 'utf8')) as RecordedResponse[];
const endpoints = new Map(loadContract().endpoints.map((e) => [e.name, e]));
const cache = new WeakMap<object, number[]>();

/** The counters one recorded response adds 1 to, with the scenario's own expect list for it. */
function counted(r: RecordedResponse, count429 = false) {
  const e = endpoints.get(r.endpoint)!;
  const verdict = classifyResponse(
    { status: r.status, contentType: r.headers['content-type'] ?? '', body: r.body },
    { expected: expectedStatuses(expectationsFor(e, r.withToken), {}, cache), count429, fallback: fallbackText(e) },
  );
  return { verdict, counters: responseCounters(r.endpoint, r.status, verdict) };
}

const of = (situation: string) => {
  const list = recorded.filter((r) => r.situation === situation);
  assert.ok(list.length >= endpoints.size, `${situation}: a response of every endpoint was recorded`);
  return list;
};

test('a healthy backend, with a token and without (probe: 401 expected): every response counts as a request only', () => {
  for (const r of [...of('healthy'), ...of('no-token')]) assert.deepEqual(counted(r).counters, [counter.requests], `${r.situation} ${r.endpoint} ${r.status}`);
  assert.ok(
    of('no-token').some((r) => r.status === 401),
    'the probe saw 401s',
  );
});

test('server errors: a 500 is an error, counted by endpoint and status; the endpoints that answered 200 stay clean', () => {
  const fives = of('server-errors').filter((r) => r.status === 500);
  assert.ok(fives.length >= 3);
  for (const r of fives) assert.deepEqual(counted(r).counters, [counter.requests, counter.errors, counter.unexpected(r.endpoint, 500)]);
  for (const r of of('server-errors').filter((x) => x.status === 200)) assert.deepEqual(counted(r).counters, [counter.requests]);
});

test('an HTML page with the expected status: not JSON, an error', () => {
  const html = of('not-json').filter((r) => /html/.test(r.headers['content-type'] ?? ''));
  assert.ok(html.length >= 3);
  for (const r of html) {
    const { verdict, counters } = counted(r);
    assert.deepEqual(counters, [counter.requests, counter.errors, counter.notJson(r.endpoint)]);
    assert.deepEqual(bodyCounters(r.endpoint, verdict), [counter.expectationFailed(r.endpoint)], 'its failed body checks are no second error');
  }
});

test("the voice API down: the endpoint's declared fallback is counted apart, not as an error; whitespace does not hide it", () => {
  const withFallback = of('voice-api-down').filter((r) => fallbackText(endpoints.get(r.endpoint)!) !== undefined);
  assert.ok(withFallback.length >= 1);
  for (const r of withFallback) {
    assert.deepEqual(counted(r).counters, [counter.requests, counter.fallback(r.endpoint)]);
    const spaced = { ...r, body: JSON.stringify(JSON.parse(r.body), null, 2) };
    assert.deepEqual(counted(spaced).counters, [counter.requests, counter.fallback(r.endpoint)]);
    assert.deepEqual(counted({ ...r, body: r.body + ' '.repeat(r.body.length * 4) }).counters, [counter.requests], 'a long body is not compared');
    assert.deepEqual(
      counted({ ...r, status: 201 }).counters,
      [counter.requests, counter.errors, counter.unexpected(r.endpoint, 201)],
      'only a 200 is a fallback',
    );
  }
  for (const r of of('healthy').filter((x) => fallbackText(endpoints.get(x.endpoint)!) !== undefined)) {
    assert.deepEqual(counted(r).counters, [counter.requests], 'the same endpoint answering normally');
  }
});

test('the rate limiter: a 429 is counted apart, and as an error only with --count-429', () => {
  const limited = of('rate-limited').filter((r) => r.status === 429);
  assert.ok(limited.length >= 2);
  for (const r of limited) {
    assert.deepEqual(counted(r).counters, [counter.requests, counter.rateLimited, counter.unexpected(r.endpoint, 429)]);
    assert.deepEqual(counted(r, true).counters, [counter.requests, counter.errors, counter.rateLimited, counter.unexpected(r.endpoint, 429)]);
  }
  for (const r of of('rate-limited').filter((x) => x.status === 200)) assert.deepEqual(counted(r, true).counters, [counter.requests]);
});

test('a redirect is not followed: an error, noted with where it pointed', () => {
  for (const r of of('redirect')) {
    const { verdict, counters } = counted(r);
    assert.equal(verdict.redirect, true);
    assert.equal(r.headers.location, 'https://127.0.0.1/login');
    assert.deepEqual(counters, [counter.requests, counter.errors, counter.unexpected(r.endpoint, 302)]);
  }
  for (const status of [299, 400])
    assert.equal(classifyResponse({ status, contentType: 'application/json', body: '' }, { expected: [200], count429: false }).redirect, false);
  assert.equal(classifyResponse({ status: 300, contentType: '', body: '' }, { expected: [200], count429: false }).redirect, true);
  assert.equal(classifyResponse({ status: 399, contentType: '', body: '' }, { expected: [200], count429: false }).redirect, true);
});

test('a body that fails its checks with the expected status and JSON: a bad body, one error', () => {
  const r = of('healthy')[0];
  const { verdict } = counted({ ...r, body: '{"status":"down"}' });
  assert.deepEqual(bodyCounters(r.endpoint, verdict), [counter.expectationFailed(r.endpoint), counter.errors, counter.badBody(r.endpoint)]);
  assert.deepEqual(bodyCounters(r.endpoint, undefined), [counter.expectationFailed(r.endpoint)], 'a response nothing classified');
  assert.deepEqual(bodyCounters(r.endpoint, { unexpected: true, notJson: false }), [counter.expectationFailed(r.endpoint)], 'already an error');
});

test('no response: a timeout and a transport error, each an error of its kind', () => {
  assert.deepEqual(transportCounters('root', 'ETIMEDOUT'), [counter.requests, counter.errors, counter.timeouts, counter.timeoutOf('root')]);
  assert.deepEqual(transportCounters('root', 'ESOCKETTIMEDOUT'), [counter.requests, counter.errors, counter.timeouts, counter.timeoutOf('root')]);
  assert.deepEqual(transportCounters('root', 'TimeoutError'), [counter.requests, counter.errors, counter.timeouts, counter.timeoutOf('root')]);
  assert.deepEqual(transportCounters('root', 'ECONNRESET'), [counter.requests, counter.errors, counter.transportOf('root', 'ECONNRESET')]);
});

test("the expected statuses: the request's own list, 200 when it names none, a user's variable filled in, literal lists kept", () => {
  const own = new WeakMap<object, number[]>();
  const list = [{ statusCode: [200, '201'] }, { hasProperty: 'x' }];
  assert.deepEqual(expectedStatuses(list, {}, own), [200, 201]);
  assert.equal(expectedStatuses(list, {}, own), expectedStatuses(list, {}, own), 'kept');
  assert.deepEqual(expectedStatuses([{ hasProperty: 'x' }], {}, own), [200]);
  const templated = [{ statusCode: '{{ wanted }}' }];
  assert.deepEqual(expectedStatuses(templated, { wanted: 404 }, own), [404]);
  assert.deepEqual(expectedStatuses(templated, { wanted: 401 }, own), [401], 'not kept: another user, another status');
});

test('failed checks are printed briefly: three per endpoint and check, the third says so', () => {
  const s = printedFailures(3);
  const fail = { ok: false, type: 'jmespath', expected: 'x'.repeat(100), got: { a: 1 } };
  const lines = [1, 2, 3, 4].flatMap(() => failureLines(s, 'root', [fail]));
  assert.equal(lines.length, 3);
  assert.equal(lines[0], `expectation failed: root jmespath: expected ${'x'.repeat(77)}..., got {"a":1}`);
  assert.match(lines[2], /\(further failures of this check are counted, not printed\)$/);
  assert.doesNotMatch(lines[1], /further/);
  assert.equal(failureLines(s, 'health', [fail]).length, 1, 'another endpoint counts on its own');
  assert.equal(brief('x'.repeat(80)), 'x'.repeat(80));
  assert.equal(brief('x'.repeat(81)).length, 80);
});
