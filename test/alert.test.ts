// ALERT_WEBHOOK_URL: real runs against the stand-in, with a Slack-style receiver on loopback.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { startStandIn, type StandInOptions } from '../src/standin/server';
import { closedPort, QUICK, runPack } from './helpers';

/** A webhook receiver that keeps every message it is sent. */
async function receiver() {
  const messages: Array<{ path: string; body: any }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      messages.push({ path: req.url ?? '', body: JSON.parse(body) });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  // Slack's webhook URLs hold their secret in the path.
  const url = `http://127.0.0.1:${port}/services/T0000/B0000/s3cr3tW3bh00kPath`;
  return { url, messages, close: () => new Promise((r) => server.close(r)) };
}

async function runWithAlerts(options: StandInOptions, webhook: string) {
  const standIn = await startStandIn({ latencyScale: 0.2, seed: 7, ...options });
  try {
    return await runPack('run', QUICK, { BASE_URL: standIn.url, ALERT_WEBHOOK_URL: webhook });
  } finally {
    await standIn.close();
  }
}

/** Everything the run wrote to its folder, as text. */
const runFolderText = (dir: string) => readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8')).join('\n');

describe('alerts', () => {
  test('a failing run sends one message with the verdict, the failed gate, key figures and the report', async () => {
    const hook = await receiver();
    try {
      const r = await runWithAlerts({ errorRate: 0.1, faultsAfterRequests: 2 }, hook.url);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.equal(hook.messages.length, 1);
      const { path, body } = hook.messages[0];
      assert.equal(path, '/services/T0000/B0000/s3cr3tW3bh00kPath');
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
      for (const text of [r.stdout, r.stderr, runFolderText(r.dir!)]) assert.ok(!text.includes('s3cr3tW3bh00kPath'), 'the webhook URL stays secret');
    } finally {
      await hook.close();
    }
  });

  test('a passing run sends nothing', async () => {
    const hook = await receiver();
    try {
      const r = await runWithAlerts({}, hook.url);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal(hook.messages.length, 0);
      assert.doesNotMatch(r.stdout + r.stderr, /alert/);
    } finally {
      await hook.close();
    }
  });

  test('a webhook that cannot be reached is one warning without its URL; the exit code is the run\'s', async () => {
    const port = await closedPort();
    const r = await runWithAlerts({ errorRate: 0.1, faultsAfterRequests: 2 }, `http://127.0.0.1:${port}/services/T1/B1/h1dd3nP4th`);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /^warning: could not send the alert to ALERT_WEBHOOK_URL \(ECONNREFUSED\); the run's verdict is unchanged$/m);
    assert.ok(!(r.stdout + r.stderr).includes('h1dd3nP4th'));
  });
});
