// The capacity search (--profile capacity) end to end (in the solo phase of `npm test`: it measures
// capacity, and beside other runs the generator and the stand-in's timers would get less than a core): real Artillery through the pack's command
// line against the stand-in on loopback, with a backend of known capacity and one with no limit.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { startStandIn, type StandInOptions } from '../../src/standin/server';
import { runPack } from '../helpers';

const SEARCH = ['--profile', 'capacity'];

async function search(options: StandInOptions) {
  const standIn = await startStandIn({ seed: 3, ...options });
  try {
    return { ...(await runPack('run', SEARCH, { BASE_URL: standIn.url })), stats: standIn.stats() };
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
    assert.ok(broken.users > held.users && broken.users <= Math.ceil(held.users * 1.1), `bracket narrowed to 10 %: ${table}`);
    assert.deepEqual(broken.broken.map((b) => b.gate), ['p99']);
    // It predicted the break once throughput stopped growing, rather than walking to it.
    assert.ok(c.predicted && c.steps.some((s) => s.phase === 'predict'), table);
    assert.ok(c.steps.length <= 12, table);
    assert.ok(c.steps.every((s) => s.seconds! >= 5 && (s.requests >= 400 || s.seconds! >= 20)), 'every step rests on enough responses');
    assert.ok(held.cpuPct !== null && held.loopDelayMs !== null, 'the generator measured itself');
    assert.ok(c.guideUsers!.held! > held.users, 'the guide\'s users, who pause, are more');
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
        `^capacity: highest throughput [\\d.]+ req/s, reached at \\d+ users \\(the knee\\); held ${held.users} users \\([\\d.]+ req/s, p50/p95/p99 [\\d./]+ ms\\); broke at ${broken.users} users .*p99 \\d+ ms >= 1000 ms; GET \\S+ degraded first; as the guide's users \\(1 s pause between journeys\\), about \\d+ held, \\d+ broke \\(an estimate, by Little's law\\)$`,
        'm',
      ),
    );
    assert.match(r.stdout, /PASSED: Capacity found: the backend held \d+ users and broke the gates at \d+\. \(exit 0\)/);
    const html = readFileSync(join(r.dir!, 'report.html'), 'utf8');
    assert.match(html, /<svg class="chart capacity"[^>]*data-chart="capacity-rps"/);
    for (const mark of ['knee', 'predicted', 'broke']) assert.match(html, new RegExp(`data-mark="${mark}"`), `the curve marks the ${mark}`);
    assert.ok(html.includes(`p99 gate 1000 ms`));
    assert.ok(html.includes(c.line.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&#39;')), 'the report shows the capacity line');
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

  test('a remote target needs an environment file that allows it; the dry run shows the search', async () => {
    const remote = await runPack('run', ['--profile', 'capacity', '--base-url', 'https://staging.example.invalid', '--dry-run']);
    assert.equal(remote.code, 2);
    assert.match(remote.stderr, /^error: profile capacity pushes https:\/\/staging\.example\.invalid until it breaks; add allowCapacity: true/);
    const allowed = await runPack('run', ['--profile', 'capacity', '--env', 'environments/examples/staging.yml', '--dry-run']);
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.match(allowed.stdout, /^Dry run: nothing is sent\./);
    assert.match(allowed.stdout, /grow: {5}4 users, then x2 per step until a gate breaks or throughput stops growing/);
    assert.match(allowed.stdout, /bounds: {3}2000 users .* 240 s of load/);
    assert.match(allowed.stdout, /p99 response time < 1000 ms; HTTP error rate < 5 %/);
    assert.doesNotMatch(allowed.stdout, /client address/, 'spread IPs only on loopback');
    const scaled = await runPack('run', ['--profile', 'capacity', '--time-scale', '0.5', '--dry-run']);
    assert.equal(scaled.code, 2);
    assert.match(scaled.stderr, /^error: profile capacity sets its own step lengths .*--time-scale does not apply to it; change search: in config\/profiles\.yml instead\n$/);
  });

  test('on Fargate or Lambda it is refused up front, with the reason: their workers cannot run the live search', async () => {
    for (const platform of ['fargate', 'lambda']) {
      const r = await runPack('run', ['--profile', 'capacity', '--platform', platform, '--dry-run']);
      assert.equal(r.code, 2, r.stdout);
      assert.match(r.stderr, new RegExp(`^error: profile capacity runs on this machine only: .*Artillery's ${platform} workers do not run the pack's plugin that does it; .*\\n$`));
      assert.equal(r.stdout, '');
    }
    // The same for a combined output of distributed workers: there is no search to judge in it.
    const combined = await runPack('run', ['--profile', 'capacity', '--platform', 'lambda', '--from-output', 'test/fixtures/combined-output.json']);
    assert.equal(combined.code, 2);
    assert.match(combined.stderr, /^error: profile capacity runs on this machine only/);
    assert.equal(combined.dir, undefined, 'no run folder');
  });
});
