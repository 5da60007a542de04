// Safe and truthful under load against a shared, rate-limited backend: rate limits, the breaker and
// broken targets. Every target here is a stand-in on loopback.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { isLoopback } from '../src/plan/options';
import { startStandIn, type StandInOptions } from '../src/standin/server';
import { againstStandIn, loadRequests, QUICK, runPack } from './helpers';

const against = (options: StandInOptions, args: string[], env: Record<string, string> = {}) => againstStandIn(options, args, env, 11);

/** A production-like run against a loopback stand-in: the prod environment's rules, a local address. */
const PROD_LIKE = ['--env', 'prod', '--allow-http'];

describe('under production-like load', { concurrency: true }, () => {
  describe('rate limits', { concurrency: true }, () => {
    test('over the limit locally: warned before the load, 429s counted apart, the rate-limit gate fails', async () => {
      const r = await against({ rateLimit: { limit: 30, windowSeconds: 3600 } }, []);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      const warning = r.stdout.indexOf('Rate limit: this run would send about');
      assert.ok(warning >= 0 && warning < r.stdout.indexOf('users '), 'the warning comes before the load');
      assert.match(r.stdout, /Would fit: .*--time-scale/);
      assert.match(r.stdout, /rate limited: \d+ requests, policy 30 per hour\. This is the backend's rate limiter, not overload \(left out of the error rate\)\. Its window resets at \d\d:\d\d UTC/);
      assert.match(r.stdout, /FAIL\s+Rate limited/);
      assert.match(r.stdout, /PASS\s+HTTP error rate\s+0 %/);
      assert.ok(r.record!.rateLimit.limited > 0);
      assert.equal(r.record!.rateLimit.atStart?.limit, 30);
      assert.ok(r.record!.endpoints.find((e) => e.name === 'assistants')!.errors.rateLimited > 0);
    });

    test('locally, a rate limit that leaves less than half of the run stops it before the load, naming the ways out', async () => {
      const r = await against({ rateLimit: { limit: 10, windowSeconds: 3600 } }, []);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stdout, /only 9 of 10 per hour are left \(the window resets at \d\d:\d\d UTC\)/);
      assert.match(r.stdout, /Would fit: .*--time-scale [\d.]+, --spread-ips \(a backend on this machine\)/);
      assert.match(r.stdout, /Not starting the load: less than half of the run is left in the rate limit/);
      assert.deepEqual(loadRequests(r.standIn), [], 'only the preflight reached the target');
    });

    test('--yes goes ahead all the same; --count-429 puts the 429s in the error rate instead', async () => {
      const r = await against({ rateLimit: { limit: 10, windowSeconds: 3600 } }, ['--yes', '--count-429']);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.ok(loadRequests(r.standIn).length > 0, 'the load was sent');
      assert.match(r.stdout, /FAIL\s+HTTP error rate/);
      assert.doesNotMatch(r.stdout, /Rate limited  /);
      assert.match(r.stdout, /\(counted as errors: --count-429\)/);
    });

    test('production refuses a run that would exceed what is left, unless confirmed', async () => {
      const r = await against({ rateLimit: { limit: 30, windowSeconds: 3600 } }, PROD_LIKE);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stdout, /Not starting the load: against production any overrun needs a confirmation: add --yes/);
      assert.equal(r.record?.outcome, 'refused');
      assert.deepEqual(loadRequests(r.standIn), [], 'only the preflight reached the target');
    });

    test('--spread-ips measures past the limit on loopback, and the report says so', async () => {
      const r = await against({ rateLimit: { limit: 30, windowSeconds: 3600 } }, ['--spread-ips']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal(r.record!.rateLimit.limited, 0);
      assert.equal(r.record!.rateLimit.spreadIps, true);
      assert.match(r.stdout, /--spread-ips was used/);
      assert.match(readFileSync(join(r.dir!, 'report.html'), 'utf8'), /spread-ips/);
    });

    test('--spread-ips is refused for any target that is not loopback', () => {
      for (const url of ['https://voxanne-backend.onrender.com', 'http://10.0.0.5:3001', 'http://192.168.1.2', 'http://example.com']) {
        assert.equal(isLoopback(url), false, url);
      }
      for (const url of ['http://localhost:3001', 'http://127.0.0.1:9', 'http://[::1]:3001']) assert.equal(isLoopback(url), true, url);
    });
  });

  describe('breaker', { concurrency: true }, () => {
    test('/health going bad mid-run stops the load early: aborted, exit 1', async () => {
      const r = await against({ healthDegraded: { afterSeconds: 5, fromRequest: 3 } }, [...PROD_LIKE, '--profile', 'smoke', '--time-scale', '1']);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.equal(r.record?.outcome, 'aborted');
      assert.match(r.stdout, /Breaker: \/health went bad mid-run \(degraded: database down\)/);
      assert.ok(r.record!.totals.durationSeconds < 30, `stopped after ${r.record!.totals.durationSeconds} s of 40`);
    });

    test('an error rate over the limit for 30 s stops the load early', async () => {
      const r = await against({ errorRate: 0.7, faultsAfterRequests: 2 }, [...PROD_LIKE, '--profile', 'smoke', '--time-scale', '1.5']);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.equal(r.record?.outcome, 'aborted');
      assert.match(r.record!.reason, /Stopped early by the breaker: \d+ % of requests failed or were rate limited over the last 30 s/);
    });
  });

  describe('timeouts and broken targets', { concurrency: true }, () => {
    test('hung requests time out per endpoint and fail the timeout gate; the record is written', async () => {
      const r = await against({ hangRate: 0.05 }, ['--timeout', '1']);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout, /FAIL\s+Timeouts/);
      assert.ok(r.record!.totals.errors.timeout > 0);
      assert.ok(r.record!.endpoints.some((e) => e.errors.timeout > 0));
      assert.match(r.stdout, /Timeouts: \/api\//);
    });

    // (Apart from the hung ones: a reset ends its user's journey, and with 2 users no timeout would be left to see.)
    test('resets and non-JSON bodies are counted by kind; the pack never crashes', async () => {
      const broken = await against({ resetRate: 0.05, garbageRate: 0.05 }, []);
      assert.equal(broken.code, 1, broken.stdout + broken.stderr);
      assert.ok(broken.record!.totals.errors.transport > 0 && broken.record!.totals.errors.notJson > 0);
      assert.match(broken.stdout, /Bodies that are not JSON/);
    });

    test('a target that dies mid-run is counted; the pack never crashes', async () => {
      // The target dies once the load is well under way (20 load requests answered), not at a fixed time.
      const standIn = await startStandIn({ latencyScale: 0.2, seed: 11 });
      let ended = false;
      const running = runPack('run', QUICK, { BASE_URL: standIn.url }).finally(() => (ended = true));
      while (!ended && loadRequests(standIn).length < 20) await new Promise((r) => setTimeout(r, 50));
      await standIn.close();
      const dying = await running;
      assert.ok([1, 4].includes(dying.code!), dying.stdout + dying.stderr);
      assert.ok(dying.record, 'run.json was written');
      assert.ok(dying.record!.totals.errors.transport > 0);
      assert.doesNotMatch(dying.stderr, /unexpected|at .*\.js:\d+/);
    });
  });
});
