// Safe and truthful against a shared, rate-limited production backend: rate limits, real tokens,
// secrets, guardrails, preflight, breaker, broken targets and bad input. Every target here is a
// stand-in on loopback; checks that name production only ever run with --dry-run or are refused
// before anything is sent.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { signJwt } from '../src/jwt';
import { isLoopback } from '../src/options';
import { startSignInStandIn } from '../src/standin/signin';
import { startStandIn, type StandIn, type StandInOptions } from '../src/standin/server';
import { closedPort, QUICK, runPack } from './helpers';

async function against(options: StandInOptions, args: string[], env: Record<string, string> = {}) {
  const standIn = await startStandIn({ latencyScale: 0.2, seed: 11, ...options });
  try {
    return { ...(await runPack('run', [...QUICK, ...args], { BASE_URL: standIn.url, ...env })), standIn };
  } finally {
    await standIn.close();
  }
}

/** A production-like run against a loopback stand-in: the prod environment's rules, a local address. */
const PROD_LIKE = ['--env', 'prod', '--allow-http'];
const loadRequests = (s: StandIn) => s.stats().log.filter((e) => e.load);
const token = (claims: Record<string, unknown>) =>
  signJwt({ sub: 'u-7', email: 'qa@example.com', app_metadata: { org_id: 'org-7' }, ...claims }, 'test-secret');
const inHour = () => Math.floor(Date.now() / 1000) + 3600;

