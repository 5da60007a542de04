// The load generator's own figures (src/artillery/generator-watch.ts): a thread's CPU from its real
// /proc stat line, CPU as % of one core, and the event-loop delay above the monitor's resolution.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { cpuMsOfStat, cpuPct, loopDelayMs } from '../src/artillery/generator-watch';

test("a thread's CPU time: utime + stime of its stat line, in ticks of 10 ms", () => {
  const line = '4242 (node worker) S 1 4242 4242 0 -1 4194560 100 0 0 0 37 5 0 0 20 0 9 0 100 0 0';
  assert.equal(cpuMsOfStat(line), (37 + 5) * 10);
  if (existsSync('/proc/thread-self/stat')) {
    const real = cpuMsOfStat(readFileSync('/proc/thread-self/stat', 'utf8'));
    const u = process.cpuUsage();
    assert.ok(Number.isInteger(real) && real >= 0 && real <= (u.user + u.system) / 1000 + 10, `${real} ms`);
  }
});

test('CPU as % of one core, at most 100; the delay above the resolution, never below 0', () => {
  assert.equal(cpuPct(250, 1000), 25);
  assert.equal(cpuPct(1500, 1000), 100);
  assert.equal(cpuPct(5, 0), 100, 'an interval under 1 ms counts as 1 ms');
  assert.equal(cpuPct(0, 1000), 0);
  assert.equal(loopDelayMs(35e6, 10), 25);
  assert.equal(loopDelayMs(5e6, 10), 0);
});
