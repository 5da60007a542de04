// The preflight tells a broken API from a flaky one: it samples /api until one answer works, and
// only an API that fails every sample stops the run. A refused token, refused headers and a used-up
// rate limit still decide at once. Small servers on loopback count every request they were sent.
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, test } from 'node:test';
import { loadContract } from '../src/catalog/config';
import { API_SAMPLES } from '../src/checks/health';
import { runPreflight } from '../src/artillery/preflight';
import { runConfigFromPlan } from '../src/artillery/write-run-config';
import { resolvePlan } from '../src/plan/resolve';
import { signIn } from '../src/checks/signin';
import { mulberry32 } from '../src/standin/faults';
import { signJwt } from '../src/common/jwt';
import { startStandIn } from '../src/standin/server';
import { cleanEnv, countingServer, QUICK, runPack } from './helpers';

const HEALTH = JSON.stringify(loadContract().endpoints.find((e) => e.path === '/health')!.example);
const RATE_LIMIT = { 'ratelimit-policy': '1000;w=3600', 'ratelimit-limit': '1000', 'ratelimit-remaining': '990', 'ratelimit-reset': '3000' };

/** A backend whose /api answers `failure` (status, body) whenever `fails()` says so, and the contract's bodies otherwise. */
function backend(fails: (req: IncomingMessage) => boolean, failure = { status: 500, body: '{"error":"Failed to fetch calls","code":"INTERNAL_ERROR"}' }) {
  const bodies = Object.fromEntries(loadContract().endpoints.map((e) => [e.path, JSON.stringify(e.example)]));
  return (req: IncomingMessage, _body: string, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    const api = path.startsWith('/api');
    const [status, body] =
      path === '/health'
        ? [200, HEALTH]
        : api && fails(req)
          ? [failure.status, failure.body]
          : [bodies[path] ? 200 : 404, bodies[path] ?? '{"error":"Not found"}'];
    res.writeHead(status, { 'content-type': 'application/json', ...(api && RATE_LIMIT) }).end(body);
  };
}

/** The run's configuration for a quick run against `url` (development token), as the pack writes it. */
const configFor = async (url: string) => runConfigFromPlan(await resolvePlan([...QUICK, '--base-url', url, '--dry-run'], cleanEnv()));
const apiRequests = (paths: string[]) => paths.filter((p) => p.startsWith('/api')).length;

