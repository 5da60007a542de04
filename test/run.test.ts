// The guide's test end to end: real Artillery, driven by the pack's command line, against the
// stand-in backend on loopback. Assertions are what a user sees: exit code, summary, run record,
// and what the target received. The other verdicts (a slow endpoint, --strict budgets, the target
// down, /health failing after the load) are judged on recorded runs in decisions.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { signJwt } from '../src/common/jwt';
import { loadContract } from '../src/catalog/config';
import { startStandIn, type StandInOptions } from '../src/standin/server';
import { againstStandIn, loadRequests, QUICK } from './helpers';
import { packInProcess } from './in-process';
import { DEV_ORG, healthyThenFailing } from './shared-runs';

const against = (options: StandInOptions, args: string[], env: Record<string, string> = {}) => againstStandIn(options, args, env, 7);

describe("the guide's test, end to end", { concurrency: true }, () => {
  describe('verdicts', { concurrency: true }, () => {
    test('a healthy backend passes every gate: exit 0, every endpoint of the catalog requested', async () => {
      const r = (await healthyThenFailing()).healthy;
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /PASSED: Every gate passed/);
      for (const { path } of loadContract().endpoints) {
        assert.ok((r.stats.byPath[path] ?? 0) > 0, `${path} was requested`);
        assert.match(r.stdout, new RegExp(`GET ${path.replace(/\//g, '\\/')}\\s+\\d+ req\\s+0 err`));
      }
      assert.equal(r.record?.outcome, 'passed');
      assert.ok(r.record.gates.every((g) => g.passed));
      assert.match(r.stdout, /http_req_duration\.+: avg=[\d.]+ms min=/);
    });

    test('15 % server errors fail the error-rate gate: exit 1', async () => {
      const r = (await healthyThenFailing()).failing;
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout, /FAIL\s+HTTP error rate/);
      assert.match(r.stdout, /Gate failed: HTTP error rate/);
      assert.ok(r.record!.totals.errors.http5xx > 0);
      assert.doesNotMatch(r.stdout + r.stderr, /exit 21/);
    });
  });

  // Degraded /health at start (exit 3, the failing service named, no load): the health-degraded
  // recording in decisions.test.ts; that only /health is asked: preflight.test.ts, against the stand-in.

  describe('bad input', { concurrency: true }, () => {
    test('unknown profile: exit 2, one line naming the choices, nothing sent', async () => {
      const standIn = await startStandIn({ latencyScale: 0.2, seed: 7 });
      try {
        const r = await packInProcess('run', [...QUICK, '--profile', 'huge'], { BASE_URL: standIn.url });
        assert.equal(r.code, 2);
        assert.equal(r.stderr.trim(), 'error: unknown profile "huge"; choose one of: standard, conservative, aggressive, spike, smoke, soak, capacity');
        assert.equal(standIn.stats().requests, 0);
      } finally {
        await standIn.close();
      }
    });
  });

  describe('auth modes', { concurrency: true }, () => {
    test('API_TOKEN is sent as Bearer on the authenticated endpoints only', async () => {
      const token = signJwt({ sub: 'u-1', email: 'ops@example.com', app_metadata: { org_id: 'org-42' }, exp: Math.floor(Date.now() / 1000) + 3600 }, 'k');
      const r = await against({}, [], { API_TOKEN: token });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /auth: API_TOKEN \(user ops@example\.com, org org-42\)/);
      const log = r.standIn.stats().log;
      assert.ok(log.filter((e) => e.path === '/api/assistants').every((e) => e.orgId === 'org-42'));
      assert.ok(log.filter((e) => e.path === '/').every((e) => e.auth === 'none'));
      assert.ok(!r.stdout.includes(token) && !r.stderr.includes(token));
    });

    test('with API_TOKEN, a token the backend refuses stops the run before the load: exit 2, the claim named', async () => {
      const token = signJwt({ sub: 'u-1', email: 'ops@example.com', app_metadata: { org_id: 'default' } }, 'k');
      const r = await against({}, [], { API_TOKEN: token });
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stdout, /answered 401 to the run's token: the token's org_id is "default", which the backend refuses/);
      assert.equal(r.record?.outcome, 'refused');
      assert.deepEqual(loadRequests(r.standIn), []);
    });

    test('local without a token sends a development token with the configured org', async () => {
      const r = (await healthyThenFailing()).healthy; // DEV_ORG_ID set
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, new RegExp(`auth: development token \\(org ${DEV_ORG}`));
      const calls = r.stats.log.filter((e) => e.path === '/api/calls-dashboard');
      assert.ok(calls.length > 0 && calls.every((e) => e.orgId === DEV_ORG && e.status === 200));
    });

    test('prod without a token probes the authenticated endpoints and expects 401', async () => {
      const r = await against({}, ['--env', 'prod', '--allow-http']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /auth: no token: authenticated endpoints probed unauthenticated, expecting 401/);
      const api = r.standIn.stats().log.filter((e) => e.path === '/api/assistants');
      assert.ok(api.length > 0 && api.every((e) => e.auth === 'none' && e.status === 401));
      assert.equal(r.record!.totals.errorCount, 0);
    });
  });
});
