// The capacity search (--profile capacity) end to end: real Artillery through the pack's command
// line against the stand-in on loopback, with a backend of known capacity. It runs in the solo phase
// of `npm test`: it measures capacity, and beside the other files' runs the generator and the
// stand-in's timers would get less than a core. The search's choices are tested without load in
// capacity-search.test.ts; a backend faster than the generator, on a recording, in decisions.test.ts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { startStandIn, type StandInOptions } from '../../src/standin/server';
import { runPack } from '../helpers';
import { loadProfile } from '../../src/catalog/config';

const SEARCH = ['--profile', 'capacity'];

async function search(options: StandInOptions) {
  const standIn = await startStandIn({ seed: 3, ...options });
  try {
    return await runPack('run', SEARCH, { BASE_URL: standIn.url });
  } finally {
    await standIn.close();
  }
}

describe('capacity search', () => {
  test('a backend of known capacity: the knee, the users held and where it broke, against the truth', async () => {
    // 8 requests at a time for 40 ms: at most 200 requests/s. Users without a pause queue, so by
    // Little's law a request waits users / 200 s: the 1000 ms p99 gate is reached at ~200 users.
    const r = await search({ capacity: { concurrency: 8, serviceMs: 40 } });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const c = r.record?.capacity;
    assert.ok(c, 'run.json has a capacity answer');
    assert.equal(c.result, 'knee', c.line);
    const truthRps = (8 / 40) * 1000;
    const truthUsers = truthRps * (c.limits.p99Ms / 1000);
    const held = c.steps[c.held!];
    const broken = c.steps[c.stoppedAt!];
    const table = c.steps.map((s) => `${s.users} users ${s.requestsPerSecond} req/s p99 ${s.latency?.p99} ${s.verdict}`).join('; ');
    console.log(`  ${c.line}\n  steps: ${table}`);
    assert.ok(Math.abs(c.knee!.requestsPerSecond - truthRps) <= truthRps * 0.1, `throughput ${c.knee!.requestsPerSecond} req/s vs ${truthRps}: ${table}`);
    assert.ok(Math.abs(held.users - truthUsers) <= truthUsers * 0.15, `held ${held.users} users vs ${truthUsers}: ${table}`);
    const narrowTo = loadProfile('capacity').capacity!.narrowTo;
    assert.ok(
      broken.users > held.users && broken.users <= Math.max(held.users + 1, Math.ceil(held.users * narrowTo)),
      `bracket narrowed to ${narrowTo}x: ${table}`,
    );
    assert.deepEqual(
      broken.broken.map((b) => b.gate),
      ['p99'],
    );
    // It predicted the break once throughput stopped growing, rather than walking to it.
    assert.ok(c.predicted && c.steps.some((s) => s.phase === 'predict'), table);
    assert.ok(c.steps.length <= 12, table);
    assert.ok(
      c.steps.every((s) => s.seconds! >= 5 && (s.requests >= 400 || s.seconds! >= 20)),
      'every step rests on enough responses',
    );
    assert.ok(held.cpuPct !== null && held.loopDelayMs !== null, 'the generator measured itself');
    assert.ok(c.guideUsers!.held! > held.users, "the guide's users, who pause, are more");
    // A clean ending: the requests in flight finished, then /health answered ok behind no queue.
    assert.equal(r.record!.ending.inFlight, 0);
    assert.equal(r.record!.health.end?.ok, true, JSON.stringify(r.record!.health.end));
    // Every request claimed its own client address (loopback): the limiter never answered 429.
    assert.equal(r.record!.rateLimit.spreadIps, true);
    assert.equal(r.record!.totals.errors.rateLimited, 0);
    // The answer, where the user looks: the terminal, run.json, the report.
    assert.match(
      r.stdout,
      new RegExp(
        `^capacity: highest throughput [\\d.]+ req/s, reached at \\d+ users \\(the knee\\); held ${held.users} users \\([\\d.]+ req/s, p50/p95/p99 [\\d./]+ ms\\); broke at ${broken.users} users .*p99 \\d+ ms >= 1000 ms; GET \\S+ degraded first; as the guide's users \\(1 s pause between journeys\\), about \\d+ held, \\d+ broke \\(an estimate, by Little's law at [\\d.]+ req/s\\)$`,
        'm',
      ),
    );
    assert.match(r.stdout, /PASSED: Capacity found: the backend held \d+ users and broke the gates at \d+\. \(exit 0\)/);
    // The users the backend saw: the largest step, never the waiting pool.
    assert.equal(r.record!.totals.maxUsers, Math.max(...c.steps.map((s) => s.users)));
    assert.match(r.stdout, new RegExp(`^vus_max\\.+: ${r.record!.totals.maxUsers} \\(the largest step; a waiting pool of \\d+ users`, 'm'));
    const html = readFileSync(join(r.dir!, 'report.html'), 'utf8');
    assert.match(html, /<svg class="chart capacity"[^>]*data-chart="capacity-rps"/);
    for (const mark of ['knee', 'predicted', 'broke']) assert.match(html, new RegExp(`data-mark="${mark}"`), `the curve marks the ${mark}`);
    assert.ok(html.includes(`p99 gate 1000 ms`));
    assert.ok(
      html.includes(c.line.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&#39;')),
      'the report shows the capacity line',
    );
  });
});