describe('a preflight that samples', { concurrency: true }, () => {
  test('25 % random 500s: 50 preflights, none refused; every /api request counted', async () => {
    const random = mulberry32(25);
    const server = await countingServer(backend(() => random() < 0.25));
    try {
      const config = await configFor(server.url);
      const events = [];
      for (let i = 0; i < 50; i++) events.push(await runPreflight(server.url, config));
      assert.deepEqual(
        events.filter((e) => e.verdict !== 'go').map((e) => e.verdict),
        [],
        'no preflight refused',
      );
      const sent = events.map((e) => e.api?.sent ?? 0);
      assert.equal(
        apiRequests(server.paths),
        sent.reduce((a, b) => a + b, 0),
        'the preflight says how many /api requests it sent',
      );
      assert.ok(sent.every((n) => n >= 1 && n <= API_SAMPLES));
      const flaky = events.filter((e) => e.api?.failures?.length);
      assert.ok(flaky.length > 0, 'some preflights met a 500 first');
      assert.ok(flaky.every((e) => e.api!.ok && e.api!.failures!.every((f) => f.status === 500)));
    } finally {
      await server.close();
    }
  });

  test('a healthy API costs one /api request', async () => {
    const server = await countingServer(backend(() => false));
    try {
      const event = await runPreflight(server.url, await configFor(server.url));
      assert.equal(event.verdict, 'go');
      assert.equal(apiRequests(server.paths), 1);
      assert.equal(event.api?.failures, undefined);
    } finally {
      await server.close();
    }
  });

  test(`every /api request 500: refused after ${API_SAMPLES} samples`, async () => {
    const server = await countingServer(backend(() => true));
    try {
      const event = await runPreflight(server.url, await configFor(server.url));
      assert.equal(event.verdict, 'api-failing');
      assert.equal(event.api?.sent, API_SAMPLES);
      assert.equal(apiRequests(server.paths), API_SAMPLES);
    } finally {
      await server.close();
    }
  });

  test('a degraded /health at start: unhealthy, and only /health is asked', async () => {
    const standIn = await startStandIn({ healthDegraded: true });
    try {
      const event = await runPreflight(standIn.url, await configFor(standIn.url));
      assert.equal(event.verdict, 'unhealthy');
      assert.deepEqual(Object.keys(standIn.stats().byPath), ['/health']);
    } finally {
      await standIn.close();
    }
  });

  for (const [what, status, verdict] of [
    ['a rejected token (401)', 401, 'auth-rejected'],
    ['refused headers (431)', 431, 'headers-rejected'],
    ['refused headers (413)', 413, 'headers-rejected'],
  ] as const) {
    test(`${what} stops at once: one /api request`, async () => {
      const server = await countingServer(backend(() => true, { status, body: '{"error":"Invalid or expired token"}' }));
      try {
        const event = await runPreflight(server.url, await configFor(server.url));
        assert.equal(event.verdict, verdict);
        assert.equal(apiRequests(server.paths), 1);
      } finally {
        await server.close();
      }
    });
  }

  test('a token with no org_id claim, refused (401): the preflight names the claim', async () => {
    const token = signJwt({ sub: 'u', email: 'ops@example.com', exp: Math.floor(Date.now() / 1000) + 3600 }, 'k');
    const server = await countingServer(backend(() => true, { status: 401, body: '{"error":"Invalid or expired token"}' }));
    try {
      const config = runConfigFromPlan(await resolvePlan([...QUICK, '--base-url', server.url, '--dry-run'], cleanEnv({ API_TOKEN: token })));
      process.env.API_TOKEN = token; // token mode: the worker reads it from its environment, as a run's workers do
      const event = await runPreflight(server.url, config).finally(() => delete process.env.API_TOKEN);
      assert.equal(event.verdict, 'auth-rejected');
      assert.match(event.message ?? '', /answered 401 to the run's token: the token has no app_metadata\.org_id claim/);
      assert.equal(apiRequests(server.paths), 1);
    } finally {
      await server.close();
    }
  });

  test('production: a run that would exceed what is left of the rate limit is refused unless confirmed', async () => {
    const standIn = await startStandIn({ rateLimit: { limit: 30, windowSeconds: 3600 } });
    try {
      const config = runConfigFromPlan(await resolvePlan([...QUICK, '--env', 'prod', '--allow-http', '--base-url', standIn.url, '--dry-run'], cleanEnv()));
      const event = await runPreflight(standIn.url, config);
      assert.equal(event.verdict, 'over-limit');
      assert.match(event.message ?? '', /^against production any overrun needs a confirmation: add --yes/);
    } finally {
      await standIn.close();
    }
  });

  test('a used-up rate limit (429) decides at once: one /api request, the run refused as over the limit', async () => {
    const limited = { status: 429, body: '{"error":"Too many requests","message":"Rate limit exceeded. Please try again later.","retryAfter":"3000"}' };
    const server = await countingServer((req, body, res) => {
      if (req.url?.startsWith('/api')) {
        res.writeHead(429, { 'content-type': 'application/json', ...RATE_LIMIT, 'ratelimit-remaining': '0', 'retry-after': '3000' }).end(limited.body);
        return;
      }
      backend(() => false)(req, body, res);
    });
    try {
      const event = await runPreflight(server.url, await configFor(server.url));
      assert.equal(event.verdict, 'over-limit');
      assert.equal(apiRequests(server.paths), 1);
    } finally {
      await server.close();
    }
  });

  test('a sign-in that answers with a redirect: not followed, named with where it points, exit-2 message', async () => {
    const elsewhere = await countingServer();
    const auth = await countingServer((req, _body, res) => res.writeHead(307, { location: `${elsewhere.url}${req.url}` }).end());
    try {
      const err = await signIn({ SUPABASE_URL: auth.url, SUPABASE_ANON_KEY: 'anon', LOAD_TEST_EMAIL: 'a@example.com', LOAD_TEST_PASSWORD: 'pw-secret-1' }).then(
        () => assert.fail('sign-in should fail'),
        (e: Error) => e,
      );
      assert.equal(
        err.message,
        `sign-in failed: SUPABASE_URL answered 307, a redirect to ${elsewhere.url}/auth/v1/token?grant_type=password; not followed: set SUPABASE_URL to the project's own URL`,
      );
      assert.equal(auth.requests(), 1);
      assert.equal(elsewhere.requests(), 0, 'the password never went on');
    } finally {
      await auth.close();
      await elsewhere.close();
    }
  });
});

// A broken API (every /api request 500) in a whole run: refused, exit 3, no load, the samples and the
// Redis hint printed: the api-failing recording in decisions.test.ts; the samples the server is sent
// ("every /api request 500" above, against a real server).
describe('whole runs', { concurrency: true }, () => {
  test('a flaky API (25 % random 500s from the start) runs, and the error-rate gate fails it: exit 1', async () => {
    const random = mulberry32(4);
    // The preflight's first /api request fails and its second works, so it meets the flakiness itself.
    let n = 0;
    const server = await countingServer(backend(() => (++n <= 2 ? n === 1 : random() < 0.25)));
    try {
      const r = await runPack('run', QUICK, { BASE_URL: server.url });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout, /FAIL\s+HTTP error rate/);
      assert.match(r.stdout, /Preflight: 1 of 2 \/api requests failed \(500\) before one answered 200: a flaky API, not a broken one/);
      assert.equal(r.record?.apiCheck?.failures?.length, 1);
      assert.doesNotMatch(r.stdout, /Redis|API failing/);
      assert.ok(
        server.paths.some((p) => p.startsWith('/api') && p !== '/api/calls-dashboard?limit=1'),
        'the load was sent',
      );
    } finally {
      await server.close();
    }
  });
});
