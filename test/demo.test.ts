// `npm run demo`: its faults follow the length of the load the run really plans. (The smoke demo with
// --fault degraded-at-end, exit 4, is the recording test/fixtures/runs/degraded-at-end, made by that
// very command and judged in decisions.test.ts: degraded after the load, not during it.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadSecondsOf } from '../src/cli/demo';

test('the load length follows the profile and time scale the demo runs', () => {
  assert.equal(loadSecondsOf(['--profile', 'standard', '--time-scale', '0.1']), 42 - 1.2); // first user arrives at 1.2 s
  assert.equal(loadSecondsOf(['--profile', 'standard', '--time-scale', '0.1', '--profile', 'smoke', '--time-scale', '1']), 40 - 2.5);
  assert.equal(loadSecondsOf(['--profile', 'huge']), undefined);
});
