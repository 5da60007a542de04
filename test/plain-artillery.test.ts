// At home in Artillery: the journey runs with plain `npx artillery run` (phases, gates and an
// environment in the YAML, the processor bundled by Artillery, the plugin as a package), and a run
// folder's script.yml runs that exact test again. Real Artillery against the stand-in on loopback.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { loadEnvironment } from '../src/catalog/config';
import { conditionsForPhases, ensureConfig, gatesForPlan } from '../src/record/gates';
import { toPhases } from '../src/plan/users';
import { resolvePlan } from '../src/plan/resolve';
import { startStandIn } from '../src/standin/server';
import { cleanEnv, QUICK, ROOT, runPack, withRunSlot } from './helpers';

const SCENARIO = join(ROOT, 'scenarios', 'journey.yml');

/**
 * `npx artillery run ...` in `cwd` (the repository root), with none of the pack's variables set.
 * `seconds` is the run's own time, from its start (once a run slot was free) to its end.
 */
function artillery(args: string[], cwd = ROOT): Promise<{ code: number | null; out: string; seconds: number }> {
  return withRunSlot(() => startArtillery(args, cwd));
}

function startArtillery(args: string[], cwd: string): Promise<{ code: number | null; out: string; seconds: number }> {
  const started = Date.now();
  const child = spawn('npx', ['--no-install', 'artillery', 'run', ...args], {
    cwd,
    env: cleanEnv({ ARTILLERY_DISABLE_TELEMETRY: '1', NO_COLOR: '1' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out, seconds: (Date.now() - started) / 1000 })));
}

/**
 * A checkout of its own: the files a plain run reads, and the same node_modules. Artillery bundles a
 * TypeScript processor into processors/dist/ beside it and deletes that when its run ends, so two
 * plain runs from one checkout at once would pull it from under each other; a copy has its own.
 */
