// Safe and truthful against a shared, rate-limited production backend: real tokens, secrets,
// guardrails, preflight and bad input (rate limits, the breaker and broken targets: production-load).
// Every target here is a stand-in on loopback; checks that name production only ever run with --dry-run or are refused
// before anything is sent.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { signJwt } from '../src/common/jwt';
import { startSignInStandIn } from '../src/standin/signin';
import { startStandIn, type StandInOptions } from '../src/standin/server';
import { againstStandIn, closedPort, QUICK, runPack } from './helpers';
import { packInProcess } from './in-process';

const against = (options: StandInOptions, args: string[], env: Record<string, string> = {}) => againstStandIn(options, args, env, 11);
const token = (claims: Record<string, unknown>) =>
  signJwt({ sub: 'u-7', email: 'qa@example.com', app_metadata: { org_id: 'org-7' }, ...claims }, 'test-secret');
const inHour = () => Math.floor(Date.now() / 1000) + 3600;

describe('before anything reaches production', { concurrency: true }, () => {
  describe('production guardrails and dry run', { concurrency: true }, () => {
    // All with --dry-run: even if a guardrail failed, nothing would be sent.
    test('prod refuses plain http://', async () => {
      const r = await packInProcess('run', ['--env', 'prod', '--dry-run'], { BASE_URL: 'http://backend.example.com' });
      assert.equal(r.code, 2);
      assert.equal(r.stderr.trim(), 'error: prod needs an https:// URL (got http://backend.example.com); pass --allow-http if plain http is really meant');
    });

    test('heavy profiles against prod need --yes or VOXANNE_CONFIRM=yes', async () => {
      for (const profile of ['aggressive', 'spike', 'soak']) {
        const r = await packInProcess('run', ['--env', 'prod', '--profile', profile, '--dry-run']);
        assert.equal(r.code, 2, profile);
        assert.match(r.stderr, new RegExp(`^error: profile ${profile} is heavy for the shared production backend; add --yes`));
      }
      const confirmed = await packInProcess('run', ['--env', 'prod', '--profile', 'spike', '--dry-run'], { VOXANNE_CONFIRM: 'yes' });
      assert.equal(confirmed.code, 0);
    });

    test('--spread-ips against production is refused', async () => {
      const r = await packInProcess('run', ['--env', 'prod', '--spread-ips', '--dry-run']);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /--spread-ips only works against a backend on this machine/);
    });

    test('test:prod --dry-run prints the whole plan and sends nothing', async () => {
      const r = await packInProcess('run', ['--env', 'prod', '--dry-run']);
      assert.equal(r.code, 0, r.stderr);
      for (const part of [
        /target: +https:\/\/voxanne-backend\.onrender\.com \(environment prod, production\)/,
        /profile: +standard/,
        /auth: +no token: authenticated endpoints probed unauthenticated, expecting 401/,
        /0:00 - 1:00 +0 -> 5 users/,
        /6:00 - 7:00 +10 -> 0 users/,
        /GET \/api\/assistants +~\d+/,
        /rate limit: +~\d+ \/api requests .* 1000 per 1 h per IP: exceeds it; the run will refuse to start unless confirmed/,
        /gate +p99 response time +< 1000 ms/,
        /breaker on/,
      ]) {
        assert.match(r.stdout, part);
      }
      assert.equal(r.dir, undefined, 'no run folder');
    });

    test('a dry run against a loopback target sends no request at all', async () => {
      const standIn = await startStandIn({ latencyScale: 0 });
      const r = await packInProcess('run', ['--dry-run'], { BASE_URL: standIn.url });
      await standIn.close();
      assert.equal(r.code, 0);
      assert.equal(standIn.stats().requests, 0);
    });
  });

  // /health ok but /api failing (Redis down), exit 3 with the body and no load: the api-failing recording, in decisions.test.ts.

  describe('real tokens', { concurrency: true }, () => {
    test('password sign-in, renewed before expiry in every worker: no 401s with 4 s tokens', async () => {
      const auth = await startSignInStandIn({ email: 'load@example.com', password: 'pw-123456', anonKey: 'anon-key-xyz', ttlSeconds: 4, orgId: 'org-si' });
      const r = await against({ checkTokenExpiry: true }, [], {
        SUPABASE_URL: auth.url,
        SUPABASE_ANON_KEY: 'anon-key-xyz',
        LOAD_TEST_EMAIL: 'load@example.com',
        LOAD_TEST_PASSWORD: 'pw-123456',
      });
      await auth.close();
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /auth: password sign-in as load@example\.com, renewed before expiry/);
      assert.ok(auth.stats().refreshGrants >= 2, `refreshed ${auth.stats().refreshGrants} times`);
      const api = r.standIn.stats().log.filter((e) => e.path === '/api/assistants');
      assert.ok(api.length > 0 && api.every((e) => e.status === 200 && e.orgId === 'org-si'));
    });
  });

  describe('secrets never leak', { concurrency: true }, () => {
    test('known secrets with failing expectations: not one byte of them in any output or file', async () => {
      const auth = await startSignInStandIn({
        email: 'secret-user@example.com',
        password: 'Sup3r-S3cret-Pa55',
        anonKey: 'anon-KEY-4242-secret',
        ttlSeconds: 5,
      });
      const reports = mkdtempSync(join(tmpdir(), 'voxanne-secrets-'));
      const env = {
        SUPABASE_URL: auth.url,
        SUPABASE_ANON_KEY: 'anon-KEY-4242-secret',
        LOAD_TEST_EMAIL: 'secret-user@example.com',
        LOAD_TEST_PASSWORD: 'Sup3r-S3cret-Pa55',
      };
      // Failing expectations once the load runs (the preflight itself must pass).
      const failing = async (runEnv: Record<string, string>) => {
        const standIn = await startStandIn({ latencyScale: 0.2, errorRate: 0.3, garbageRate: 0.1, faultsAfterRequests: 2 });
        const result = await runPack('run', [...QUICK, '--verbose'], { ...runEnv, BASE_URL: standIn.url }, { reportsDir: reports });
        await standIn.close();
        return result;
      };
      const apiToken = token({ exp: inHour() });
      // Side by side: each against its own stand-in, into the same reports folder (run folders never collide).
      const [signedIn, withToken] = await Promise.all([failing(env), failing({ API_TOKEN: apiToken })]);
      await auth.close();
      assert.equal(signedIn.code, 1);
      assert.equal(withToken.code, 1);
      assert.match(signedIn.stdout, /expectation failed/);
      const secrets = ['Sup3r-S3cret-Pa55', 'anon-KEY-4242-secret', apiToken, ...auth.issuedTokens()];
      assert.ok(auth.issuedTokens().length >= 4);
      const files = (dir: string): string[] => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : [join(dir, f)]));
      const written = files(reports);
      assert.ok(written.some((f) => f.endsWith('report.html')) && written.some((f) => f.endsWith('history.ndjson')));
      const outputs = [signedIn.stdout, signedIn.stderr, withToken.stdout, withToken.stderr, ...written.map((f) => readFileSync(f, 'latin1'))];
      for (const secret of secrets) {
        for (const [i, text] of outputs.entries()) assert.ok(!text.includes(secret), `a secret leaked into ${i < 4 ? 'the terminal' : written[i - 4]}`);
      }
    });
  });

  describe('bad input: one line, exit 2, nothing sent', { concurrency: true }, () => {
    const cases: Array<[string, string[], Record<string, string>, RegExp]> = [
      ['unknown environment', ['--env', 'staging'], {}, /^error: unknown environment "staging"; choose one of: local, prod$/],
      ['malformed BASE_URL', [], { BASE_URL: 'localhost:3001/api' }, /^error: BASE_URL must start with http:\/\/ or https:\/\/ \(got "localhost:"\)$/],
      ['BASE_URL not a URL', [], { BASE_URL: 'not a url' }, /^error: BASE_URL "not a url" is not a URL; use e\.g\. http:\/\/localhost:3001$/],
      ['bad time scale', ['--time-scale', 'fast'], {}, /^error: --time-scale must be a number above 0 and at most 100 \(got "fast"\)$/],
      ['zero time scale', ['--time-scale', '0'], {}, /^error: --time-scale must be a number above 0/],
      ['unknown option', ['--users', '5'], {}, /^error: unknown option --users; see --help for the options$/],
      [
        'API_TOKEN not a JWT',
        [],
        { API_TOKEN: 'abc123' },
        /^error: API_TOKEN is not a JWT \(three base64url parts\); copy the access token itself, without "Bearer "$/,
      ],
      ['API_TOKEN expired', [], { API_TOKEN: token({ exp: Math.floor(Date.now() / 1000) - 600 }) }, /^error: API_TOKEN expired 1\d min ago; get a fresh token/],
    ];
    for (const [name, args, env, message] of cases) {
      test(name, async () => {
        const standIn = await startStandIn({ latencyScale: 0 });
        const r = await packInProcess('run', [...QUICK, ...args], { BASE_URL: standIn.url, ...env });
        await standIn.close();
        assert.equal(r.code, 2, r.stdout + r.stderr);
        assert.match(r.stderr.trim(), message);
        assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
        assert.equal(standIn.stats().requests, 0, 'nothing sent');
      });
    }

    test('malformed YAML in a scenario or an environment file', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'voxanne-yaml-'));
      writeFileSync(join(dir, 'broken.yml'), 'config:\n  target: [unclosed\nscenarios: - x\n');
      writeFileSync(join(dir, 'staging.yml'), 'description: "x\nbaseUrl: : :\n');
      const scenario = await packInProcess('run', [...QUICK, '--scenario', join(dir, 'broken.yml')]);
      assert.equal(scenario.code, 2);
      assert.match(scenario.stderr.trim(), /^error: .*broken\.yml is not valid YAML \(.+\); fix the file$/);
      const environment = await packInProcess('run', [...QUICK, '--env', join(dir, 'staging.yml')]);
      assert.equal(environment.code, 2);
      assert.match(environment.stderr.trim(), /^error: .*staging\.yml is not valid YAML \(.+\); fix the file$/);
    });

    test('failed sign-in: wrong password, or the auth server unreachable', async () => {
      const auth = await startSignInStandIn({ email: 'a@example.com', password: 'right-pass', anonKey: 'anon' });
      const standIn = await startStandIn({ latencyScale: 0 });
      const env = { BASE_URL: standIn.url, SUPABASE_URL: auth.url, SUPABASE_ANON_KEY: 'anon', LOAD_TEST_EMAIL: 'a@example.com' };
      const wrong = await packInProcess('run', QUICK, { ...env, LOAD_TEST_PASSWORD: 'wrong-pass' });
      const down = await packInProcess('run', QUICK, { ...env, LOAD_TEST_PASSWORD: 'right-pass', SUPABASE_URL: `http://127.0.0.1:${await closedPort()}` });
      await auth.close();
      await standIn.close();
      assert.equal(wrong.code, 2);
      assert.equal(
        wrong.stderr.trim(),
        'error: sign-in failed: Invalid login credentials (HTTP 400); check LOAD_TEST_EMAIL, LOAD_TEST_PASSWORD and SUPABASE_ANON_KEY',
      );
      assert.equal(down.code, 2);
      assert.equal(down.stderr.trim(), 'error: sign-in failed: cannot reach SUPABASE_URL (ECONNREFUSED); check the URL and the network');
      assert.equal(standIn.stats().requests, 0);
      assert.ok(!wrong.stderr.includes('wrong-pass'));
    });
  });
});
