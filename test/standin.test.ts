// Contract tests for the stand-in target and the sign-in stand-in: a real server on a free port,
// driven with fetch. Latencies are switched off (latencyScale 0) except where timing is the point.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadContract } from '../src/catalog/config';
import { decodeJwt, signJwt, type Claims } from '../src/common/jwt';
import { latencyQuantileMs, mulberry32, startStandIn, type StandIn } from '../src/standin/server';
import { standInsClosedAfterTests } from './standins';
import { machineNode } from './helpers';
import { startSignInStandIn } from '../src/standin/signin';

const ROOT = join(__dirname, '..');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const now = () => Math.floor(Date.now() / 1000);
const token = (claims: Claims) => signJwt(claims, 'any-secret-the-backend-does-not-check');
const GOOD = token({ sub: 'user-1', email: 'load@voxanne.test', app_metadata: { org_id: 'org-42' }, exp: now() + 3600 });
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

const standIn = standInsClosedAfterTests();

async function get(s: StandIn, path: string, headers: Record<string, string> = {}) {
  const res = await fetch(s.url + path, { headers });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, headers: res.headers, body: body as any, text };
}

describe('endpoints', () => {
  test('each endpoint answers its contract shape', async () => {
    const s = await standIn();
    const health = await get(s, '/health');
    assert.equal(health.status, 200);
    assert.equal(health.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.equal(health.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(health.headers.get('ratelimit-limit'), null, '/health is not rate limited');
    assert.equal(health.body.status, 'ok');
    assert.deepEqual(Object.keys(health.body.services).sort(), ['backgroundJobs', 'database', 'supabase', 'webhookQueue']);
    assert.equal(health.body.services.database, true);
    assert.ok(!Number.isNaN(Date.parse(health.body.timestamp)));
    assert.equal(typeof health.body.uptime, 'number');
    assert.equal(typeof health.body.database_size_mb, 'number');
    assert.ok('queueMetrics' in health.body);

    const root = await get(s, '/');
    assert.equal(root.status, 200);
    assert.equal(root.body.name, 'Voxanne Backend');
    assert.equal(root.body.version, '1.0.0');
    assert.equal(typeof root.body.endpoints, 'object');

    const webhook = await get(s, '/api/vapi/webhook/health');
    assert.equal(webhook.status, 200);
    assert.deepEqual(webhook.body, { status: 'healthy', service: 'vapi-webhook' });
    assert.equal(webhook.headers.get('ratelimit-policy'), '1000;w=3600');

    const calls = await get(s, '/api/calls-dashboard', bearer(GOOD));
    assert.equal(calls.status, 200);
    assert.ok(Array.isArray(calls.body.calls) && calls.body.calls.length > 0);
    assert.ok(calls.body.calls.length <= 20);
    for (const key of ['id', 'phone_number', 'caller_name', 'call_date', 'duration_seconds', 'status']) {
      assert.ok(key in calls.body.calls[0], `call has ${key}`);
    }
    const { page, limit, total, pages } = calls.body.pagination;
    assert.deepEqual([page, limit], [1, 20]);
    assert.equal(pages, Math.ceil(total / limit));

    const assistants = await get(s, '/api/assistants', bearer(GOOD));
    assert.equal(assistants.status, 200);
    assert.ok(Array.isArray(assistants.body) && assistants.body.length >= 2);
    assert.equal(typeof assistants.body[0].id, 'string');
    assert.equal(typeof assistants.body[0].name, 'string');
  });

  test('calls-dashboard honours page/limit/filters and validates the query', async () => {
    const s = await standIn();
    const all = await get(s, '/api/calls-dashboard?limit=100&include_test=true', bearer(GOOD));
    const total = all.body.pagination.total;
    const p2 = await get(s, '/api/calls-dashboard?page=2&limit=5&include_test=true', bearer(GOOD));
    assert.equal(p2.status, 200);
    assert.deepEqual(p2.body.pagination, { page: 2, limit: 5, total, pages: Math.ceil(total / 5) });
    assert.deepEqual(
      p2.body.calls.map((c: any) => c.id),
      all.body.calls.slice(5, 10).map((c: any) => c.id),
    );
    const missed = await get(s, '/api/calls-dashboard?status=missed&call_type=inbound&sortBy=duration', bearer(GOOD));
    assert.ok(missed.body.calls.every((c: any) => c.status === 'missed' && c.call_type === 'inbound'));
    const beyond = await get(s, '/api/calls-dashboard?page=99', bearer(GOOD));
    assert.deepEqual(beyond.body.calls, []);

    for (const query of ['page=0', 'page=x', 'limit=0', 'limit=101', 'status=busy', 'sortBy=size', 'call_type=internal', 'include_test=yes']) {
      const bad = await get(s, `/api/calls-dashboard?${query}`, bearer(GOOD));
      assert.equal(bad.status, 400, query);
      assert.equal(bad.body.code, 'VALIDATION_ERROR', query);
      assert.equal(typeof bad.body.error, 'string');
      assert.match(bad.body.request_id, UUID);
    }
  });

  test('unknown paths answer 404 with the path', async () => {
    const s = await standIn();
    const plain = await get(s, '/nope');
    assert.equal(plain.status, 404);
    assert.deepEqual(plain.body, { error: 'Not found', path: '/nope' });
    const api = await get(s, '/api/nope?x=1');
    assert.deepEqual([api.status, api.body], [404, { error: 'Not found', path: '/api/nope' }]);
    assert.equal(api.headers.get('ratelimit-limit'), '1000', 'the limiter runs before routing');
  });
});

describe('auth', () => {
  test('401 bodies for missing or bad tokens, 200 for a good one', async () => {
    const s = await standIn();
    const missing = { error: 'Missing or invalid Authorization header' };
    const invalid = { error: 'Invalid or expired token' };
    const cases: Array<[Record<string, string>, unknown]> = [
      [{}, missing],
      [{ authorization: 'Basic dXNlcjpwYXNz' }, missing],
      [bearer('not-a-jwt'), invalid],
      [bearer(token({ sub: 'u', email: 'a@b.test' })), invalid],
      [bearer(token({ sub: 'u', email: 'a@b.test', app_metadata: { org_id: 'default' } })), invalid],
      [bearer(token({ sub: 'u', app_metadata: { org_id: 'org-1' } })), invalid],
    ];
    for (const path of ['/api/calls-dashboard', '/api/assistants']) {
      for (const [headers, body] of cases) {
        const res = await get(s, path, headers);
        assert.equal(res.status, 401, `${path} ${JSON.stringify(headers)}`);
        assert.deepEqual(res.body, body);
      }
      assert.equal((await get(s, path, bearer(GOOD))).status, 200);
    }
    // The backend checks neither the signature nor exp.
    const expired = token({ sub: 'u', email: 'a@b.test', app_metadata: { org_id: 'o' }, exp: now() - 60 });
    assert.equal((await get(s, '/api/assistants', bearer(expired))).status, 200);

    const log = s.stats().log;
    assert.ok(log.some((e) => e.auth === 'bearer' && e.email === 'load@voxanne.test' && e.orgId === 'org-42' && e.sub === 'user-1'));
    assert.ok(!JSON.stringify(log).includes(GOOD), 'the log never holds a token');
  });

  test('checkTokenExpiry rejects expired tokens; developmentMode opens calls-dashboard only', async () => {
    const strict = await standIn({ checkTokenExpiry: true });
    const expired = token({ sub: 'u', email: 'a@b.test', app_metadata: { org_id: 'o' }, exp: now() - 60 });
    const res = await get(strict, '/api/calls-dashboard', bearer(expired));
    assert.deepEqual([res.status, res.body], [401, { error: 'Invalid or expired token' }]);
    assert.equal((await get(strict, '/api/calls-dashboard', bearer(GOOD))).status, 200);

    const dev = await standIn({ developmentMode: true });
    assert.equal((await get(dev, '/api/calls-dashboard')).status, 200);
    assert.equal((await get(dev, '/api/assistants')).status, 401);
  });
});

test('rate limiter: headers, 429 past the limit, /health exempt, 401s count', async () => {
  const s = await standIn({ rateLimit: { limit: 3, windowSeconds: 60 } });
  const first = await get(s, '/api/vapi/webhook/health');
  assert.equal(first.headers.get('ratelimit-policy'), '3;w=60');
  assert.equal(first.headers.get('ratelimit-limit'), '3');
  assert.equal(first.headers.get('ratelimit-remaining'), '2');
  assert.ok(Number(first.headers.get('ratelimit-reset')) > 0 && Number(first.headers.get('ratelimit-reset')) <= 60);
  assert.equal(first.headers.get('retry-after'), null);
  assert.equal((await get(s, '/api/calls-dashboard')).status, 401);
  for (let i = 0; i < 3; i++) assert.equal((await get(s, '/health')).status, 200);
  assert.equal((await get(s, '/')).status, 200);
  const third = await get(s, '/api/assistants');
  assert.equal(third.status, 401);
  assert.equal(third.headers.get('ratelimit-remaining'), '0');

  const limited = await get(s, '/api/vapi/webhook/health');
  assert.equal(limited.status, 429);
  const retry = limited.headers.get('retry-after');
  assert.ok(retry && Number(retry) > 0 && Number(retry) <= 60);
  assert.deepEqual(limited.body, {
    error: 'Too many requests',
    message: 'Rate limit exceeded. Please try again later.',
    retryAfter: retry,
  });
  assert.equal((await get(s, '/health')).status, 200);
  // Keyed by client IP (last X-Forwarded-For entry): another address has its own window.
  const other = await get(s, '/api/vapi/webhook/health', { 'x-forwarded-for': '203.0.113.9, 198.51.100.7' });
  assert.equal(other.status, 200);
  assert.equal(other.headers.get('ratelimit-remaining'), '2');
});

describe('faults', () => {
  test('errorRate 1: 500 everywhere except /health', async () => {
    const s = await standIn({ errorRate: 1 });
    assert.equal((await get(s, '/health')).status, 200);
    const root = await get(s, '/');
    assert.deepEqual([root.status, root.body], [500, { error: 'Internal server error' }]);
    assert.equal((await get(s, '/api/vapi/webhook/health')).status, 500);
    assert.equal((await get(s, '/api/assistants', bearer(GOOD))).status, 500);
    const calls = await get(s, '/api/calls-dashboard', bearer(GOOD));
    assert.equal(calls.status, 500);
    assert.equal(calls.body.error, 'Failed to fetch calls');
    assert.equal(calls.body.code, 'INTERNAL_ERROR');
    assert.match(calls.body.request_id, UUID);
    assert.deepEqual(s.stats().byStatus, { '200': 1, '500': 4 });
  });

  test('redisDown: /health 200, rate-limited /api requests 500 "Connection is closed."', async () => {
    const s = await standIn({ redisDown: true });
    assert.equal((await get(s, '/health')).status, 200);
    assert.equal((await get(s, '/')).status, 200);
    for (const path of ['/api/vapi/webhook/health', '/api/calls-dashboard', '/api/assistants', '/api/nope']) {
      const res = await get(s, path, bearer(GOOD));
      assert.deepEqual([res.status, res.body], [500, { error: 'Connection is closed.' }], path);
    }
  });

  test('voiceApiDown: /api/assistants answers 200 {"assistants":[]}', async () => {
    const s = await standIn({ voiceApiDown: true });
    const res = await get(s, '/api/assistants', bearer(GOOD));
    assert.deepEqual([res.status, res.body], [200, { assistants: [] }]);
  });

  test('healthDegraded after 0.3 s: 503 "degraded", database false', async () => {
    const s = await standIn({ healthDegraded: { afterSeconds: 0.3 } });
    assert.equal((await get(s, '/health')).status, 200);
    await new Promise((r) => setTimeout(r, 350));
    const res = await get(s, '/health');
    assert.equal(res.status, 503);
    assert.equal(res.body.status, 'degraded');
    assert.equal(res.body.services.database, false);
    assert.ok('timestamp' in res.body && 'uptime' in res.body && 'queueMetrics' in res.body);
    assert.equal((await get(s, '/')).status, 200);
  });

  test('resetRate 1 resets the connection; garbageRate 1 answers HTML; /health untouched', async () => {
    const reset = await standIn({ resetRate: 1 });
    await assert.rejects(fetch(reset.url + '/'), TypeError);
    assert.equal((await get(reset, '/health')).status, 200);
    assert.equal(reset.stats().log[0].status, null);

    const garbage = await standIn({ garbageRate: 1 });
    const res = await get(garbage, '/api/vapi/webhook/health');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    assert.equal(res.text, '<html>upstream error</html>');
    assert.equal((await get(garbage, '/health')).body.status, 'ok');
  });

  test('close() does not hang on a hung request', async () => {
    const s = await startStandIn({ latencyScale: 0, hangRate: 1 });
    const pending = fetch(s.url + '/api/vapi/webhook/health').then(
      () => 'answered',
      () => 'failed',
    );
    assert.equal((await get(s, '/health')).status, 200);
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    await s.close();
    assert.ok(Date.now() - started < 1000);
    assert.equal(await pending, 'failed');
    const hung = s.stats().log.find((e) => e.path === '/api/vapi/webhook/health');
    assert.equal(hung?.status, null);
  });

  test('closeAfterSeconds stops the target mid-run', async () => {
    // Judged by when it closed, not by a request racing the close on a busy machine.
    const started = Date.now();
    const s = await standIn({ closeAfterSeconds: 0.3 });
    await s.closed; // by itself: nothing here calls close()
    assert.ok(Date.now() - started >= 290, `closed after ${Date.now() - started} ms, not 300`);
    await assert.rejects(fetch(s.url + '/'), TypeError);
  });

  test('refuses a non-loopback host', async () => {
    await assert.rejects(startStandIn({ host: '0.0.0.0' }), /not a loopback address/);
    const local = await standIn({ host: 'localhost' });
    assert.equal((await get(local, '/')).status, 200);
  });
});

describe('latency', () => {
  test('drawn latencies match the baseline p50/p95 within 15%', () => {
    const random = mulberry32(7);
    for (const { name, baseline } of loadContract().endpoints) {
      const draws = Array.from({ length: 4000 }, () => latencyQuantileMs(baseline, random())).sort((a, b) => a - b);
      const at = (q: number) => draws[Math.floor(q * (draws.length - 1))];
      for (const [q, expected] of [
        [0.5, baseline.p50],
        [0.95, baseline.p95],
      ] as const) {
        assert.ok(Math.abs(at(q) - expected) <= expected * 0.15, `${name} p${q * 100}: ${at(q).toFixed(1)} vs ${expected}`);
      }
    }
  });

  test('slow and extraLatencyMs delay responses; latencyScale applies the baseline', async () => {
    const s = await standIn({ slow: { assistants: 250 }, extraLatencyMs: 20 });
    let t = Date.now();
    await get(s, '/api/assistants', bearer(GOOD));
    const slowed = Date.now() - t;
    assert.ok(slowed >= 265, `slow assistants took ${slowed} ms`);
    t = Date.now();
    await get(s, '/');
    const root = Date.now() - t;
    // Only the extra 20 ms: judged against the slowed request, not a wall-clock bound a busy machine can pass.
    assert.ok(root >= 18 && root < slowed, `root took ${root} ms, the slowed assistants ${slowed} ms`);

    const real = await standIn({ latencyScale: 1 });
    t = Date.now();
    await get(real, '/api/calls-dashboard', bearer(GOOD));
    const calls = Date.now() - t;
    const { p50, p99 } = loadContract().endpoints.find((e) => e.name === 'calls_dashboard')!.baseline;
    assert.ok(calls >= p50 / 3 - 2 && calls <= p99 * 1.2 + 100, `calls-dashboard took ${calls} ms`);
  });

  test('keep-alive: sequential requests reuse connections', async () => {
    const s = await standIn();
    for (let i = 0; i < 10; i++) await get(s, '/health');
    const stats = s.stats();
    assert.equal(stats.requests, 10);
    assert.deepEqual(stats.byPath, { '/health': 10 });
    assert.deepEqual(stats.byStatus, { '200': 10 });
    // fetch (undici) may open a second socket, but never one per request.
    assert.ok(stats.maxOpenConnections <= 2, `${stats.maxOpenConnections} connections for 10 requests`);
    assert.ok(stats.connections.length >= 1);
  });
});

test('sign-in stand-in speaks GoTrue password and refresh grants', async () => {
  const signIn = await startSignInStandIn({ email: 'load@voxanne.test', password: 's3cret', anonKey: 'anon-key', orgId: 'org-7', ttlSeconds: 600 });
  try {
    const post = async (grant: string, body: unknown, apikey = 'anon-key') => {
      const res = await fetch(`${signIn.url}/auth/v1/token?grant_type=${grant}`, {
        method: 'POST',
        headers: { apikey, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: await res.json() };
    };
    const ok = await post('password', { email: 'load@voxanne.test', password: 's3cret' });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.token_type, 'bearer');
    assert.equal(ok.body.expires_in, 600);
    assert.equal(ok.body.user.email, 'load@voxanne.test');
    assert.equal(ok.body.user.app_metadata.org_id, 'org-7');
    const claims = decodeJwt(ok.body.access_token);
    assert.equal(claims?.email, 'load@voxanne.test');
    assert.equal(claims?.role, 'authenticated');
    assert.equal(claims?.aud, 'authenticated');
    assert.equal(claims?.app_metadata?.org_id, 'org-7');
    assert.equal(claims?.exp, ok.body.expires_at);
    assert.ok(Math.abs((claims?.exp ?? 0) - now() - 600) <= 2);

    // Its token is accepted by the stand-in backend.
    const s = await standIn();
    assert.equal((await get(s, '/api/assistants', bearer(ok.body.access_token))).status, 200);

    const wrong = await post('password', { email: 'load@voxanne.test', password: 'nope' });
    assert.deepEqual(wrong, { status: 400, body: { code: 400, error_code: 'invalid_credentials', msg: 'Invalid login credentials' } });
    const badKey = await post('password', { email: 'load@voxanne.test', password: 's3cret' }, 'wrong');
    assert.deepEqual(badKey, { status: 401, body: { message: 'Invalid API key' } });

    const refreshed = await post('refresh_token', { refresh_token: ok.body.refresh_token });
    assert.equal(refreshed.status, 200);
    assert.notEqual(refreshed.body.refresh_token, ok.body.refresh_token);
    assert.equal(typeof refreshed.body.access_token, 'string');
    const reused = await post('refresh_token', { refresh_token: ok.body.refresh_token });
    assert.deepEqual(reused, {
      status: 400,
      body: { code: 400, error_code: 'refresh_token_not_found', msg: 'Invalid Refresh Token: Refresh Token Not Found' },
    });
    assert.deepEqual(signIn.stats(), { passwordGrants: 1, refreshGrants: 1, failures: 3 });
  } finally {
    await signIn.close();
  }
});

describe('cli', () => {
  const cli = (args: string[], node = process.execPath) => spawn(node, ['bin/pack.js', 'standin', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const collect = (child: ReturnType<typeof cli>) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    return { done, out: () => stdout, err: () => stderr };
  };

  test("a bad value exits 2 with one line naming the flag; start line and SIGTERM (to the command's own process) exit 0", async () => {
    const bad = collect(cli(['--error-rate', 'x']));
    const unknown = collect(cli(['--bogus']));
    // Started as a person starts it, with the machine's Node: on an older Node, through bin/pack.js's re-run, which passes the SIGTERM on.
    const good = cli(['--port', '0', '--redis-down', '--seed', '1'], machineNode());
    const running = collect(good);

    assert.equal(await bad.done, 2);
    assert.equal(bad.err(), 'error: --error-rate must be a number between 0 and 1 (got "x")\n');
    assert.equal(bad.out(), '');
    assert.equal(await unknown.done, 2);
    assert.match(unknown.err(), /^error: unknown flag --bogus[^\n]*\n$/);

    const deadline = Date.now() + 15_000;
    while (!running.out().includes('\n') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.match(running.out(), /^stand-in Voxanne backend listening on http:\/\/127\.0\.0\.1:\d+ \(faults: redis down; seed 1\)\n/);
    const url = /http:\/\/\S+/.exec(running.out())?.[0] ?? '';
    assert.equal((await fetch(url + '/health')).status, 200);
    good.kill('SIGTERM');
    assert.equal(await running.done, 0);
    assert.equal(running.err(), '');
  });
});

describe('known capacity', () => {
  test('options are checked once for the API and the CLI', async () => {
    await assert.rejects(startStandIn({ capacity: { concurrency: 0, serviceMs: 50 } }), /^Error: capacity\.concurrency must be an integer >= 1 \(got 0\)$/);
    await assert.rejects(startStandIn({ errorRate: 2 }), /errorRate must be a number between 0 and 1 \(got 2\)/);
    const cli = (args: string[]) =>
      new Promise<{ code: number | null; err: string }>((resolve) => {
        const child = spawn(process.execPath, ['bin/pack.js', 'standin', ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        child.stderr.on('data', (d) => (err += d));
        child.on('close', (code) => resolve({ code, err }));
      });
    const [zero, alone, slow] = await Promise.all([cli(['--capacity', '0', '--service-ms', '50']), cli(['--capacity', '4']), cli(['--slow', 'nope=5'])]);
    assert.deepEqual(zero, { code: 2, err: 'error: --capacity must be an integer >= 1 (got "0")\n' });
    assert.deepEqual(alone, { code: 2, err: 'error: --capacity and --service-ms go together; give both, e.g. --capacity 4 --service-ms 50\n' });
    assert.equal(slow.code, 2);
    assert.match(slow.err, /^error: --slow: unknown request name "nope"; use one of health, root/);
  });
});
