// `npm run demo`: its faults follow the length of the load the run really plans.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadSecondsOf } from '../src/cli/demo';
import { runPack } from './helpers';

test('the load length follows the profile and time scale the demo runs', () => {
  assert.equal(loadSecondsOf(['--profile', 'standard', '--time-scale', '0.1']), 42 - 1.2); // first user arrives at 1.2 s
  assert.equal(loadSecondsOf(['--profile', 'standard', '--time-scale', '0.1', '--profile', 'smoke', '--time-scale', '1']), 40 - 2.5);
  assert.equal(loadSecondsOf(['--profile', 'huge']), undefined);
});

test('smoke with --fault degraded-at-end degrades at the end of its own load: exit 4', async () => {
  const r = await runPack('demo', ['--profile', 'smoke', '--time-scale', '0.25', '--fault', 'degraded-at-end']);
  assert.equal(r.code, 4, r.stdout + r.stderr);
  assert.match(r.stdout, /\/health failed after the load/);
  assert.equal(r.record?.health.start?.ok, true);
  assert.equal(r.record?.health.end?.problem, 'degraded');
});
