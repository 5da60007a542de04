// publishMetrics: a real run against the stand-in, pushing to a real Prometheus Pushgateway (Debian's
// prometheus-pushgateway) on loopback; and the refusal of credentials written into the file.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startStandIn } from '../src/standin/server';
import { closedPort, QUICK, runPack } from './helpers';
import { packInProcess } from './in-process';
import { environmentFile, unreachableSinks } from './shared-runs';

const GATEWAY = 'prometheus-pushgateway';
const hasGateway = spawnSync('sh', ['-c', `command -v ${GATEWAY}`]).status === 0;
const SKIP = hasGateway ? false : `${GATEWAY} is not installed (apt-get install prometheus-pushgateway, as .ci/run does)`;

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Samples of Prometheus' text exposition format. */
function parseMetrics(text: string): Sample[] {
  return text.split('\n').flatMap((line) => {
    const m = /^([a-zA-Z_:][\w:]*)\{(.*)\} (\S+)$/.exec(line);
    if (!m) return [];
    const labels = Object.fromEntries([...m[2].matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, k, v]) => [k, v]));
    return [{ name: m[1], labels, value: Number(m[3]) }];
  });
}

const find = (samples: Sample[], name: string, labels: Record<string, string>) =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));

describe('publishMetrics to a Prometheus Pushgateway', { skip: SKIP }, () => {
  let gateway: ChildProcess;
  let url = '';

  before(async () => {
    const port = await closedPort();
    url = `http://127.0.0.1:${port}`;
    // No persistence file: the gateway keeps everything in memory and writes nothing.
    gateway = spawn(GATEWAY, [`--web.listen-address=127.0.0.1:${port}`, '--persistence.file='], {
      cwd: mkdtempSync(join(tmpdir(), 'voxanne-pushgateway-')),
      stdio: 'ignore',
    });
    for (;;) {
      assert.equal(gateway.exitCode, null, 'the Pushgateway started');
      const ready = await fetch(`${url}/-/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  after(() => gateway?.kill());

  test("after a run, the gateway holds its requests, p99 and gate results under the run's labels", async () => {
    const env = environmentFile([{ type: 'prometheus', pushgateway: '{{ $env.PUSHGATEWAY_URL }}', tags: ['team:voxanne'] }]);
    const standIn = await startStandIn({ latencyScale: 0.2, seed: 7, errorRate: 0.3, faultsAfterRequests: 2 });
    const r = await runPack('run', [...QUICK, '--env', env], { BASE_URL: standIn.url, PUSHGATEWAY_URL: url }).finally(() => standIn.close());
    assert.equal(r.code, 1, r.stdout + r.stderr); // the error-rate gate fails; the others pass
    assert.doesNotMatch(r.stderr, /warning/);
    const record = r.record!;
    const labels = { environment: 'ci', profile: 'smoke', run_id: record.id, team: 'voxanne' };
    assert.match(readFileSync(join(r.dir!, 'script.yml'), 'utf8'), /pushgateway: "\{\{ \$env\.PUSHGATEWAY_URL \}\}"/);

    const samples = parseMetrics(await (await fetch(`${url}/metrics`)).text());
    const own = { ...labels, job: 'voxanne_load_test' };
    assert.deepEqual(
      find(samples, 'voxanne_run_requests', own).map((s) => s.value),
      [record.totals.requests],
    );
    assert.deepEqual(
      find(samples, 'voxanne_run_response_time_ms', { ...own, quantile: '0.99' }).map((s) => s.value),
      [record.totals.latency!.p99],
    );
    assert.deepEqual(
      find(samples, 'voxanne_run_passed', own).map((s) => [s.labels.outcome, s.value]),
      [['failed', 0]],
    );
    assert.deepEqual(
      find(samples, 'voxanne_run_rate_limited', own).map((s) => s.value),
      [0],
    );
    for (const gate of record.gates) {
      assert.deepEqual(
        find(samples, 'voxanne_gate_passed', { ...own, gate: gate.id }).map((s) => s.value),
        [gate.passed ? 1 : 0],
        gate.id,
      );
    }
    assert.equal(find(samples, 'voxanne_gate_passed', { ...own, gate: 'error-rate' })[0].value, 0);
    assert.equal(find(samples, 'voxanne_gate_passed', { ...own, gate: 'p99' })[0].value, 1);

    // Artillery's own figures, pushed during the run by publish-metrics, carry the same labels.
    const artilleryRequests = find(samples, 'artillery_counters', { ...labels, metric: 'http_requests' });
    assert.equal(artilleryRequests.length, 1, 'Artillery pushed its request counter');
    assert.ok(artilleryRequests[0].value > 0);
  });

  test("a gateway that cannot be reached is one warning; the exit code is the run's", async () => {
    const r = await unreachableSinks(); // a failing run, its alert webhook unreachable too
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.equal(r.stderr.match(/could not push/g)?.length, 1, r.stderr);
    assert.match(r.stderr, /^warning: could not push the results to the Pushgateway \(ECONNREFUSED\); the run's verdict is unchanged$/m);
  });
});

describe('credentials in publishMetrics', () => {
  test('a key written into the file is refused: exit 2, one line, nothing sent', async () => {
    const env = environmentFile([{ type: 'datadog', apiKey: 'abcd1234abcd1234' }]);
    const standIn = await startStandIn({});
    const r = await packInProcess('run', [...QUICK, '--env', env], { BASE_URL: standIn.url }).finally(() => standIn.close());
    assert.equal(r.code, 2);
    assert.match(
      r.stderr.trim(),
      /^error: \S*ci\.yml: publishMetrics\[0\]\.apiKey holds a credential; write it as "\{\{ \$env\.NAME \}\}" and set NAME in the environment$/,
    );
    assert.ok(!(r.stdout + r.stderr).includes('abcd1234abcd1234'));
    assert.equal(standIn.stats().requests, 0);
  });

  test('a reference to a variable that is not set is refused: exit 2', async () => {
    const env = environmentFile([{ type: 'datadog', apiKey: '{{ $env.VOXANNE_TEST_UNSET_KEY }}' }]);
    const r = await packInProcess('run', [...QUICK, '--env', env, '--dry-run'], {});
    assert.equal(r.code, 2);
    assert.match(
      r.stderr.trim(),
      /^error: \S*ci\.yml: publishMetrics\[0\]\.apiKey refers to VOXANNE_TEST_UNSET_KEY, which is not set; export VOXANNE_TEST_UNSET_KEY or remove the entry$/,
    );
  });

  test('distributed workers get the referenced variables as secrets, by name only (and never the alert webhook)', async () => {
    const secret = 'dd-secret-value-1234';
    const env = environmentFile([{ type: 'datadog', apiKey: '{{ $env.DD_API_KEY }}' }]);
    const r = await packInProcess('run', ['--env', env, '--platform', 'fargate', '--count', '2', '--region', 'eu-west-1', '--dry-run'], {
      DD_API_KEY: secret,
      ALERT_WEBHOOK_URL: 'http://127.0.0.1:9/services/T1/B1/hook',
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /artillery run-fargate .+ --count 2 --region eu-west-1 --output .+ --secret DD_API_KEY\n/);
    assert.ok(!(r.stdout + r.stderr).includes(secret));
  });
});