function checkout(): string {
  const dir = mkdtempSync(join(tmpdir(), 'voxanne-checkout-'));
  for (const part of ['package.json', 'scenarios', 'processors', 'src', 'config', 'environments']) {
    cpSync(join(ROOT, part), join(dir, part), { recursive: true, filter: (from) => !from.endsWith(`${sep}dist`) });
  }
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

async function planOf(profile: string, timeScale = 1) {
  return resolvePlan(['--env', 'local', '--profile', profile, '--time-scale', String(timeScale)], {});
}

async function plainRun() {
  // The smoke profile squeezed into 10 s, as the pack would run it: phases, gates and the variables
  // the processor derives the users' stays from.
  const plan = await planOf('smoke', 0.25);
  const overrides = { config: { phases: toPhases(plan.stages), plugins: { ensure: ensureConfig(gatesForPlan(plan)) } } };
  const standIn = await startStandIn({ latencyScale: 0.2, seed: 5 });
  try {
    const r = await artillery(
      [
        'scenarios/journey.yml',
        '--target',
        standIn.url,
        '--variables',
        JSON.stringify({ profile: 'smoke', timeScale: 0.25 }),
        '--overrides',
        JSON.stringify(overrides),
      ],
      checkout(),
    );
    return { ...r, log: standIn.stats().log };
  } finally {
    await standIn.close();
  }
}

describe('plain Artillery', { concurrency: true }, () => {
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

  test("the load and rate gates of the phases that ran (the plugin's rewrite of ensure's conditions): the profile's phases change nothing", async () => {
    const yaml = parse(readFileSync(SCENARIO, 'utf8'));
    const plan = await planOf('standard');
    const conditions = yaml.config.plugins.ensure.conditions as Array<{ expression: string; strict: boolean }>;
    assert.deepEqual(conditionsForPhases(conditions, plan, yaml.config.phases), conditions);
    const own = conditionsForPhases(conditions, plan, [{ duration: 4, arrivalRate: 1 }, { pause: '2s' }]);
    const changed = own.map((c, i) => [conditions[i].expression, c.expression]).filter(([a, b]) => a !== b);
    // 4 users x 5 requests, half of them at least; over the 6 s the phases last.
    assert.deepEqual(changed, [
      ['voxanne.requests >= 5500', 'voxanne.requests >= 10'],
      ['voxanne.requests / 420 >= 1', 'voxanne.requests / 6 >= 1'],
    ]);
  });

  test('npx artillery run scenarios/journey.yml: the journey with its expectations and tokens, the gates enforced by ensure', async () => {
    const r = await plainRun();
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

  test('phases of your own: users follow them (one journey each), the run ends with its last phase, and the load and rate gates are those of the phases that ran', async () => {
    const standIn = await startStandIn({ latencyScale: 0.2, seed: 7 });
    try {
      const r = await artillery(
        ['scenarios/journey.yml', '--target', standIn.url, '--overrides', JSON.stringify({ config: { phases: [{ duration: 4, arrivalRate: 1 }] } })],
        checkout(),
      );
      // The standard profile's stays would keep the first users for 7 minutes (420 s): a behaviour
      // bound, not a benchmark, with room for a machine busy with the rest of the suite.
      assert.ok(r.seconds < 180, `the run took ${r.seconds} s`);
      const load = standIn.stats().log.filter((e) => e.load);
      const paths = new Set(load.map((e) => e.path));
      for (const path of ['/health', '/', '/api/calls-dashboard', '/api/vapi/webhook/health', '/api/assistants'])
        assert.ok(paths.has(path), `${path} was requested (${[...paths].join(', ')})\n${r.out}`);
      // Four users, one journey of five requests each.
      assert.equal(load.length, 20, r.out);
      // Judged by its own phases: 4 users x 5 requests planned (at least half of them sent), over 4 s.
      assert.equal(r.code, 0, r.out);
      assert.match(r.out, /^ok: voxanne\.requests >= 10$/m);
      assert.match(r.out, /^ok: voxanne\.requests \/ 4 >= 1$/m);
      assert.deepEqual(r.out.match(/^fail: .*$/gm)?.filter((l) => !l.endsWith('(optional)')) ?? [], [], 'no strict gate failed');
    } finally {
      await standIn.close();
    }
  });

  test('phases of your own that sent too little for themselves: the load gate fails, with that reason, while every other gate passes', async () => {
    // 20 users planned in 4 s (100 requests), but at most one at a time (maxVusers) on a backend that
    // takes over a second per journey: most arrivals are skipped, so far fewer than 50 requests go out.
    const standIn = await startStandIn({ latencyScale: 0.2, seed: 8, extraLatencyMs: 250 });
    try {
      const phases = [{ duration: 4, arrivalRate: 5, maxVusers: 1 }];
      const r = await artillery(['scenarios/journey.yml', '--target', standIn.url, '--overrides', JSON.stringify({ config: { phases } })], checkout());
      const load = standIn.stats().log.filter((e) => e.load);
      assert.ok(load.length < 50, `${load.length} requests`);
      assert.equal(r.code, 1, r.out);
      assert.match(r.out, /^fail: voxanne\.requests >= 50$/m);
      // The per-endpoint p95 budgets are warnings ("(optional)"): only the load gate fails the run.
      assert.deepEqual(
        r.out.match(/^fail: .*$/gm)?.filter((l) => !l.endsWith('(optional)')),
        ['fail: voxanne.requests >= 50'],
        r.out,
      );
      assert.match(r.out, /^ok: voxanne\.requests \/ 4 >= 1$/m);
    } finally {
      await standIn.close();
    }
  });

  test("a run folder's script.yml runs the same test again with plain Artillery (no absolute path, no pack-only variable); a failing backend fails it through ensure", async () => {
    const healthy = await startStandIn({ latencyScale: 0.2, seed: 6 });
    const first = await runPack('run', [...QUICK, '--base-url', healthy.url]);
    await healthy.close();
    assert.equal(first.code, 0, first.stdout + first.stderr);
    const text = readFileSync(join(first.dir!, 'script.yml'), 'utf8');
    // A path of this checkout or of the temporary folder, written as an absolute path.
    for (const dir of [ROOT, tmpdir()])
      assert.doesNotMatch(text, new RegExp(`(^|[\\s"'])${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm'), `no absolute path in script.yml`);
    assert.doesNotMatch(text, /\$env|\$processEnvironment/);
    // The same target (its address is in script.yml) now answers 30 % server errors.
    const failing = await startStandIn({ latencyScale: 0.2, seed: 6, port: Number(new URL(healthy.url).port), errorRate: 0.3, faultsAfterRequests: 2 });
    try {
      const again = await artillery([join(first.dir!, 'script.yml')]);
      assert.equal(again.code, 1, again.out);
      assert.match(again.out, /^ok: http\.response_time\.p99 < 1000$/m);
      assert.match(again.out, /^fail: voxanne\.errors \/ \(voxanne\.requests - voxanne\.rate_limited\) \* 100 < 5$/m);
      assert.ok(failing.stats().log.filter((e) => e.load).length > 0, 'the re-run sent its load');
    } finally {
      await failing.close();
    }
  });
});
