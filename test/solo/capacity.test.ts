// The capacity search (--profile capacity) end to end (in the solo phase of `npm test`: it measures
// capacity, and beside other runs the generator and the stand-in's timers would get less than a core): real Artillery through the pack's command
// line against the stand-in on loopback, with a backend of known capacity and one with no limit.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { startStandIn, type StandInOptions } from '../../src/standin/server';
import { runPack } from '../helpers';

// Holds of 20 s (the shortest the search accepts): one or two whole 10 s periods per step.
const SEARCH = ['--profile', 'capacity', '--time-scale', '0.667'];

async function search(options: StandInOptions) {
  const standIn = await startStandIn({ seed: 3, ...options });
  try {
    return { ...(await runPack('run', SEARCH, { BASE_URL: standIn.url })), stats: standIn.stats() };
  } finally {
    await standIn.close();
  }
}

describe('capacity search', () => {
  test('a backend of known capacity: the answer lies within one step of the truth', async () => {
    // One request at a time for 60 ms: at most 16.7 requests/s. Users without a pause queue, so a
    // request waits for every other user: p99 ~ users x 60 ms, past the 1000 ms gate above ~16 users.
    const r = await search({ capacity: { concurrency: 1, serviceMs: 60 } });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const c = r.record?.capacity;
    assert.ok(c, 'run.json has a capacity answer');
    assert.equal(c.result, 'knee', c.line);
    const truthRps = (1 / 60) * 1000;
    const truthUsers = truthRps * (c.limits.p99Ms / 1000);
    const held = c.steps[c.held!];
    const broken = c.steps[c.stoppedAt!];
    assert.ok(held.users <= truthUsers && truthUsers <= broken.users, `truth ${truthUsers.toFixed(1)} users between ${held.users} and ${broken.users}`);
    assert.equal(broken.users - held.users, 10, 'one step apart');
    assert.ok(held.requestsPerSecond <= truthRps * 1.05 && held.requestsPerSecond >= truthRps * 0.8, `${held.requestsPerSecond} req/s vs ${truthRps.toFixed(1)}`);
    assert.deepEqual(broken.broken.map((b) => b.gate), ['p99']);
    assert.ok(held.cpuPct !== null && held.loopDelayMs !== null, 'the generator measured itself');
    // The load stopped once the broken step was judged: Artillery reports a period up to ~10 s after
    // it closes, so at most the next step's users had begun to arrive.
    assert.ok(r.record!.totals.maxUsers <= broken.users + 10, `stopped with ${r.record!.totals.maxUsers} users active`);
    // Every request claimed its own client address (loopback): the limiter never answered 429.
    assert.equal(r.record!.rateLimit.spreadIps, true);
    assert.equal(r.record!.totals.errors.rateLimited, 0);
    // The answer, where the user looks: the terminal, run.json, the report.
    assert.match(r.stdout, new RegExp(`^capacity: ${held.users} users \\([\\d.]+ req/s, p50/p95/p99 [\\d./]+ ms\\) held; broke at ${broken.users} users .*p99 \\d+ ms >= 1000 ms; \\S+ degraded first$`, 'm'));
    assert.match(r.stdout, /PASSED: Capacity found: the backend held \d+ users and broke the gates at \d+\. \(exit 0\)/);
    const html = readFileSync(join(r.dir!, 'report.html'), 'utf8');
    assert.match(html, /<svg class="chart capacity"[^>]*data-chart="capacity-rps"/);
    assert.ok(html.includes(`p99 gate 1000 ms`));
    assert.ok(html.includes(c.line.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')), 'the report shows the capacity line');
  });

  test('a backend with no limit and no delay: the pack names itself, the load generator, as the bottleneck', async () => {
    const r = await search({ latencyScale: 0 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const c = r.record?.capacity;
    assert.equal(c?.result, 'generator-limit', c?.line);
    assert.match(r.stdout, /^capacity: the load generator reached its limit at [\d.]+ req\/s before the backend broke: capacity is at least [\d.]+ req\/s .*--platform fargate or lambda/m);
    const last = c!.steps[c!.stoppedAt!];
    assert.equal(last.verdict, 'generator-limit');
    assert.ok(c!.atLeastRps! > 0);
    assert.doesNotMatch(r.stdout, /broke at/);
  });
});

describe('where a capacity search may run', () => {
  test('refused against prod before anything is sent: exit 2, one line', async () => {
    const r = await runPack('run', ['--profile', 'capacity', '--env', 'prod', '--yes']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^error: profile capacity is refused against prod: .*allowCapacity: true\)\n$/);
    assert.equal(r.stdout, '');
    assert.equal(r.dir, undefined, 'no run folder');
  });

  test('a remote target needs an environment file that allows it; the dry run shows the staircase', async () => {
    const remote = await runPack('run', ['--profile', 'capacity', '--base-url', 'https://staging.example.invalid', '--dry-run']);
    assert.equal(remote.code, 2);
    assert.match(remote.stderr, /^error: profile capacity pushes https:\/\/staging\.example\.invalid until it breaks; add allowCapacity: true/);
    const allowed = await runPack('run', ['--profile', 'capacity', '--env', 'environments/examples/staging.yml', '--dry-run']);
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.match(allowed.stdout, /^Dry run: nothing is sent\./);
    assert.match(allowed.stdout, /step  1 {4}10 users {2}ramp 0:00, hold 0:05 - 0:35/);
    assert.match(allowed.stdout, /step 20 {3}200 users/);
    assert.match(allowed.stdout, /p99 response time < 1000 ms; HTTP error rate < 5 %/);
    assert.doesNotMatch(allowed.stdout, /client address/, 'spread IPs only on loopback');
    const short = await runPack('run', ['--profile', 'capacity', '--time-scale', '0.5', '--dry-run']);
    assert.equal(short.code, 2);
    assert.match(short.stderr, /^error: each capacity step would hold 15 s, too short to judge .*--time-scale 0\.67 or more\n$/);
  });
});
