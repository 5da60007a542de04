// Scale-out through Artillery's distributed runners. No cloud is reachable here, so everything short
// of AWS is checked for real: the run's bundle as Artillery's own packer (createBOM) sees it, called
// as run-fargate and run-lambda call it; the bundle alone in an empty folder, run by plain Artillery
// as a worker runs it, against the stand-in on loopback (its breaker too); and the record built from
// two such workers' combined output.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { artilleryScript } from '../src/artillery/artillery-run';
import { secretValues } from '../src/artillery/distributed';
import { writeBundle } from '../src/artillery/bundle';
import { resolvePlan } from '../src/plan/resolve';
import { gatesForPlan } from '../src/record/gates';
import { signJwt } from '../src/common/jwt';
import { startStandIn, type StandIn } from '../src/standin/server';
import { artilleryEnsure, cleanEnv, ROOT, withRunSlot } from './helpers';
import { packInProcess } from './in-process';
import { importEsm } from '../src/common/import-esm';

const FIXTURE = join(ROOT, 'test', 'fixtures', 'combined-output.json');
const apiToken = signJwt({ email: 'ci@example.com', app_metadata: { org_id: 'org-ci' }, exp: Math.floor(Date.now() / 1000) + 3600 }, 'k');
const BOM = join(ROOT, 'node_modules', 'artillery', 'dist', 'lib', 'platform', 'aws-ecs', 'legacy', 'bom.js');

/** The bundle of a run of `args`, staged in a fresh folder as the pack stages it for run-fargate/run-lambda. */
async function stage(args: string[], env: Record<string, string> = {}, secrets = false): Promise<string> {
  const plan = await resolvePlan(args, env);
  const dir = mkdtempSync(join(tmpdir(), 'voxanne-bundle-test-'));
  writeBundle(dir, artilleryScript(plan, dir), secrets ? secretValues(env) : undefined);
  return dir;
}

/**
 * Artillery's createBOM on a script, called as its runners call it: run-fargate through
 * create-test.js (packageJsonPath from --packages, none here), run-lambda through
 * aws-lambda/dependencies.js (no packageJsonPath); flags as the commands set them; from `cwd`.
 */
async function artilleryPacker(script: string, platform: 'aws:ecs' | 'aws:lambda', flags: Record<string, unknown>) {
  const { createBOM } = await importEsm(pathToFileURL(BOM).href);
  const g = globalThis as unknown as { artillery?: Record<string, unknown> };
  g.artillery ??= { testRunId: 't-test' };
  const allFlags = { ...flags, platform, count: '2' };
  const opts = platform === 'aws:ecs' ? { packageJsonPath: undefined, flags: allFlags, scenarioPath: script } : { scenarioPath: script, flags: allFlags };
  return (await promisify(createBOM)(script, [], opts)) as { files: Array<{ orig: string; noPrefixPosix: string }>; modules: string[]; pkgDeps: string[] };
}