describe('rate limits', () => {
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

  test('--count-429 puts 429s in the error rate instead', async () => {
    const r = await against({ rateLimit: { limit: 30, windowSeconds: 3600 } }, ['--count-429']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /FAIL\s+HTTP error rate/);
    assert.doesNotMatch(r.stdout, /Rate limited  /);
    assert.match(r.stdout, /\(counted as errors: --count-429\)/);
  });

  test('locally, a rate limit that leaves less than half of the run stops it before the load, naming the ways out; --yes goes ahead', async () => {
    const r = await against({ rateLimit: { limit: 10, windowSeconds: 3600 } }, []);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stdout, /only 9 of 10 per hour are left \(the window resets at \d\d:\d\d UTC\)/);
    assert.match(r.stdout, /Would fit: .*--time-scale [\d.]+, --spread-ips \(a backend on this machine\)/);
    assert.match(r.stdout, /Not starting the load: less than half of the run is left in the rate limit/);
    assert.deepEqual(loadRequests(r.standIn), [], 'only the preflight reached the target');
    const confirmed = await against({ rateLimit: { limit: 10, windowSeconds: 3600 } }, ['--yes']);
    assert.notEqual(confirmed.code, 2, confirmed.stdout);
    assert.ok(loadRequests(confirmed.standIn).length > 0);
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

describe('production guardrails and dry run', () => {
  // All with --dry-run: even if a guardrail failed, nothing would be sent.
  test('prod refuses plain http://', async () => {
    const r = await runPack('run', ['--env', 'prod', '--dry-run'], { BASE_URL: 'http://backend.example.com' });
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trim(), 'error: prod needs an https:// URL (got http://backend.example.com); pass --allow-http if plain http is really meant');
  });

  test('heavy profiles against prod need --yes or VOXANNE_CONFIRM=yes', async () => {
    for (const profile of ['aggressive', 'spike', 'soak']) {
      const r = await runPack('run', ['--env', 'prod', '--profile', profile, '--dry-run']);
      assert.equal(r.code, 2, profile);
      assert.match(r.stderr, new RegExp(`^error: profile ${profile} is heavy for the shared production backend; add --yes`));
    }
    const confirmed = await runPack('run', ['--env', 'prod', '--profile', 'spike', '--dry-run'], { VOXANNE_CONFIRM: 'yes' });
    assert.equal(confirmed.code, 0);
  });

  test('--spread-ips against production is refused', async () => {
    const r = await runPack('run', ['--env', 'prod', '--spread-ips', '--dry-run']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--spread-ips only works against a backend on this machine/);
  });

  test('test:prod --dry-run prints the whole plan and sends nothing', async () => {
    const r = await runPack('run', ['--env', 'prod', '--dry-run']);
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
    const r = await runPack('run', ['--dry-run'], { BASE_URL: standIn.url });
    await standIn.close();
    assert.equal(r.code, 0);
    assert.equal(standIn.stats().requests, 0);
  });
});

describe('preflight beyond /health', () => {
  test('/health ok but /api failing (Redis down): exit 3 with the body, no load', async () => {
    const r = await against({ redisDown: true }, []);
    assert.equal(r.code, 3, r.stdout + r.stderr);
    // With a token (here the development token) the preflight's /api request is an authenticated one.
    assert.match(r.stdout, /API failing while \/health is OK: \/api\/calls-dashboard\?limit=1 answered 500: \{"error":"Connection is closed\."\}/);
    assert.deepEqual(loadRequests(r.standIn), []);
  });
});

describe('real tokens', () => {
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

  test('a token that expires mid-run is diagnosed as such, not left as a storm of 401s', async () => {
    const r = await against({ checkTokenExpiry: true }, [], { API_TOKEN: token({ exp: Math.floor(Date.now() / 1000) + 9 }) });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /warning: API_TOKEN expires in \d+ s, before the run ends/);
    assert.match(r.stdout, /The token was rejected \d+ times \(401\) from \d\d:\d\d:\d\d UTC on: it expired or was revoked mid-run/);
  });
});

describe('secrets never leak', () => {
  test('known secrets with failing expectations: not one byte of them in any output or file', async () => {
    const auth = await startSignInStandIn({ email: 'secret-user@example.com', password: 'Sup3r-S3cret-Pa55', anonKey: 'anon-KEY-4242-secret', ttlSeconds: 5 });
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
    const signedIn = await failing(env);
    const apiToken = token({ exp: inHour() });
    const withToken = await failing({ API_TOKEN: apiToken });
    await auth.close();
    assert.equal(signedIn.code, 1);
    assert.equal(withToken.code, 1);
    assert.match(signedIn.stdout, /expectation failed/);
    const secrets = ['Sup3r-S3cret-Pa55', 'anon-KEY-4242-secret', apiToken, ...auth.issuedTokens()];
    assert.ok(auth.issuedTokens().length >= 4);
    const files = (dir: string): string[] =>
      readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : [join(dir, f)]));
    const written = files(reports);
    assert.ok(written.some((f) => f.endsWith('report.html')) && written.some((f) => f.endsWith('history.ndjson')));
    const outputs = [signedIn.stdout, signedIn.stderr, withToken.stdout, withToken.stderr, ...written.map((f) => readFileSync(f, 'latin1'))];
    for (const secret of secrets) {
      for (const [i, text] of outputs.entries()) assert.ok(!text.includes(secret), `a secret leaked into ${i < 4 ? 'the terminal' : written[i - 4]}`);
    }
  });
});

