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
    assert.ok(
      flaky.includes(
        "The preflight's /api check: 2 of 3 /api requests failed (500 ×2) before one answered 200: a flaky API, not a broken one; the load ran and its gates judged it.",
      ),
    );
    assert.ok(!flaky.some((l) => /API failing/.test(l)));
    assert.ok(
      has(
        beforeLoad({}, samples(false, times(8, { status: 502, detail: 'Bad gateway' }))),
        /^API failing while \/health is OK: .* answered 502: Bad gateway; 8 of 8 \/api requests failed \(502 ×8\)\.$/,
      ),
    );
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
    assert.deepEqual(
      diagnose(beforeLoad({}, samples(false, [{ status: 401, detail: '{"error":"Invalid or expired token"}' }]))).filter((l) => /API|Redis/.test(l)),
      [],
    );
    assert.deepEqual(
      diagnose(beforeLoad({}, samples(false, [{ status: 431, detail: '' }]))).filter((l) => /API|Redis/.test(l)),
      [],
    );
  });

  test("the backend's port 3001 only for a target on this machine", () => {
    const refused = { ok: false, problem: 'refused' as const, detail: 'ECONNREFUSED' };
    assert.ok(has(beforeLoad(refused), /port 3001/));
    assert.ok(!has(beforeLoad(refused, null, 'https://backend.example.com'), /port 3001/));
  });

  test('a sleeping Render service only for a target that is not on this machine', () => {
    const timeout = { ok: false, problem: 'timeout' as const, detail: 'no answer within 5000 ms' };
    assert.ok(has(beforeLoad(timeout, null, 'https://backend.example.com'), /Render that was idle/));
    assert.ok(!has(beforeLoad(timeout), /Render/));
  });

  test('database connectivity for a degraded /health only when the database is what failed', () => {
    const degraded = (services: string[]) =>
      beforeLoad({ ok: false, status: 503, problem: 'degraded', failingServices: services, detail: 'status "degraded"' });
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

// The words themselves, for each kind of evidence: what a user reads under "What went wrong".
describe('the diagnosis, word for word', () => {
  const at = '2026-01-05T09:00:00.000Z';
  const REMOTE = 'https://voxanne.example.invalid';
  const DASHBOARD = '/api/calls-dashboard?limit=1';
  const REDIS_HINT =
    'When Redis is down the backend answers every /api request 500 "Connection is closed." until it restarts; check Redis and restart the backend.';
  /** The synthetic record as a run stopped before its load: no responses, and --spread-ips off. */
  const noLoad = (): RunRecord => {
    const r = base();
    return { ...r, outcome: 'unhealthy', totals: { ...r.totals, requests: 0 }, rateLimit: { ...r.rateLimit, spreadIps: false } };
  };
  /** No load: /health failed with `health`. */
  const unhealthy = (health: Partial<HealthResult>, target = 'http://127.0.0.1:3001'): RunRecord => {
    const start = { ok: false, at, ...health };
    return { ...noLoad(), target, health: { start, end: null }, apiCheck: null };
  };
  /** No load: /health was ok, the preflight's /api check as given. */
  const apiOnly = (api: ApiCheck): RunRecord => ({ ...noLoad(), apiCheck: api });

  const BEFORE_THE_LOAD: Array<[string, () => RunRecord, string[]]> = [
    [
      'refused, on this machine',
      () => unhealthy({ problem: 'refused', detail: 'ECONNREFUSED' }),
      [
        'Connection refused at http://127.0.0.1:3001: nothing is listening there.',
        'Verify the backend is running (npm run dev in the backend, port 3001), check firewall settings,',
        'and verify the URL: curl http://127.0.0.1:3001/health',
      ],
    ],
    [
      'refused, elsewhere',
      () => unhealthy({ problem: 'refused', detail: 'ECONNREFUSED' }, REMOTE),
      [
        'Connection refused at https://voxanne.example.invalid: nothing is listening there.',
        'Verify the backend is running there, check firewall settings,',
        'and verify the URL: curl https://voxanne.example.invalid/health',
      ],
    ],
    [
      'no answer, on this machine',
      () => unhealthy({ problem: 'timeout', detail: 'no answer in 5000 ms' }),
      [
        'No answer from http://127.0.0.1:3001 (no answer in 5000 ms).',
        'Check the host name and the network, and that the backend is up: curl http://127.0.0.1:3001/health',
      ],
    ],
    [
      'unreachable, elsewhere (a sleeping service)',
      () => unhealthy({ problem: 'unreachable', detail: 'ENOTFOUND' }, REMOTE),
      [
        'No answer from https://voxanne.example.invalid (ENOTFOUND).',
        'Check the host name and the network, and that the backend is up: curl https://voxanne.example.invalid/health',
        'A service on Render that was idle can take a minute to wake up; try again.',
      ],
    ],
    [
      'a redirect',
      () => unhealthy({ problem: 'redirect', status: 301, detail: 'redirect to https://x.invalid/health' }),
      [
        '/health answered 301, a redirect to https://x.invalid/health; redirects are not followed (that would check another server).',
        'Is BASE_URL the backend itself (http:// vs https://, the host name)? curl -I http://127.0.0.1:3001/health',
      ],
    ],
    [
      'a redirect loop (older records)',
      () => unhealthy({ problem: 'redirect-loop', detail: '5 redirects' }),
      [
        'Redirect loop at http://127.0.0.1:3001/health: it kept redirecting (5 redirects).',
        "Check BASE_URL (http:// vs https://, a trailing host name) and the proxy's redirect rules: curl -IL http://127.0.0.1:3001/health",
      ],
    ],
    [
      'degraded: Supabase among the services',
      () => unhealthy({ problem: 'degraded', status: 503, failingServices: ['supabase', 'redis'] }),
      ['/health answered 503 degraded: supabase, redis down.', 'Verify database connectivity (Supabase) and the backend logs before load testing.'],
    ],
    [
      'degraded: the database',
      () => unhealthy({ problem: 'degraded', status: 503, failingServices: ['database'] }),
      ['/health answered 503 degraded: database down.', 'Verify database connectivity (Supabase) and the backend logs before load testing.'],
    ],
    [
      'degraded: another service',
      () => unhealthy({ problem: 'degraded', status: 503, failingServices: ['redis'] }),
      ['/health answered 503 degraded: redis down.', 'Check the backend logs for the failing service before load testing.'],
    ],
    [
      'degraded: no service named',
      () => unhealthy({ problem: 'degraded', status: 503 }),
      ['/health answered 503 degraded: a service down.', 'Check the backend logs for the failing service before load testing.'],
    ],
    [
      'an HTTP error',
      () => unhealthy({ problem: 'http-error', status: 502, detail: 'Bad Gateway' }),
      ['/health answered HTTP 502: Bad Gateway', 'Check the backend logs and the URL: curl http://127.0.0.1:3001/health'],
    ],
    [
      'a 200 that is not the backend',
      () => unhealthy({ problem: 'wrong-body', status: 200, detail: '{"status":"maybe"}' }),
      ['/health answered 200 without status "ok": {"status":"maybe"}', 'Is BASE_URL the Voxanne backend (not the front end or a proxy page)?'],
    ],
    ['no problem named: nothing to add', () => unhealthy({}), []],
    [
      '/api failing, an older record without samples',
      () => apiOnly({ ok: false, path: DASHBOARD, authenticated: true, status: 404, detail: 'Not found' }),
      ['API failing while /health is OK: /api/calls-dashboard?limit=1 answered 404: Not found.', 'Check the backend logs for what fails under /api.'],
    ],
    [
      '/api failing every sample',
      () => apiOnly(samples(false, times(3, { status: 404, detail: '{"error":"Not found"}' }))),
      [
        'API failing while /health is OK: /api/calls-dashboard?limit=1 answered 404: {"error":"Not found"}; 3 of 3 /api requests failed (404 ×3).',
        'Check the backend logs for what fails under /api.',
      ],
    ],
    [
      '/api timing out',
      () => apiOnly(samples(false, times(2, { detail: 'TimeoutError' }))),
      [
        'API failing while /health is OK: /api/calls-dashboard?limit=1 answered TimeoutError; 2 of 2 /api requests failed (TimeoutError ×2).',
        'Check the backend logs for what fails under /api.',
      ],
    ],
    [
      '/api redirecting',
      () => apiOnly(samples(false, [{ status: 302, detail: 'redirect to https://login.invalid/' }])),
      [
        'API failing while /health is OK: /api/calls-dashboard?limit=1 answered 302: redirect to https://login.invalid/.',
        'Redirects are not followed (that would measure another server): is BASE_URL the backend itself?',
      ],
    ],
    [
      'a flaky /api',
      () =>
        apiOnly(
          samples(true, [
            { status: 500, detail: '{}' },
            { status: 503, detail: '{}' },
          ]),
        ),
      [
        "The preflight's /api check: 2 of 3 /api requests failed (500, 503) before one answered 200: a flaky API, not a broken one; the load ran and its gates judged it.",
      ],
    ],
    [
      '/api answering 500 in an older record (no samples kept): Redis',
      () => apiOnly({ ok: false, path: DASHBOARD, authenticated: true, status: 500, detail: '{"error":"Failed"}' }),
      ['API failing while /health is OK: /api/calls-dashboard?limit=1 answered 500: {"error":"Failed"}.', REDIS_HINT],
    ],
    [
      'one answer of several says the connection is closed: Redis',
      () =>
        apiOnly(
          samples(false, [
            { status: 404, detail: '{}' },
            { status: 500, detail: CLOSED },
            { status: 404, detail: '{}' },
          ]),
        ),
      ['API failing while /health is OK: /api/calls-dashboard?limit=1 answered 404: {}; 3 of 3 /api requests failed (404 ×2, 500).', REDIS_HINT],
    ],
    [
      'one answer of several is a redirect; a body that mentions a redirect is none',
      () =>
        apiOnly(
          samples(false, [
            { status: 302, detail: 'redirect to https://login.invalid/' },
            { status: 404, detail: 'no redirect to follow' },
          ]),
        ),
      [
        'API failing while /health is OK: /api/calls-dashboard?limit=1 answered 404: no redirect to follow; 2 of 2 /api requests failed (302, 404).',
        'Redirects are not followed (that would measure another server): is BASE_URL the backend itself?',
      ],
    ],
    [
      'a body that only mentions a redirect',
      () => apiOnly(samples(false, [{ status: 404, detail: 'no redirect to follow' }])),
      [
        'API failing while /health is OK: /api/calls-dashboard?limit=1 answered 404: no redirect to follow.',
        'Check the backend logs for what fails under /api.',
      ],
    ],
  ];
  for (const [title, record, lines] of BEFORE_THE_LOAD) {
    test(`before the load: ${title}`, () => assert.deepEqual(diagnose(record()), lines));
  }

  /** A run that went wrong in every way the record can show, stopped by the breaker. */
  function everything(): RunRecord {
    const r = base();
    r.outcome = 'aborted';
    r.abort = { at: '2026-01-05T09:00:40.000Z', reason: '52 % of requests failed or were rate limited over the last 30 s.' };
    r.rateLimit = {
      ...r.rateLimit,
      spreadIps: false,
      limited: 12,
      countedAsErrors: false,
      warning: 'This run may use most of what is left of the rate limit.',
      atStart: { ...r.rateLimit.atStart!, resetAt: '2026-01-05T10:00:00.000Z' },
    };
    r.auth = { ...r.auth, mode: 'token', warning: 'The token expires in 5 minutes.' };
    r.ending = { ...r.ending, unknownSeconds: 3.5, inFlight: 4, unreportedPeriods: 1 };
    r.health = { ...r.health, end: { ok: false, at, status: 503, problem: 'degraded', failingServices: ['database'] } };
    r.totals = {
      ...r.totals,
      errors: { ...noErrors(), http5xx: 3, http4xx: 2, rateLimited: 12, timeout: 3, transport: 1, otherStatus: 1, notJson: 1, badBody: 2 },
      errorCount: 13,
      errorRatePct: 25,
      crashedUsers: 2,
    };
    r.endpoints = r.endpoints.map((e) => {
      if (e.name === 'assistants') {
        return { ...e, errors: { ...noErrors(), timeout: 2, http5xx: 3, notJson: 1, badBody: 2 }, errorCount: 8, fallbackAnswers: 4 };
      }
      if (e.name === 'calls_dashboard') return { ...e, errors: { ...noErrors(), timeout: 1, http4xx: 2 }, errorCount: 3, codes: { ...e.codes, '401': 3 } };
      if (e.name === 'root') return { ...e, fallbackAnswers: 2 };
      return e;
    });
    r.periods = r.periods.map((p, i) => (i === 2 ? { ...p, codes: { ...p.codes, '401': 3 } } : p));
    r.redirects = [
      { endpoint: 'root', status: 301, location: 'https://x.invalid/' },
      { endpoint: 'elsewhere', status: 302, location: '' },
    ];
    r.gates = r.gates.map((g) => {
      if (g.id === 'error-rate') return { ...g, passed: false, value: 25 };
      // At the limit is slow too: /api/calls-dashboard's p99 is 165.7 ms.
      if (g.id === 'p99') return { ...g, passed: false, limit: 165.7 };
      if (g.id === 'p95-root') return { ...g, passed: false, value: 150 };
      if (g.id === 'p95-health') return { ...g, passed: false, value: 120, strict: true };
      if (g.id === 'p95-webhook_health') return { ...g, passed: false, value: null };
      return g;
    });
    return r;
  }

  test('after a load that went wrong in every way, in this order', () => {
    assert.deepEqual(diagnose(everything()), [
      'This run may use most of what is left of the rate limit.',
      'The token expires in 5 minutes.',
      "rate limited: 12 requests, policy 1000 per hour. This is the backend's rate limiter, not overload (left out of the error rate). Its window resets at 10:00 UTC and is shared by every client behind this address, so an earlier run may have used it up.",
      'Aborted by the breaker: 52 % of requests failed or were rate limited over the last 30 s.',
      'Artillery was killed: the last 3.5 s of load are unknown (the record keeps what the workers had measured until then).',
      '4 requests were still in flight when the users were stopped: sent, never answered, not counted.',
      "1 period(s) at the end come from the workers' own record: Artillery stopped before reporting them.",
      '/health failed after the load: the backend did not survive it.',
      '/health answered 503 degraded: database down.',
      'Verify database connectivity (Supabase) and the backend logs before load testing.',
      'High error rate (25.0 %): 3 server errors, 2 client errors, 12 rate limited, 3 timeouts, 1 connection errors, 1 other unexpected statuses, 3 bodies that failed their checks; most on /api/assistants.',
      'Server errors: check the backend logs for exceptions and verify database connectivity.',
      'Timeouts and dropped connections: check whether the server is memory/CPU constrained.',
      'Client errors: check BASE_URL, the paths and the token.',
      'High response times (p99 301.9 ms), slowest: /api/calls-dashboard, /api/assistants.',
      'Check database query performance, review Sentry for slow endpoints, consider adding database indexes.',
      'Timeouts: /api/calls-dashboard (1), /api/assistants (2). /api/assistants can hold a request for about 2 minutes when the voice API fails.',
      'Bodies that are not JSON: /api/assistants (1); a proxy or error page answered instead of the backend.',
      'Bodies that failed their checks (the expected status, but the wrong shape or broken JSON): /api/assistants (2).',
      '/ answered 301 redirecting to https://x.invalid/; redirects are not followed (that would measure another server): is BASE_URL the backend itself?',
      'elsewhere answered 302 redirecting to (no Location header); redirects are not followed (that would measure another server): is BASE_URL the backend itself?',
      '1 connection errors (reset or refused mid-run): the backend or its proxy dropped connections, or the backend went down.',
      'The token was rejected 3 times (401) from 09:00:30 UTC on: it expired or was revoked mid-run, or lacks the email / app_metadata.org_id claims. For long runs use the sign-in variables, which renew the token.',
      '2 users stopped on a connection error or timeout before their planned end.',
      '/ answered its fallback 2 times: something behind it failed.',
      '/api/assistants answered {"assistants":[]} 4 times: the backend\'s call to the voice API (Vapi) failed.',
      'health p95 120 ms is over its 100 ms budget.',
      'root p95 150 ms is over its 100 ms budget (warning).',
    ]);
  });

  test('with sign-in, 429s counted, a fixed window, no 401 in any period', () => {
    const r = everything();
    r.auth = { ...r.auth, mode: 'sign-in', warning: undefined };
    r.periods = base().periods;
    r.rateLimit = { ...r.rateLimit, countedAsErrors: true, warning: null, atStart: { ...r.rateLimit.atStart!, resetAt: undefined } };
    r.outcome = 'failed';
    r.abort = null;
    const lines = diagnose(r);
    assert.deepEqual(
      lines.filter((l) => /^rate limited|401/.test(l)),
      [
        "rate limited: 12 requests, policy 1000 per hour. This is the backend's rate limiter, not overload (counted as errors: --count-429). Its window is fixed and is shared by every client behind this address, so an earlier run may have used it up.",
        'The token was rejected 3 times (401): it expired or was revoked mid-run, or lacks the email / app_metadata.org_id claims. Check the account in Supabase.',
      ],
    );
    assert.equal(lines.length, 25);
    // The development token is not ours to blame for 401s.
    const dev = everything();
    dev.auth = { ...dev.auth, mode: 'dev-token' };
    assert.deepEqual(
      diagnose(dev).filter((l) => /401|token/.test(l)),
      ['The token expires in 5 minutes.', 'Client errors: check BASE_URL, the paths and the token.'],
    );
    // Refused before the load: what was said before it, and nothing about a load.
    assert.deepEqual(diagnose({ ...everything(), outcome: 'refused' }), [
      'This run may use most of what is left of the rate limit.',
      'The token expires in 5 minutes.',
      "rate limited: 12 requests, policy 1000 per hour. This is the backend's rate limiter, not overload (left out of the error rate). Its window resets at 10:00 UTC and is shared by every client behind this address, so an earlier run may have used it up.",
      'Aborted by the breaker: 52 % of requests failed or were rate limited over the last 30 s.',
    ]);
  });

  test('periods the workers kept count only against a run that did not pass', () => {
    const r = base();
    r.ending = { ...r.ending, unreportedPeriods: 2 };
    assert.deepEqual(diagnose(r), [
      '--spread-ips was used: every request claimed its own client address, so the per-IP rate limiter did not cap this run (loopback only).',
    ]);
  });

  test('no responses at all: why, by how the run ended', () => {
    const none = (outcome: RunRecord['outcome'], loadStartedAt: string | null, reason = 'x') => {
      const r = base();
      return diagnose({ ...r, outcome, loadStartedAt, reason, totals: { ...r.totals, requests: 0 }, rateLimit: { ...r.rateLimit, spreadIps: false } });
    };
    assert.deepEqual(
      [none('interrupted', null), none('interrupted', at), none('crashed', at, 'Artillery exited with code 1.'), none('aborted', at), none('failed', at)],
      [
        ['No responses were recorded: the run was stopped before the load started.'],
        ['No responses were recorded: the run was stopped before the first answer came back.'],
        ['No responses were recorded: Artillery exited with code 1.'],
        ['No responses were recorded before the breaker stopped the load.'],
        ['No responses were recorded: the target answered nothing during the load (check that it is up and that BASE_URL is right).'],
      ],
    );
  });

  test('a high error rate with no endpoint to blame', () => {
    const r = base();
    r.gates = r.gates.map((g) => (g.id === 'error-rate' ? { ...g, passed: false } : g));
    r.totals = { ...r.totals, errorRatePct: 6 };
    assert.deepEqual(diagnose(r), [
      '--spread-ips was used: every request claimed its own client address, so the per-IP rate limiter did not cap this run (loopback only).',
      'High error rate (6.0 %): 0 server errors, 0 client errors, 0 rate limited, 0 timeouts, 0 connection errors, 0 other unexpected statuses, 0 bodies that failed their checks.',
    ]);
  });

  test('where the evidence is on several endpoints, each is named; where none is, none', () => {
    const r = base();
    r.rateLimit = { ...r.rateLimit, spreadIps: false };
    r.auth = { ...r.auth, mode: 'token' }; // our own token, and no 401 came back: nothing to say about it
    r.totals = { ...r.totals, errors: { ...noErrors(), timeout: 3, notJson: 2, badBody: 2 } };
    const slowDashboard = { body: '[]', meaning: 'x', slowness: 'waits on its database' };
    r.endpoints = r.endpoints.map((e) =>
      e.name === 'assistants' || e.name === 'calls_dashboard'
        ? { ...e, errors: { ...noErrors(), timeout: e.name === 'assistants' ? 2 : 1, notJson: 1, badBody: 1 }, fallback: e.fallback ?? slowDashboard }
        : e,
    );
    // The p99 gate failed, but no endpoint reached its limit on its own.
    r.gates = r.gates.map((g) => (g.id === 'p99' ? { ...g, passed: false, limit: 10_000 } : g));
    assert.deepEqual(diagnose(r), [
      'High response times (p99 301.9 ms).',
      'Check database query performance, review Sentry for slow endpoints, consider adding database indexes.',
      'Timeouts: /api/calls-dashboard (1), /api/assistants (2). /api/calls-dashboard waits on its database. /api/assistants can hold a request for about 2 minutes when the voice API fails.',
      'Bodies that are not JSON: /api/calls-dashboard (1), /api/assistants (1); a proxy or error page answered instead of the backend.',
      'Bodies that failed their checks (the expected status, but the wrong shape or broken JSON): /api/calls-dashboard (1), /api/assistants (1).',
    ]);
  });

  test('a record with no endpoints, no rate-limit state, and a crash before the load', () => {
    const r = base();
    r.rateLimit = { ...r.rateLimit, spreadIps: false, limited: 3, atStart: null };
    r.endpoints = [];
    r.gates = r.gates.map((g) => (g.id === 'error-rate' ? { ...g, passed: false } : g));
    assert.deepEqual(diagnose(r), [
      "rate limited: 3 requests (its policy unknown: the backend sent no RateLimit headers at the start). This is the backend's rate limiter, not overload (left out of the error rate). It is shared by every client behind this address, so an earlier run may have used it up.",
      'High error rate (0.0 %): 0 server errors, 0 client errors, 0 rate limited, 0 timeouts, 0 connection errors, 0 other unexpected statuses, 0 bodies that failed their checks.',
    ]);
    const crashed = { ...noLoad(), outcome: 'crashed' as const, loadStartedAt: null, reason: 'Artillery did not start.' };
    assert.deepEqual(diagnose(crashed), ['No responses were recorded: Artillery did not start.']);
  });
});
