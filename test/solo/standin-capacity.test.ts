// The stand-in's known capacity, measured: a timing-sensitive test, so it runs with test/solo/,
// after the files that run side by side, on a machine not shared with 30 other test files.
import assert from 'node:assert/strict';
import { Agent, get as httpGet } from 'node:http';
import { describe, test } from 'node:test';
import type { StandIn } from '../../src/standin/server';
import { standInsClosedAfterTests } from '../standins';

const standIn = standInsClosedAfterTests();

describe('known capacity', () => {
  /** `workers` clients on their own keep-alive connections, each sending requests back to back: `total` in all. */
  async function closedLoop(s: StandIn, workers: number, total: number): Promise<{ rps: number; meanMs: number }> {
    const agent = new Agent({ keepAlive: true, maxSockets: workers });
    const one = () =>
      new Promise<number>((resolve, reject) => {
        const t = performance.now();
        httpGet(`${s.url}/`, { agent }, (res) => {
          res.resume();
          res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - t) : reject(new Error(`status ${res.statusCode}`))));
        }).on('error', reject);
      });
    let left = total;
    const latencies: number[] = [];
    const started = performance.now();
    await Promise.all(
      Array.from({ length: workers }, async () => {
        while (left-- > 0) latencies.push(await one());
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    agent.destroy();
    return { rps: total / seconds, meanMs: latencies.reduce((a, b) => a + b, 0) / latencies.length };
  }

  test('serves at most N at once for the service time: throughput near N / service time, latency grows with the queue', async () => {
    const s = await standIn({ capacity: { concurrency: 4, serviceMs: 50 } });
    const truth = (4 / 50) * 1000; // 80 requests/s
    const within = await closedLoop(s, 4, 60); // as many clients as workers: nobody waits
    const queued = await closedLoop(s, 40, 240); // ten clients per worker
    assert.ok(queued.rps <= truth * 1.05, `${queued.rps.toFixed(1)} req/s is above the true capacity ${truth}`);
    assert.ok(queued.rps >= truth * 0.6, `${queued.rps.toFixed(1)} req/s is far below the true capacity ${truth}`);
    assert.ok(within.meanMs >= 50, `a request took ${within.meanMs.toFixed(0)} ms, under the service time`);
    // Ten clients per worker: each request waits for about nine others (~450 ms) before its 50 ms.
    assert.ok(queued.meanMs >= 4 * within.meanMs, `queued ${queued.meanMs.toFixed(0)} ms vs unqueued ${within.meanMs.toFixed(0)} ms`);
    assert.ok(s.stats().maxQueued >= 30, `at most ${s.stats().maxQueued} waited`);
  });
});