describe('breaker', () => {
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

describe('timeouts and broken targets', () => {
  test('hung requests time out per endpoint and fail the timeout gate; the record is written', async () => {
    const r = await against({ hangRate: 0.05 }, ['--timeout', '1']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /FAIL\s+Timeouts/);
    assert.ok(r.record!.totals.errors.timeout > 0);
    assert.ok(r.record!.endpoints.some((e) => e.errors.timeout > 0));
    assert.match(r.stdout, /Timeouts: \/api\//);
  });

  test('resets, non-JSON bodies and a target that dies mid-run are counted; the pack never crashes', async () => {
    const broken = await against({ resetRate: 0.05, garbageRate: 0.05 }, []);
    assert.equal(broken.code, 1, broken.stdout + broken.stderr);
    assert.ok(broken.record!.totals.errors.transport > 0 && broken.record!.totals.errors.notJson > 0);
    assert.match(broken.stdout, /Bodies that are not JSON/);

    const dying = await against({ closeAfterSeconds: 8 }, []);
    assert.ok([1, 4].includes(dying.code!), dying.stdout + dying.stderr);
    assert.ok(dying.record, 'run.json was written');
    assert.ok(dying.record!.totals.errors.transport > 0);
    assert.doesNotMatch(dying.stderr, /unexpected|at .*\.js:\d+/);
  });
});

describe('bad input: one line, exit 2, nothing sent', () => {
  const cases: Array<[string, string[], Record<string, string>, RegExp]> = [
    ['unknown environment', ['--env', 'staging'], {}, /^error: unknown environment "staging"; choose one of: local, prod$/],
    ['malformed BASE_URL', [], { BASE_URL: 'localhost:3001/api' }, /^error: BASE_URL must start with http:\/\/ or https:\/\/ \(got "localhost:"\)$/],
    ['BASE_URL not a URL', [], { BASE_URL: 'not a url' }, /^error: BASE_URL "not a url" is not a URL; use e\.g\. http:\/\/localhost:3001$/],
    ['bad time scale', ['--time-scale', 'fast'], {}, /^error: --time-scale must be a number above 0 and at most 100 \(got "fast"\)$/],
    ['zero time scale', ['--time-scale', '0'], {}, /^error: --time-scale must be a number above 0/],
    ['unknown option', ['--users', '5'], {}, /^error: unknown option --users; see --help for the options$/],
    ['API_TOKEN not a JWT', [], { API_TOKEN: 'abc123' }, /^error: API_TOKEN is not a JWT \(three base64url parts\); copy the access token itself, without "Bearer "$/],
    ['API_TOKEN expired', [], { API_TOKEN: token({ exp: Math.floor(Date.now() / 1000) - 600 }) }, /^error: API_TOKEN expired 1\d min ago; get a fresh token/],
  ];
  for (const [name, args, env, message] of cases) {
    test(name, async () => {
      const standIn = await startStandIn({ latencyScale: 0 });
      const r = await runPack('run', [...QUICK, ...args], { BASE_URL: standIn.url, ...env });
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
    const scenario = await runPack('run', [...QUICK, '--scenario', join(dir, 'broken.yml')]);
    assert.equal(scenario.code, 2);
    assert.match(scenario.stderr.trim(), /^error: .*broken\.yml is not valid YAML \(.+\); fix the file$/);
    const environment = await runPack('run', [...QUICK, '--env', join(dir, 'staging.yml')]);
    assert.equal(environment.code, 2);
    assert.match(environment.stderr.trim(), /^error: .*staging\.yml is not valid YAML \(.+\); fix the file$/);
  });

  test('failed sign-in: wrong password, or the auth server unreachable', async () => {
    const auth = await startSignInStandIn({ email: 'a@example.com', password: 'right-pass', anonKey: 'anon' });
    const standIn = await startStandIn({ latencyScale: 0 });
    const env = { BASE_URL: standIn.url, SUPABASE_URL: auth.url, SUPABASE_ANON_KEY: 'anon', LOAD_TEST_EMAIL: 'a@example.com' };
    const wrong = await runPack('run', QUICK, { ...env, LOAD_TEST_PASSWORD: 'wrong-pass' });
    const down = await runPack('run', QUICK, { ...env, LOAD_TEST_PASSWORD: 'right-pass', SUPABASE_URL: `http://127.0.0.1:${await closedPort()}` });
    await auth.close();
    await standIn.close();
    assert.equal(wrong.code, 2);
    assert.equal(wrong.stderr.trim(), 'error: sign-in failed: Invalid login credentials (HTTP 400); check LOAD_TEST_EMAIL, LOAD_TEST_PASSWORD and SUPABASE_ANON_KEY');
    assert.equal(down.code, 2);
    assert.equal(down.stderr.trim(), 'error: sign-in failed: cannot reach SUPABASE_URL (ECONNREFUSED); check the URL and the network');
    assert.equal(standIn.stats().requests, 0);
    assert.ok(!wrong.stderr.includes('wrong-pass'));
  });
});
