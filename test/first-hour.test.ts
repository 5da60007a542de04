// A new user's first hour: commands typed slightly wrong, a machine set up slightly wrong. Each one
// ends with one line and the right exit code, and nothing reaches the target that was not asked for.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { closedPort, countingServer, QUICK, ROOT, runPack } from './helpers';

/** The environment of a child started the way a user would: this Node first on PATH, no npm state. */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) && !['BASE_URL', 'REPORTS_DIR', 'PROFILE', 'API_TOKEN', 'VOXANNE_CONFIRM'].includes(k)),
  );
  return { ...env, PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH}`, ...extra };
}

function collect(child: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => (stdout += d));
  child.stderr?.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

const npm = (args: string[], env: NodeJS.ProcessEnv) => collect(spawn('npm', args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] }));
const errorLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('error'));

describe("npm's own flags (a pack option given without --)", () => {
  let target: Awaited<ReturnType<typeof countingServer>>;
  before(async () => (target = await countingServer()));
  after(() => target.close());

  for (const [flags, message] of [
    [['--dry-run'], 'error: npm took --dry-run as its own flag; write npm run test:local -- --dry-run'],
    [['--yes'], 'error: npm took --yes as its own flag; write npm run test:local -- --yes'],
    [['--profile', 'smoke'], 'error: npm took --profile as its own flag; write npm run test:local -- --profile <value>'],
  ] as const) {
    test(`npm run test:local ${flags.join(' ')}: exit 2, the right spelling, no request sent`, async () => {
      const reports = mkdtempSync(join(tmpdir(), 'voxanne-test-'));
      const r = await npm(['run', 'test:local', ...flags], userEnv({ BASE_URL: target.url, REPORTS_DIR: reports }));
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.deepEqual(errorLines(r.stderr), [message], r.stderr);
      assert.equal(target.requests(), 0);
      assert.deepEqual(readdirSync(reports), [], 'no run folder');
    });
  }
});

describe('the machine, not the target', () => {
  test('an older Node where the registry has no Node for the platform: one line naming what is needed and what was found, exit 2, nothing sent', async () => {
    const target = await countingServer();
    try {
      const child = spawn(process.execPath, ['-r', './test/fixtures/old-node-no-package.js', 'bin/pack.js', 'run', ...QUICK], {
        cwd: ROOT,
        env: userEnv({ BASE_URL: target.url }),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const r = await collect(child);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.deepEqual(r.stderr.trim().split('\n'), [
        'error: this pack needs Node 22.18.0 or newer and found Node 20.10.0; install Node 22 (see .nvmrc: nvm install), then npm ci',
      ]);
      assert.equal(target.requests(), 0);
    } finally {
      await target.close();
    }
  });

  test("an older Node with the pack's own Node installed: the command runs again on the pack's Node", async () => {
    const child = spawn(process.execPath, ['-r', './test/fixtures/old-node.js', 'bin/pack.js', 'run', ...QUICK, '--dry-run'], {
      cwd: ROOT,
      env: userEnv({ BASE_URL: 'http://127.0.0.1:9' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const r = await collect(child);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.doesNotMatch(r.stderr, /needs Node/);
    assert.match(r.stdout, /127\.0\.0\.1:9/, 'the dry run printed its plan');
  });

  test('Artillery that does not start is a local problem with its own error line: exit 2, never "unhealthy"', async () => {
    const target = await countingServer();
    try {
      // A scenario Artillery refuses at start: its payload file does not exist.
      const scenario = parse(readFileSync(join(ROOT, 'scenarios', 'journey.yml'), 'utf8'));
      scenario.config.payload = { path: 'no-such-users.csv', fields: ['email'] };
      const file = join(mkdtempSync(join(tmpdir(), 'voxanne-scenario-')), 'journey.yml');
      writeFileSync(file, stringify(scenario));
      const r = await runPack('run', [...QUICK, '--scenario', file], { BASE_URL: target.url });
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(
        r.stdout,
        /Artillery did not start \(exit \d+: Error: ENOENT: no such file or directory, open '[^']*no-such-users\.csv'\); no load was sent\. A local problem, not the target/,
      );
      assert.doesNotMatch(r.stdout, /UNHEALTHY/);
      assert.equal(r.record?.outcome, 'refused');
      assert.equal(r.record?.exitCode, 2);
      assert.equal(target.requests(), 0);
    } finally {
      await target.close();
    }
  });
});

describe('small traps', () => {
  test('an unusable reports folder (a file, or a path under a file): exit 2 with one line, nothing sent', async () => {
    const target = await countingServer();
    try {
      const file = join(mkdtempSync(join(tmpdir(), 'voxanne-test-')), 'a-file');
      writeFileSync(file, 'not a folder');
      for (const [reports, why] of [
        [file, 'it is a file'],
        [join(file, 'x'), 'a part of the path is a file'],
      ]) {
        // Not runPack: it reads the reports folder afterwards.
        const child = spawn(process.execPath, ['bin/pack.js', 'run', ...QUICK, '--reports', reports], {
          cwd: ROOT,
          env: userEnv({ BASE_URL: target.url }),
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        const r = await collect(child);
        assert.equal(r.code, 2, r.stdout + r.stderr);
        assert.deepEqual(r.stderr.trim().split('\n'), [
          `error: the reports folder ${reports} cannot be used (${why}); pass --reports DIR or REPORTS_DIR with a writable folder`,
        ]);
      }
      assert.equal(target.requests(), 0);
    } finally {
      await target.close();
    }
  });

  test('negative numbers: the usual one-line message', async () => {
    for (const [flag, value, message] of [
      ['--time-scale', '-1', 'error: --time-scale must be a number above 0 and at most 100 (got "-1")'],
      ['--timeout', '-5', 'error: --timeout must be a number above 0 and at most 600 (got "-5")'],
    ]) {
      const r = await runPack('run', ['--dry-run', flag, value]);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.deepEqual(r.stderr.trim().split('\n'), [message]);
    }
  });

  test('a redirecting /health is named with where it points, and not followed: exit 3, one request, no load', async () => {
    const elsewhere = await countingServer();
    const target = await countingServer((req, _body, res) => {
      res.writeHead(302, { location: `${elsewhere.url}${req.url}` });
      res.end();
    });
    try {
      const r = await runPack('run', QUICK, { BASE_URL: target.url });
      assert.equal(r.code, 3, r.stdout + r.stderr);
      assert.match(r.stdout, new RegExp(`/health answered 302, a redirect to ${elsewhere.url.replace(/[.]/g, '\\.')}/health; redirects are not followed`));
      assert.doesNotMatch(r.stdout, /unreachable|No answer|API failing|Redis/);
      assert.equal(r.record?.health.start?.problem, 'redirect');
      assert.deepEqual(target.paths, ['/health'], 'one /health request, not followed');
      assert.equal(elsewhere.requests(), 0, 'the other server was never asked');
    } finally {
      await target.close();
      await elsewhere.close();
    }
  });

  test('an auth server that echoes the request: the password and the anon key never reach the terminal', async () => {
    const password = 'correct-horse-battery-9';
    const anonKey = 'anon-key-0123456789abcdef';
    const auth = await countingServer((req, body, res) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ msg: `Invalid login for ${body} with apikey ${String(req.headers.apikey)}` }));
    });
    const target = await countingServer();
    try {
      const r = await runPack('run', QUICK, {
        BASE_URL: target.url,
        SUPABASE_URL: auth.url,
        SUPABASE_ANON_KEY: anonKey,
        LOAD_TEST_EMAIL: 'load@example.com',
        LOAD_TEST_PASSWORD: password,
      });
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.equal(auth.requests(), 1, 'the sign-in was really tried');
      assert.match(r.stderr, /^error: sign-in failed: Invalid login for .*\[redacted\].* with apikey \[redacted\] \(HTTP 400\)/);
      for (const secret of [password, anonKey]) assert.ok(!(r.stdout + r.stderr).includes(secret), 'secret in the output');
      assert.equal(target.requests(), 0);
    } finally {
      await Promise.all([auth.close(), target.close()]);
    }
  });

  test('six runs that start at once get six run folders', async () => {
    require('../bin/pack.js').build(); // the compiled run-folder module the pack itself uses
    const reports = mkdtempSync(join(tmpdir(), 'voxanne-test-'));
    const startAt = Date.now() + 3000; // every child waits for the same moment, then claims
    const script =
      `const { createRunFolder } = require(${JSON.stringify(join(ROOT, '.build', 'src', 'plan', 'run-folder.js'))});` +
      `while (Date.now() < ${startAt});` +
      `process.stdout.write(createRunFolder(${JSON.stringify(reports)}, '20260101-120000-local-smoke'));`;
    const results = await Promise.all(Array.from({ length: 6 }, () => collect(spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] }))));
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const names = results.map((r) => r.stdout).sort();
    assert.equal(new Set(names).size, 6, `six different names: ${names.join(', ')}`);
    assert.deepEqual(readdirSync(reports).sort(), names);
  });
});

describe('the stand-in and npm run standin', () => {
  const portOpen = (port: number) =>
    new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });

  for (const signal of ['SIGTERM', 'SIGHUP'] as const) {
    test(`stopping npm (${signal}, npm's process only) stops the stand-in and frees its port`, async () => {
      const port = await closedPort();
      // Its own process group, as in a terminal; only npm's own process gets the signal.
      const child = spawn('npm', ['run', 'standin', '--', '--port', String(port)], {
        cwd: ROOT,
        env: userEnv(),
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      // npm's own exit, not its pipes' end: a stand-in that kept running would hold those open.
      const exited = new Promise((resolve) => child.once('exit', resolve));
      try {
        await new Promise<void>((resolve, reject) => {
          child.stdout.on('data', (d) => /listening on/.test(String(d)) && resolve());
          child.on('close', () => reject(new Error('npm run standin ended before listening')));
        });
        assert.ok(await portOpen(port));
        child.kill(signal);
        await exited;
        let open = true;
        for (let i = 0; i < 120 && open; i++) {
          open = await portOpen(port);
          if (open) await new Promise((r) => setTimeout(r, 250));
        }
        assert.equal(open, false, `port ${port} still open after npm was stopped`);
      } finally {
        try {
          process.kill(-child.pid!, 'SIGKILL'); // whatever is left of this test's own group
        } catch {
          // already gone
        }
      }
    });
  }
});
