// ALERT_WEBHOOK_URL: real runs against the stand-in, with a Slack-style receiver on loopback
// (test/shared-runs.ts: the runs that other files read too).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { healthyThenFailing, unreachableSinks, WEBHOOK_PATH } from './shared-runs';

/** Everything the run wrote to its folder, as text. */
const runFolderText = (dir: string) =>
  readdirSync(dir)
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .join('\n');

describe('alerts', { concurrency: true }, () => {
  test('a failing run sends one message with the verdict, the failed gate, key figures and the report', async () => {
    const r = (await healthyThenFailing()).failing;
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.equal(r.alerts.length, 1);
    const { path, body } = r.alerts[0];
    assert.equal(path, WEBHOOK_PATH);
    assert.match(body.text, /^Voxanne load test FAILED: local, profile smoke: Gate failed: HTTP error rate/);
    assert.equal(body.blocks[0].type, 'section');
    assert.equal(body.blocks[0].text.type, 'mrkdwn');
    const details: string = body.blocks[0].text.text;
    const t = r.record!.totals;
    assert.match(details, /Failed gates:\n• HTTP error rate: [\d.]+ % \(limit < \d+ %\)/);
    assert.ok(details.includes(`Requests: ${t.requests} · error rate: ${t.errorRatePct.toFixed(2)} % · p99: ${t.latency!.p99} ms · 429s: 0`), details);
    assert.ok(details.includes(`Report: \`${join(r.dir!, 'report.html')}\``), details);
    assert.ok(details.includes(`run ${r.record!.id}`));
    assert.match(r.stdout, /alert sent to ALERT_WEBHOOK_URL/);
    for (const text of [r.stdout, r.stderr, runFolderText(r.dir!)]) assert.ok(!text.includes(WEBHOOK_PATH.split('/').pop()!), 'the webhook URL stays secret');
  });

  test('a passing run sends nothing', async () => {
    const r = (await healthyThenFailing()).healthy;
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.alerts.length, 0);
    assert.doesNotMatch(r.stdout + r.stderr, /alert/);
  });

  test("a webhook that cannot be reached is one warning without its URL; the exit code is the run's", async () => {
    const r = await unreachableSinks();
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /^warning: could not send the alert to ALERT_WEBHOOK_URL \(ECONNREFUSED\); the run's verdict is unchanged$/m);
    assert.ok(!(r.stdout + r.stderr).includes('h1dd3nP4th'));
  });
});
