// Each of the diagnosis's hints appears only on the evidence it rests on: for every hint, a record
// that carries that evidence, and a close one that does not (the false alarm it must not raise).
// Records are the synthetic ones the report benchmark uses (real histograms), with the part that
// matters set as a run would record it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { diagnose } from '../src/record/diagnosis';
import type { ApiCheck, HealthResult } from '../src/checks/health';
import { noErrors, type ErrorKinds, type RunRecord } from '../src/record/record';
import { syntheticRecord } from '../bench/synthetic-records';

const base = (): RunRecord => syntheticRecord({ profile: 'smoke', stages: [{ duration: 40, target: 2 }], seed: 3, journeysPerUserSecond: 0.5 });

/** A run stopped before the load: /health as given, the preflight's /api check as given. */
function beforeLoad(health: Partial<HealthResult>, api: ApiCheck | null = null, target = 'http://127.0.0.1:3001'): RunRecord {
  return { ...base(), target, outcome: 'unhealthy', health: { start: { ok: true, at: '2026-01-05T09:00:00.000Z', ...health }, end: null }, apiCheck: api };
}

const CLOSED = '{"error":"Connection is closed."}';
const samples = (ok: boolean, failures: Array<{ status?: number; detail?: string }>, last = ok ? 200 : failures.at(-1)?.status): ApiCheck => ({
  ok,
  path: '/api/calls-dashboard?limit=1',
  authenticated: true,
  status: last,
  detail: ok ? undefined : failures.at(-1)?.detail,
  sent: failures.length + (ok ? 1 : 0),
  failures,
});
const times = <T>(n: number, x: T): T[] => Array.from({ length: n }, () => x);

/** A finished run whose errors are `errors` (on `endpoint`), with the error-rate gate failed. */
function withErrors(errors: Partial<ErrorKinds>, endpoint = 'calls_dashboard'): RunRecord {
  const r = base();
  const kinds = { ...noErrors(), ...errors };
  const count = Object.values(kinds).reduce((a, b) => a + b, 0);
  r.totals = { ...r.totals, errors: kinds, errorCount: count, errorRatePct: (count / r.totals.requests) * 100 };
  r.endpoints = r.endpoints.map((e) => (e.name === endpoint ? { ...e, errors: kinds, errorCount: count } : e));
  r.gates = r.gates.map((g) => (g.id === 'error-rate' ? { ...g, passed: false, value: r.totals.errorRatePct } : g));
  r.outcome = 'failed';
  return r;
}

const has = (r: RunRecord, pattern: RegExp) => diagnose(r).some((line) => pattern.test(line));

