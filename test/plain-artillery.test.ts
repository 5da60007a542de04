// At home in Artillery: the journey runs with plain `npx artillery run` (phases, gates and an
// environment in the YAML, the processor bundled by Artillery, the plugin as a package), and a run
// folder's script.yml runs that exact test again. Real Artillery against the stand-in on loopback.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { loadEnvironment } from '../src/config';
import { ensureConfig, gatesForPlan } from '../src/gates';
import { toPhases } from '../src/plan';
import { resolvePlan } from '../src/run';
import { startStandIn, type StandInOptions } from '../src/standin/server';
import { cleanEnv, QUICK, ROOT, runPack } from './helpers';

const SCENARIO = join(ROOT, 'scenarios', 'journey.yml');

/** `npx artillery run ...` from the repository root, with none of the pack's variables set. */
function artillery(args: string[]): Promise<{ code: number | null; out: string }> {
  const child = spawn('npx', ['--no-install', 'artillery', 'run', ...args], {
    cwd: ROOT,
    env: cleanEnv({ ARTILLERY_DISABLE_TELEMETRY: '1', NO_COLOR: '1' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out })));
}

async function planOf(profile: string, timeScale = 1) {
  return resolvePlan(['--env', 'local', '--profile', profile, '--time-scale', String(timeScale)], {});
}

async function plainRun(options: StandInOptions) {
  // The smoke profile squeezed into 10 s, as the pack would run it: phases, gates and the variables
  // the processor derives the users' stays from.
  const plan = await planOf('smoke', 0.25);
  const overrides = { config: { phases: toPhases(plan.stages), plugins: { ensure: ensureConfig(gatesForPlan(plan)) } } };
  const standIn = await startStandIn({ latencyScale: 0.2, seed: 5, ...options });
  try {
    const r = await artillery([
      'scenarios/journey.yml',
      '--target', standIn.url,
      '--variables', JSON.stringify({ profile: 'smoke', timeScale: 0.25 }),
      '--overrides', JSON.stringify(overrides),
    ]);
    return { ...r, log: standIn.stats().log };
  } finally {
    await standIn.close();
  }
}

// One at a time: Artillery bundles a TypeScript processor into processors/dist/ and deletes it when
// its run ends, so two plain runs from one checkout at once would pull it from under each other.
describe('plain Artillery', () => {
  test('the YAML holds the standard profile, its gates and the local environment, as the pack would generate them', async () => {
    const yaml = parse(readFileSync(SCENARIO, 'utf8'));
    const plan = await planOf('standard');
    const fix = 'update scenarios/journey.yml to';
    assert.deepEqual(yaml.config.phases, toPhases(plan.stages), `${fix} ${JSON.stringify(toPhases(plan.stages))}`);
    assert.deepEqual(yaml.config.plugins.ensure, ensureConfig(gatesForPlan(plan)), `${fix} ${JSON.stringify(ensureConfig(gatesForPlan(plan)))}`);
    assert.deepEqual(yaml.config.variables, { profile: 'standard', timeScale: 1 });
    assert.equal(yaml.config.environments.local.target, loadEnvironment('local').baseUrl);
    assert.equal(yaml.config.processor, '../processors/journey.ts');
  });

  test('npx artillery run scenarios/journey.yml: the journey with its expectations and tokens, the gates enforced by ensure', async () => {
    const r = await plainRun({});
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /Bundled Typescript file into JS/);
    assert.doesNotMatch(r.out, /Could not load plugin|could not be found|processFunc is not a function/);
    assert.match(r.out, /^ok: voxanne\.errors \/ \(voxanne\.requests - voxanne\.rate_limited\) \* 100 < 5$/m);
    const load = r.log.filter((e) => e.load);
    assert.ok(load.length > 0);
    // The development token (a loopback target without API_TOKEN), on the bearer endpoints only.
    assert.ok(load.filter((e) => e.path === '/api/assistants').every((e) => e.orgId === 'load-test-org' && e.status === 200));
    assert.ok(load.filter((e) => e.path === '/').every((e) => e.auth === 'none'));
  });

  test('with plain Artillery a failing backend still fails the run through ensure', async () => {
    const r = await plainRun({ errorRate: 0.3, faultsAfterRequests: 2 });
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /^fail: voxanne\.errors \/ \(voxanne\.requests - voxanne\.rate_limited\) \* 100 < 5$/m);
  });

  test("a run folder's script.yml runs the same test again with plain Artillery: no absolute path, no pack-only variable", async () => {
    const standIn = await startStandIn({ latencyScale: 0.2, seed: 6 });
    try {
      const first = await runPack('run', [...QUICK, '--base-url', standIn.url]);
      assert.equal(first.code, 0, first.stdout + first.stderr);
      const text = readFileSync(join(first.dir!, 'script.yml'), 'utf8');
      // A path of this checkout or of the temporary folder, written as an absolute path.
      for (const dir of [ROOT, tmpdir()]) assert.doesNotMatch(text, new RegExp(`(^|[\\s"'])${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm'), `no absolute path in script.yml`);
      assert.doesNotMatch(text, /\$env|\$processEnvironment/);
      const before = standIn.stats().log.filter((e) => e.load).length;
      const again = await artillery([join(first.dir!, 'script.yml')]);
      assert.equal(again.code, 0, again.out);
      assert.match(again.out, /^ok: http\.response_time\.p99 < 1000$/m);
      assert.ok(standIn.stats().log.filter((e) => e.load).length > before, 'the re-run sent its load');
    } finally {
      await standIn.close();
    }
  });
});
