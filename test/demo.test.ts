// `npm run demo`: its faults follow the length of the load the run really plans. (The smoke demo with
// --fault degraded-at-end, exit 4, is the recording test/fixtures/runs/degraded-at-end, made by that
// very command and judged in decisions.test.ts.)
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadSecondsOf } from '../src/cli/demo';
import { replayRunFolder } from '../src/record/replay';
import { formatSummary } from '../src/outputs/summary';
import { FIXTURES, SITUATIONS_FILE } from './record-fixtures';

test('the load length follows the profile and time scale the demo runs', () => {
  assert.equal(loadSecondsOf(['--profile', 'standard', '--time-scale', '0.1']), 42 - 1.2); // first user arrives at 1.2 s
  assert.equal(loadSecondsOf(['--profile', 'standard', '--time-scale', '0.1', '--profile', 'smoke', '--time-scale', '1']), 40 - 2.5);
  assert.equal(loadSecondsOf(['--profile', 'huge']), undefined);
});

test('smoke with --fault degraded-at-end degrades at the end of its own load: exit 4 (a recording of that demo)', () => {
  const { situations } = JSON.parse(readFileSync(SITUATIONS_FILE, 'utf8')) as { situations: Record<string, { command: string; exitCode: number }> };
  const s = situations['degraded-at-end'];
  assert.equal(s.command, 'node bin/pack.js demo --profile smoke --time-scale 0.25 --fault degraded-at-end');
  assert.equal(s.exitCode, 4, 'what the demo exited with');
  const r = replayRunFolder(join(FIXTURES, 'degraded-at-end'));
  assert.equal(r.exitCode, 4);
  assert.equal(r.health.start?.ok, true, 'healthy before the load');
  assert.equal(r.health.end?.problem, 'degraded', 'degraded after it');
  assert.ok(r.totals.requests > 0 && r.totals.errorRatePct < 5, 'not during the load: the fault waited for its end');
  assert.match(formatSummary(r), /\/health failed after the load/);
});
