// A run folder keeps its plan (plan.json) and how Artillery ended (end.json): the record the run
// wrote is rebuilt from the folder alone. Checked on the shared real runs (test/shared-runs.ts, no
// run of its own), and on plans resolved in-process with secrets set, which never reach plan.json.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { readPlanFile, replayRunFolder, writePlanFile } from '../src/record/replay';
import { END_FILE, PLAN_FILE } from '../src/common/run-files';
import { resolvePlan } from '../src/plan/resolve';
import { runConfigFromPlan } from '../src/artillery/write-run-config';
import { UsageError } from '../src/common/errors';
import { healthyThenFailing } from './shared-runs';

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1MSIsImVtYWlsIjoibG9hZEB2b3hhbm5lLnRlc3QifQ.c2lnbmF0dXJlLXNlY3JldA';

describe('a real run folder replays into its record', () => {
  test('the healthy and the failing run: run.json equals the replay, field for field', async () => {
    const { healthy, failing } = await healthyThenFailing();
    for (const run of [healthy, failing]) {
      assert.ok(run.dir, `a run folder (exit ${run.code})`);
      const written = JSON.parse(readFileSync(join(run.dir, 'run.json'), 'utf8'));
      // Nothing is ignored: the id and times come from end.json, everything else from the plan and the channel.
      assert.deepEqual(JSON.parse(JSON.stringify(replayRunFolder(run.dir))), written);
    }
  });

  test('a copy of the folder elsewhere replays the same (no path of the original is needed)', async () => {
    const { failing } = await healthyThenFailing();
    const copy = mkdtempSync(join(tmpdir(), 'voxanne-replay-'));
    try {
      for (const f of [PLAN_FILE, END_FILE, 'events.ndjson', 'tail.json']) cpSync(join(failing.dir!, f), join(copy, f));
      assert.deepEqual(JSON.parse(JSON.stringify(replayRunFolder(copy))), JSON.parse(readFileSync(join(failing.dir!, 'run.json'), 'utf8')));
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});

describe('plan.json', () => {
  const dir = () => mkdtempSync(join(tmpdir(), 'voxanne-plan-'));

  test('reads back as the plan that was resolved; the token is not in it', async () => {
    const plan = await resolvePlan(['--profile', 'smoke', '--base-url', 'http://127.0.0.1:9', '--strict', '--count-429'], { API_TOKEN: JWT });
    assert.equal(plan.auth.mode, 'token');
    const d = dir();
    try {
      writePlanFile(d, plan);
      const text = readFileSync(join(d, PLAN_FILE), 'utf8');
      assert.ok(!text.includes('eyJ') && !text.includes('c2lnbmF0dXJl'), 'no part of the token');
      const json = (v: unknown) => JSON.parse(JSON.stringify(v)); // options not given are undefined, and JSON leaves them out
      assert.deepEqual(json(readPlanFile(d)), json(plan));
      assert.equal(readPlanFile(d).profile.capacity, undefined);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  test('keeps VOXANNE_HEALTH_TIMEOUT_MS: the replayed plan gives Artillery the same health timeout', async () => {
    const plan = await resolvePlan(['--profile', 'smoke', '--base-url', 'http://127.0.0.1:9', '--dry-run'], { VOXANNE_HEALTH_TIMEOUT_MS: '1250' });
    assert.equal(runConfigFromPlan(plan).healthTimeoutMs, 1250);
    const d = dir();
    try {
      writePlanFile(d, plan);
      assert.equal(runConfigFromPlan(readPlanFile(d)).healthTimeoutMs, 1250);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
    // Unset, the default; a value that is not a positive number is refused before anything is sent.
    assert.equal(runConfigFromPlan(await resolvePlan(['--profile', 'smoke', '--base-url', 'http://127.0.0.1:9', '--dry-run'], {})).healthTimeoutMs, 5000);
    await assert.rejects(
      resolvePlan(['--profile', 'smoke', '--base-url', 'http://127.0.0.1:9', '--dry-run'], { VOXANNE_HEALTH_TIMEOUT_MS: 'soon' }),
      (err) => err instanceof UsageError && err.message === 'VOXANNE_HEALTH_TIMEOUT_MS must be a number above 0 and at most 600000 (got "soon")',
    );
  });

  test('a sign-in plan keeps the password and the anon key out; a token pasted into the scenario is redacted', async () => {
    const env = {
      SUPABASE_URL: 'http://127.0.0.1:9',
      SUPABASE_ANON_KEY: 'anon-key-s3cr3t',
      LOAD_TEST_EMAIL: 'load@voxanne.test',
      LOAD_TEST_PASSWORD: 'pa55w0rd-s3cr3t',
    };
    const saved = { ...process.env };
    Object.assign(process.env, env); // the redactor reads the secrets' values from the environment
    const d = dir();
    try {
      const plan = await resolvePlan(['--profile', 'smoke', '--dry-run', '--base-url', 'http://127.0.0.1:9'], env);
      assert.equal(plan.auth.mode, 'sign-in');
      plan.scenario.config.defaults = { headers: { authorization: `Bearer ${JWT}`, 'x-key': env.SUPABASE_ANON_KEY } };
      writePlanFile(d, plan);
      const text = readFileSync(join(d, PLAN_FILE), 'utf8');
      for (const secret of [env.SUPABASE_ANON_KEY, env.LOAD_TEST_PASSWORD, 'eyJ']) {
        assert.ok(!text.includes(secret), `${secret.slice(0, 6)}... not in plan.json`);
      }
      assert.match(text, /Bearer \[redacted token\]/);
    } finally {
      process.env = saved;
      rmSync(d, { recursive: true, force: true });
    }
  });

  test('a plan.json that is not one names the field', () => {
    const d = dir();
    try {
      cpSync(join(__dirname, 'fixtures', 'runs', 'healthy', PLAN_FILE), join(d, PLAN_FILE));
      const data = JSON.parse(readFileSync(join(d, PLAN_FILE), 'utf8'));
      data.stages = 'many';
      writeFileSync(join(d, PLAN_FILE), JSON.stringify(data));
      assert.throws(() => readPlanFile(d), /^Error: plan\.json: stages: /);
      assert.throws(() => replayRunFolder(join(d, 'nowhere')), /no run folder/);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