describe('hints from evidence', { concurrency: true }, () => {
  test('Redis: every sample 500 while /health is ok', () => {
    assert.ok(has(beforeLoad({}, samples(false, times(8, { status: 500, detail: '{"error":"Failed to fetch calls"}' }))), /When Redis is down/));
    // Not: a flaky API whose 500s gave way to a 200.
    assert.ok(!has(beforeLoad({}, samples(true, times(2, { status: 500, detail: '{"error":"Failed to fetch calls"}' }))), /Redis/));
    // Not: an API that fails every time, but not with a 500 (a wrong URL: 404).
    assert.ok(!has(beforeLoad({}, samples(false, times(8, { status: 404, detail: '{"error":"Not found"}' }))), /Redis/));
    // Not: mixed failures (a 500, then timeouts): not the consistent answer Redis gives.
    assert.ok(!has(beforeLoad({}, samples(false, [{ status: 500, detail: '{}' }, ...times(7, { detail: 'TimeoutError' })])), /Redis/));
  });

  test('Redis: a body that says the connection is closed, even from a flaky API', () => {
    assert.ok(has(beforeLoad({}, samples(true, [{ status: 500, detail: CLOSED }])), /When Redis is down/));
    assert.ok(!has(beforeLoad({}, samples(true, [{ status: 500, detail: '{"error":"Failed to fetch calls"}' }])), /Redis/));
  });

  test('a flaky preflight is reported as flaky, and "API failing" only for a broken one', () => {
    const flaky = diagnose(beforeLoad({}, samples(true, times(2, { status: 500, detail: '{}' }))));
    assert.ok(flaky.includes("The preflight's /api check: 2 of 3 /api requests failed (500 ×2) before one answered 200: a flaky API, not a broken one; the load ran and its gates judged it."));
    assert.ok(!flaky.some((l) => /API failing/.test(l)));
    assert.ok(has(beforeLoad({}, samples(false, times(8, { status: 502, detail: 'Bad gateway' }))), /^API failing while \/health is OK: .* answered 502: Bad gateway; 8 of 8 \/api requests failed \(502 ×8\)\.$/));
  });

  test('a redirect is named with where it points, never as a Redis problem', () => {
    const health = diagnose(beforeLoad({ ok: false, status: 302, problem: 'redirect', detail: 'redirect to https://elsewhere.example/health' }));
    assert.ok(health.some((l) => l.startsWith('/health answered 302, a redirect to https://elsewhere.example/health; redirects are not followed')));
    assert.ok(!health.some((l) => /Redis|API failing/.test(l)));
    const api = diagnose(beforeLoad({}, samples(false, times(8, { status: 302, detail: 'redirect to https://elsewhere.example/api' }))));
    assert.ok(api.some((l) => /Redirects are not followed/.test(l)));
    assert.ok(!api.some((l) => /Redis/.test(l)));
    assert.ok(!has(base(), /redirect/i));
  });

  test('a refused token or refused headers: no API hint (the verdict says it)', () => {
    assert.deepEqual(diagnose(beforeLoad({}, samples(false, [{ status: 401, detail: '{"error":"Invalid or expired token"}' }]))).filter((l) => /API|Redis/.test(l)), []);
    assert.deepEqual(diagnose(beforeLoad({}, samples(false, [{ status: 431, detail: '' }]))).filter((l) => /API|Redis/.test(l)), []);
  });

  test("the backend's port 3001 only for a target on this machine", () => {
    const refused = { ok: false, problem: 'refused' as const, detail: 'ECONNREFUSED' };
    assert.ok(has(beforeLoad(refused), /port 3001/));
    assert.ok(!has(beforeLoad(refused, null, 'https://backend.example.com'), /port 3001/));
  });

  test('a sleeping Render service only for a target that is not on this machine', () => {
    const timeout = { ok: false, problem: 'timeout' as const, detail: 'no answer within 5000 ms' };
    assert.ok(has(beforeLoad(timeout, null, 'https://voxanne-backend.onrender.com'), /Render that was idle/));
    assert.ok(!has(beforeLoad(timeout), /Render/));
  });

  test('database connectivity for a degraded /health only when the database is what failed', () => {
    const degraded = (services: string[]) => beforeLoad({ ok: false, status: 503, problem: 'degraded', failingServices: services, detail: 'status "degraded"' });
    assert.ok(has(degraded(['database']), /Verify database connectivity/));
    assert.ok(!has(degraded(['webhookQueue']), /database/i));
    assert.ok(has(degraded(['webhookQueue']), /webhookQueue down/));
  });

  test('a high error rate: each hint for the kind of error it explains', () => {
    assert.ok(has(withErrors({ http5xx: 40 }), /check the backend logs for exceptions and verify database connectivity/));
    assert.ok(!has(withErrors({ http5xx: 40 }), /memory\/CPU|Client errors/));
    assert.ok(has(withErrors({ timeout: 40 }), /memory\/CPU constrained/));
    assert.ok(!has(withErrors({ timeout: 40 }), /database|Client errors/));
    assert.ok(has(withErrors({ http4xx: 40 }), /Client errors: check BASE_URL/));
    assert.ok(!has(withErrors({ http4xx: 40 }), /database|memory/));
    assert.ok(!has(base(), /High error rate|database|memory/));
  });

  test("the voice API's slowness only for timeouts on the endpoint that calls it", () => {
    assert.ok(has(withErrors({ timeout: 5 }, 'assistants'), /\/api\/assistants can hold a request for about 2 minutes/));
    assert.ok(!has(withErrors({ timeout: 5 }, 'health'), /can hold a request/));
  });

  test('a rejected token only with a token of our own and 401s during the load', () => {
    const rejected = (mode: string) => {
      const r = withErrors({ http4xx: 12 });
      r.auth = { ...r.auth, mode };
      r.endpoints = r.endpoints.map((e) => (e.name === 'calls_dashboard' ? { ...e, codes: { ...e.codes, '401': 12 } } : e));
      return r;
    };
    assert.ok(has(rejected('token'), /The token was rejected 12 times/));
    assert.ok(!has(rejected('probe'), /token was rejected/), 'probe mode expects its 401s');
  });

  test('the rate limiter only when 429s came back', () => {
    const r = base();
    assert.ok(!has(r, /rate limited:/));
    r.rateLimit = { ...r.rateLimit, limited: 30 };
    assert.ok(has(r, /^rate limited: 30 requests, policy 1000 per hour\. This is the backend's rate limiter, not overload/));
  });

  test('slow responses only when the p99 gate failed, naming the slow endpoints', () => {
    const r = base();
    assert.ok(!has(r, /High response times/));
    r.gates = r.gates.map((g) => (g.id === 'p99' ? { ...g, passed: false, limit: 1 } : g));
    assert.ok(has(r, /^High response times \(p99 [\d.]+ ms\), slowest: /));
  });
});
