// Scale-out through Artillery's distributed runners. No cloud is reachable here: the command is
// checked with dry runs, and the record/report path with a recorded combined output (the -o JSON
// of a real run, the same format run-fargate and run-lambda write back).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { signJwt } from '../src/shared/jwt';
import { ROOT } from './helpers';
import { packInProcess } from './in-process';

const FIXTURE = join(ROOT, 'test', 'fixtures', 'combined-output.json');
const apiToken = signJwt({ email: 'ci@example.com', app_metadata: { org_id: 'org-ci' }, exp: Math.floor(Date.now() / 1000) + 3600 }, 'k');

describe('--platform dry runs: the exact command, secrets by name only', () => {
  test('fargate: --secret NAME for every secret set, read from SSM on the workers', async () => {
    const r = await packInProcess('run', ['--env', 'prod', '--platform', 'fargate', '--count', '4', '--region', 'eu-west-1', '--dry-run'], {
      API_TOKEN: apiToken,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /artillery run-fargate reports\/<run id>\/script\.yml --count 4 --region eu-west-1 --output reports\/<run id>\/artillery\.json --secret API_TOKEN\n/,
    );
    assert.match(r.stdout, /SSM Parameter Store \/artilleryio\/<NAME> in eu-west-1/);
    assert.match(r.stdout, /packaged with the script: .*\.build\/processors\/journey\.js.*\.build\/src\/plan\/users\.js/);
    assert.ok(!r.stdout.includes(apiToken));
  });

  test('lambda: secrets travel in a dotenv file that run-lambda packages, never on the command line', async () => {
    const r = await packInProcess('run', ['--env', 'prod', '--platform', 'lambda', '--count', '2', '--dry-run'], {
      API_TOKEN: apiToken,
      LOAD_TEST_PASSWORD: 'hunter2-secret',
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /artillery run-lambda reports\/<run id>\/script\.yml --count 2 --region us-east-1 --output reports\/<run id>\/artillery\.json --dotenv \S+secrets\.env\n/,
    );
    assert.match(r.stdout, /secrets API_TOKEN, LOAD_TEST_PASSWORD: in a dotenv file/);
    assert.ok(!r.stdout.includes(apiToken) && !r.stdout.includes('hunter2-secret'));
  });

  test('bad platform options: one line, exit 2', async () => {
    const bad = await packInProcess('run', ['--platform', 'k8s', '--dry-run']);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr.trim(), 'error: --platform takes local, fargate or lambda (got "k8s")');
    const region = await packInProcess('run', ['--platform', 'fargate', '--region', 'europe', '--dry-run']);
    assert.equal(region.stderr.trim(), 'error: --region "europe" is not an AWS region; use e.g. eu-west-1');
    const local = await packInProcess('run', ['--from-output', FIXTURE]);
    assert.equal(local.stderr.trim(), 'error: --from-output needs --platform fargate or lambda (the runner that made the output)');
  });
});

describe('record and report from a combined output', () => {
  test('the usual record, summary and report, with the figures of the output', async () => {
    const output = JSON.parse(readFileSync(FIXTURE, 'utf8'));
    const r = await packInProcess('run', ['--profile', 'smoke', '--time-scale', '0.5', '--platform', 'fargate', '--count', '3', '--from-output', FIXTURE]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const record = r.record!;
    assert.deepEqual(record.platform, { name: 'fargate', count: 3, region: 'us-east-1' });
    assert.equal(record.totals.requests, output.aggregate.counters['http.requests']);
    assert.equal(record.totals.latency?.p99, output.aggregate.summaries['http.response_time'].p99);
    assert.equal(record.periods.length, output.intermediate.length);
    assert.ok(record.periods.every((p) => p.latencySummary && p.latency === undefined));
    assert.equal(record.endpoints.length, 5);
    assert.match(r.stdout, /PASSED: Every gate passed \(health was checked on each worker\)/);
    assert.match(r.stdout, new RegExp(`p\\(99\\)=${output.aggregate.summaries['http.response_time'].p99}ms`));
    const html = readFileSync(join(r.dir!, 'report.html'), 'utf8');
    assert.match(html, /AWS Fargate, 3 workers in us-east-1/);
    assert.match(html, /<svg/);
  });
});