describe('--platform dry runs: the bundle, what Artillery would upload and install, secrets by name only', () => {
  test('fargate: run from the bundle, --secret NAME for every secret set; the packer installs nothing', async () => {
    const r = await packInProcess('run', ['--env', 'prod', '--platform', 'fargate', '--count', '4', '--region', 'eu-west-1', '--dry-run'], {
      API_TOKEN: apiToken,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /from the bundle's folder: artillery run-fargate script\.yml --count 4 --region eu-west-1 --output <run folder>\/artillery\.json --secret API_TOKEN\n/,
    );
    assert.match(r.stdout, /SSM Parameter Store \/artilleryio\/<NAME> in eu-west-1/);
    assert.match(r.stdout, /Artillery's packer \(createBOM, as run-fargate calls it\) uploads: package\.json, processor\.js, script\.yml\n/);
    assert.match(r.stdout, /npm packages a worker would install: none\n/);
    // The bundle is kept, and is what the lines say.
    const dir = /bundle: +(\S+)/.exec(r.stdout)![1];
    assert.deepEqual(readdirSync(dir).sort(), ['package.json', 'processor.js', 'script.yml']);
    const kb = (statSync(join(dir, 'processor.js')).size / 1e6).toFixed(1);
    assert.match(r.stdout, new RegExp(`processor\\.js +${kb} MB`));
    // Artillery's leader judges the bundle's ensure conditions on all four workers' combined output
    // (its workers run with ensure off): the load they must show is four workers' plan, as shown.
    const enough = /gates \(judged on all 4 workers' combined output, by Artillery's leader and the record\):\n {2}gate +Enough load to judge +>= (\d+)/;
    const shown = Number(enough.exec(r.stdout)?.[1]);
    const script = parse(readFileSync(join(dir, 'script.yml'), 'utf8')) as { config: { plugins: { ensure: { conditions: Array<{ expression: string }> } } } };
    assert.ok(
      script.config.plugins.ensure.conditions.some((c) => c.expression === `voxanne.requests >= ${shown}`),
      `the bundle's load gate is ${shown}`,
    );
    const one = await packInProcess('run', ['--env', 'prod', '--platform', 'local', '--dry-run'], { API_TOKEN: apiToken });
    const single = Number(/\n {2}gate +Enough load to judge +>= (\d+)/.exec(one.stdout)?.[1]);
    assert.ok(single > 0 && Math.abs(shown - 4 * single) < 4, `${shown} for 4 workers, ${single} for one`);
    assert.ok(!r.stdout.includes(apiToken));
    for (const f of readdirSync(dir)) assert.ok(!readFileSync(join(dir, f), 'utf8').includes(apiToken), `no token in ${f}`);
  });

  test("lambda: secrets travel in the bundle's secrets.env (never on the command line); the dry run writes none", async () => {
    const r = await packInProcess('run', ['--env', 'prod', '--platform', 'lambda', '--count', '2', '--dry-run'], {
      API_TOKEN: apiToken,
      LOAD_TEST_PASSWORD: 'hunter2-secret',
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /artillery run-lambda script\.yml --count 2 --region us-east-1 --output <run folder>\/artillery\.json --dotenv secrets\.env\n/);
    assert.match(r.stdout, /secrets API_TOKEN, LOAD_TEST_PASSWORD: in the bundle's secrets\.env \(owner-only, removed after the run\)/);
    assert.match(r.stdout, /npm packages a worker would install: none\n/);
    const dir = /bundle: +(\S+)/.exec(r.stdout)![1];
    assert.ok(!existsSync(join(dir, 'secrets.env')));
    assert.ok(!r.stdout.includes(apiToken) && !r.stdout.includes('hunter2-secret'));
  });

  test('bad platform options: one line, exit 2', async () => {
    const bad = await packInProcess('run', ['--platform', 'k8s', '--dry-run']);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr.trim(), 'error: --platform takes local, fargate or lambda (got "k8s")');
    const region = await packInProcess('run', ['--platform', 'fargate', '--region', 'europe', '--dry-run']);
    assert.equal(region.stderr.trim(), 'error: --region "europe" is not an AWS region; use e.g. eu-west-1');
    const local = await packInProcess('run', ['--from-output', FIXTURE]);
    assert.equal(local.stderr.trim(), 'error: --from-output needs --platform fargate or lambda (the runner that made the output)');
  });
});

describe('the preflight of a distributed run: once, from here, before any worker starts', () => {
  test('an unhealthy target: exit 3, only /health was asked, no worker started and no bundle made', async () => {
    const standIn = await startStandIn({ latencyScale: 0.2, healthDegraded: true });
    try {
      const r = await packInProcess('run', ['--env', 'local', '--base-url', standIn.url, '--profile', 'smoke', '--platform', 'fargate', '--count', '3']);
      assert.equal(r.code, 3, r.stdout + r.stderr);
      assert.equal(r.record?.outcome, 'unhealthy');
      assert.match(r.record?.reason ?? '', /^The target was not healthy before the load \(degraded\); no load was sent\.$/);
      assert.deepEqual(
        standIn.stats().log.map((e) => e.path),
        ['/health'],
      );
      assert.ok(!existsSync(join(r.dir!, 'bundle')) && !existsSync(join(r.dir!, 'artillery.log')), 'Artillery was not started');
    } finally {
      await standIn.close();
    }
  });
});

describe("Artillery's own packer on the staged bundle", () => {
  test("aws:ecs (run-fargate): the bundle's three files, no .ts, no npm package to install", async () => {
    const dir = await stage(['--env', 'prod', '--platform', 'fargate'], { API_TOKEN: apiToken });
    const bom = await artilleryPacker(join(dir, 'script.yml'), 'aws:ecs', { secret: ['API_TOKEN'], region: 'us-east-1' });
    assert.deepEqual(bom.files.map((f) => f.noPrefixPosix).sort(), ['package.json', 'processor.js', 'script.yml']);
    assert.ok(bom.files.every((f) => f.orig.startsWith(dir) && !f.orig.endsWith('.ts')));
    assert.deepEqual(bom.modules, []);
    assert.deepEqual(bom.pkgDeps, []);
    // The script as a worker reads it: the processor beside it, nothing a worker would install.
    const script = parse(readFileSync(join(dir, 'script.yml'), 'utf8'));
    assert.equal(script.config.processor, './processor.js');
    assert.equal(script.config.bundling, undefined);
    assert.deepEqual(Object.keys(script.config.plugins).sort(), ['ensure', 'expect', 'metrics-by-endpoint']);
    assert.deepEqual(script.before, { flow: [{ function: 'startWorkerBreaker' }] }, 'the breaker travels; the preflight ran before the workers');
  });

  test('aws:lambda (run-lambda): the bundle with its owner-only secrets.env at its root, named as the worker is told', async () => {
    const dir = await stage(['--env', 'prod', '--platform', 'lambda'], { API_TOKEN: apiToken }, true);
    assert.equal(statSync(join(dir, 'secrets.env')).mode & 0o777, 0o600);
    // run-lambda resolves --dotenv from the folder Artillery runs in (the bundle's) and tells each worker its base name.
    const bom = await artilleryPacker(join(dir, 'script.yml'), 'aws:lambda', { dotenv: join(dir, 'secrets.env'), region: 'us-east-1' });
    assert.deepEqual(bom.files.map((f) => f.noPrefixPosix).sort(), ['package.json', 'processor.js', 'script.yml', 'secrets.env']);
    // The script path run-lambda passes to each worker is relative to the uploaded folder (not this machine's path).
    assert.equal(bom.files.find((f) => f.orig === join(dir, 'script.yml'))?.noPrefixPosix, 'script.yml');
    assert.deepEqual(bom.modules, []);
  });
});

/** `artillery run script.yml -o out.json` with the repository's Artillery, in `cwd`, as a worker runs it. */
function worker(cwd: string, workerId: string, extra: string[] = []): Promise<{ code: number | null; out: string; seconds: number }> {
  return withRunSlot(() => {
    const started = Date.now();
    const child = spawn(join(ROOT, 'node_modules', '.bin', 'artillery'), ['run', 'script.yml', '-o', 'out.json', ...extra], {
      cwd,
      // As Artillery's Fargate and Lambda workers run it: ensure off there, its leader judges the combined output.
      env: cleanEnv({ ARTILLERY_DISABLE_TELEMETRY: '1', NO_COLOR: '1', WORKER_ID: workerId, ARTILLERY_DISABLE_ENSURE: 'true' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    return new Promise((resolve) => child.on('close', (code) => resolve({ code, out, seconds: (Date.now() - started) / 1000 })));
  });
}

/** The bundle's files alone, copied into an empty folder. */
function alone(bundle: string): string {
  const empty = mkdtempSync(join(tmpdir(), 'voxanne-worker-'));
  for (const f of readdirSync(bundle)) copyFileSync(join(bundle, f), join(empty, f));
  return empty;
}

type Output = { aggregate: Period; intermediate: Period[] };
type Period = {
  period?: string | number;
  firstMetricAt: number;
  lastMetricAt: number;
  counters: Record<string, number>;
  summaries: Record<string, Record<string, number>>;
};

/**
 * Two workers' outputs combined as Artillery's leader adds up its workers' periods: counters add,
 * periods line up by start. (The leader merges latency histograms exactly; their summaries here
 * keep the larger figure, which no assertion below reads.)
 */
function combine(outputs: Output[]): Output & { histograms?: unknown } {
  const merge = (parts: Period[]): Period => {
    const counters: Record<string, number> = {};
    const summaries: Record<string, Record<string, number>> = {};
    for (const p of parts) {
      for (const [n, v] of Object.entries(p.counters)) counters[n] = (counters[n] ?? 0) + v;
      for (const [n, s] of Object.entries(p.summaries ?? {})) {
        const into = (summaries[n] ??= {});
        for (const [k, v] of Object.entries(s)) into[k] = k === 'count' ? (into[k] ?? 0) + v : Math.max(into[k] ?? v, v);
      }
    }
    return {
      period: parts[0].period,
      firstMetricAt: Math.min(...parts.map((p) => p.firstMetricAt)),
      lastMetricAt: Math.max(...parts.map((p) => p.lastMetricAt)),
      counters,
      summaries,
    };
  };
  const byPeriod = new Map<string, Period[]>();
  for (const o of outputs) for (const p of o.intermediate) byPeriod.set(String(p.period), [...(byPeriod.get(String(p.period)) ?? []), p]);
  return {
    aggregate: merge(outputs.map((o) => o.aggregate)),
    intermediate: [...byPeriod.keys()].sort().map((k) => merge(byPeriod.get(k)!)),
  };
}

describe('the bundle alone in an empty folder, run by plain Artillery as a worker runs it', { concurrency: true }, () => {
  const QUICK = ['--profile', 'smoke', '--time-scale', '0.5', '--breaker', 'on', '--platform', 'fargate', '--count', '2'];

  test("two workers on the stand-in: all five endpoints, the gates; one worker's /health goes bad and its own breaker stops its load; the record from their combined output says which and why", async () => {
    const healthy = await startStandIn({ latencyScale: 0.2, seed: 11 });
    // The second worker's backend (given with --target, which run-fargate passes on to its workers): /health degrades 4 s into its load.
    const degrading = await startStandIn({ latencyScale: 0.2, seed: 12, healthDegraded: { afterSeconds: 4, fromRequest: 1 } });
    let a: Awaited<ReturnType<typeof worker>>;
    let b: Awaited<ReturnType<typeof worker>>;
    const folders: string[] = [];
    const stand: { a: StandIn; b: StandIn } = { a: healthy, b: degrading };
    try {
      const bundle = await stage(['--env', 'local', '--base-url', healthy.url, ...QUICK]);
      folders.push(alone(bundle), alone(bundle));
      [a, b] = await Promise.all([worker(folders[0], 'worker-a'), worker(folders[1], 'worker-b', ['--target', degrading.url])]);
    } finally {
      await healthy.close();
      await degrading.close();
    }
    // Worker A: the whole journey, gates passed, no breaker.
    assert.equal(a.code, 0, a.out);
    const loadA = stand.a.stats().log.filter((e) => e.load);
    const paths = new Set(loadA.map((e) => e.path));
    for (const path of ['/health', '/', '/api/calls-dashboard', '/api/vapi/webhook/health', '/api/assistants'])
      assert.ok(paths.has(path), `${path} was requested\n${a.out}`);
    assert.match(a.out, /^http\.codes\.200: /m);
    assert.doesNotMatch(a.out, /^Checks:/m, 'a worker judges nothing: its leader does');
    assert.doesNotMatch(a.out, /Breaker|could not be found|Could not load plugin|Cannot find module/);
    // Worker B: its breaker said so, and its users sent nothing after it (the rest of its phases went by without load).
    const said = /^\[voxanne\] Breaker on worker worker-b: \/health went bad mid-run \(degraded: database down\)\. Stopping this worker's load\.$/m;
    assert.match(b.out, said);
    const loadB = stand.b.stats().log.filter((e) => e.load);
    // Each worker's load is timed from its own first request: the two may not start together on a busy machine.
    const span = (log: { t: number }[]) => Math.max(...log.map((e) => e.t)) - Math.min(...log.map((e) => e.t));
    assert.ok(span(loadA) - span(loadB) > 3000, `worker B's load lasted ${span(loadB)} ms, worker A's ${span(loadA)} ms`);
    assert.match(b.out, /voxanne\.breaker\.health\.worker-b: \.+ 1$/m);

    // The record from the two workers' combined output.
    const outputs = folders.map((f) => JSON.parse(readFileSync(join(f, 'out.json'), 'utf8')) as Output);
    const combined = combine(outputs);
    const combinedFile = join(mkdtempSync(join(tmpdir(), 'voxanne-combined-')), 'combined.json');
    writeFileSync(combinedFile, JSON.stringify(combined));
    const r = await packInProcess('run', ['--env', 'local', ...QUICK, '--from-output', combinedFile]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.equal(r.record?.outcome, 'aborted');
    assert.equal(r.record?.reason, 'Stopped early by the breaker: 1 of 2 workers stopped its own load: worker-b (/health went bad).');
    assert.deepEqual(
      r.record?.workerStops?.map((s) => [s.worker, s.cause]),
      [['worker-b', 'health']],
    );
    assert.equal(r.record?.totals.requests, outputs[0].aggregate.counters['voxanne.requests'] + outputs[1].aggregate.counters['voxanne.requests']);
    assert.match(r.stdout, /Stopped early by the breaker: 1 of 2 workers stopped its own load: worker-b/);
    assert.match(readFileSync(join(r.dir!, 'report.html'), 'utf8'), /worker-b \(\/health went bad\)/);
    // Artillery's leader judges the bundle's ensure conditions on the same combined output, with its
    // own plugin: the load gate is both workers' plan, and it agrees with the record, gate by gate.
    const { ensure } = (parse(readFileSync(join(folders[0], 'script.yml'), 'utf8')) as { config: { plugins: { ensure: unknown } } }).config.plugins;
    const leader = await artilleryEnsure(ensure, combined.aggregate);
    const gates = r.record.gates;
    const oneWorker = await resolvePlan(['--env', 'local', ...QUICK.slice(0, -4)]);
    const perWorker = gatesForPlan(oneWorker).find((g) => g.id === 'enough-load')!.limit;
    const enough = gates.find((g) => g.id === 'enough-load')!.limit;
    assert.ok(Math.abs(enough - 2 * perWorker) <= 2, `the load gate: ${enough} for 2 workers, ${perWorker} for one`);
    assert.deepEqual(
      leader.map((c) => [c.original, Boolean(c.result)]),
      gates.map((g) => [g.expression, g.passed]),
    );
    console.log(`  workers: A ${loadA.length} requests in ${a.seconds} s, B ${loadB.length} requests in ${b.seconds} s (stopped by its breaker)`);
  });
});

describe('record and report from a combined output', () => {
  test('the usual record, summary and report, with the figures of the output', async () => {
    const output = JSON.parse(readFileSync(FIXTURE, 'utf8'));
    const r = await packInProcess('run', ['--profile', 'smoke', '--time-scale', '0.5', '--platform', 'fargate', '--count', '1', '--from-output', FIXTURE]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const record = r.record!;
    assert.deepEqual(record.platform, { name: 'fargate', count: 1, region: 'us-east-1' });
    assert.equal(record.totals.requests, output.aggregate.counters['http.requests']);
    assert.equal(record.totals.latency?.p99, output.aggregate.summaries['http.response_time'].p99);
    assert.equal(record.periods.length, output.intermediate.length);
    assert.ok(record.periods.every((p) => p.latencySummary && p.latency === undefined));
    assert.equal(record.endpoints.length, 5);
    assert.match(r.stdout, /PASSED: Every gate passed \(from a combined output: \/health was not checked from here\)/);
    assert.match(r.stdout, new RegExp(`p\\(99\\)=${output.aggregate.summaries['http.response_time'].p99}ms`));
    const html = readFileSync(join(r.dir!, 'report.html'), 'utf8');
    assert.match(html, /AWS Fargate, 1 worker in us-east-1/);
    assert.match(html, /<svg/);
  });

  test("one worker's output given as three workers': too little load for the plan of all three, a failed gate", async () => {
    const output = JSON.parse(readFileSync(FIXTURE, 'utf8'));
    const r = await packInProcess('run', ['--profile', 'smoke', '--time-scale', '0.5', '--platform', 'fargate', '--count', '3', '--from-output', FIXTURE]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.equal(r.record?.outcome, 'failed');
    const requests = output.aggregate.counters['voxanne.requests'];
    const enough = r.record?.gates.find((g) => g.id === 'enough-load');
    assert.equal(enough?.value, requests);
    assert.ok(enough && enough.limit > requests, `limit ${enough?.limit} for 3 workers`);
    assert.match(
      r.record?.reason ?? '',
      new RegExp(`^Too short to judge: ${requests} requests in .* planned over .* by 3 workers \\(at least ${enough.limit} needed\\)\\.$`),
    );
  });
});
