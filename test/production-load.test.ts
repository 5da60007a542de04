// Safe and truthful under load against a shared, rate-limited backend: rate limits and broken
// targets. Every target here is a stand-in on loopback. The breaker stopping a real run is in
// signals.test.ts, with the other ways a run ends. The decisions of recorded runs (over the limit and
// warned, refused locally below half of it, --yes --count-429, the breaker on a bad /health, hung
// requests timing out, resets and non-JSON bodies counted by kind) are tested in decisions.test.ts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { startStandIn, type StandInOptions } from '../src/standin/server';
import { againstStandIn, loadRequests, QUICK, runPack } from './helpers';
import { packInProcess } from './in-process';

const against = (options: StandInOptions, args: string[], env: Record<string, string> = {}) => againstStandIn(options, args, env, 11);

describe('under production-like load', { concurrency: true }, () => {
  describe('rate limits', { concurrency: true }, () => {
    // Production refuses a run that would exceed what is left unless confirmed: the verdict and its
    // message in preflight.test.ts; refused, exit 2 and no load: the over-limit recording.

    test('--spread-ips measures past the limit on loopback, and the report says so', async () => {
      const r = await against({ rateLimit: { limit: 30, windowSeconds: 3600 } }, ['--spread-ips']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal(r.record!.rateLimit.limited, 0);
      assert.equal(r.record!.rateLimit.spreadIps, true);
      assert.match(r.stdout, /--spread-ips was used/);
      assert.match(readFileSync(join(r.dir!, 'report.html'), 'utf8'), /spread-ips/);
    });

    test('--spread-ips is refused for any target that is not loopback, before anything is sent', async () => {
      // Dry runs: the refusal comes first, and a dry run sends nothing even where it is accepted.
      for (const url of ['https://voxanne-backend.onrender.com', 'http://10.0.0.5:3001', 'http://192.168.1.2', 'http://example.com']) {
        const r = await packInProcess('run', ['--env', 'local', '--base-url', url, '--spread-ips', '--dry-run']);
        assert.equal(r.code, 2, `${url}: ${r.stdout}${r.stderr}`);
        assert.equal(r.stderr, `error: --spread-ips only works against a backend on this machine (localhost, 127.0.0.1, ::1), not ${url}\n`);
        assert.equal(r.stdout, '', url);
      }
      for (const url of ['http://localhost:3001', 'http://127.0.0.1:9', 'http://[::1]:3001']) {
        const r = await packInProcess('run', ['--env', 'local', '--base-url', url, '--spread-ips', '--dry-run']);
        assert.equal(r.code, 0, `${url}: ${r.stdout}${r.stderr}`);
        assert.doesNotMatch(r.stderr, /spread-ips/, url);
      }
    });
  });

  describe('timeouts and broken targets', { concurrency: true }, () => {
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
      assert.ok(dying.record.totals.errors.transport > 0);
      assert.doesNotMatch(dying.stderr, /unexpected|at .*\.js:\d+/);
    });
  });
});
