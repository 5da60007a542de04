// The live view (--live): when it starts (the flag, VOXANNE_LIVE, CI, a terminal); its server (on
// loopback only, a port per run, a tab that stops reading dropped, closing with tabs open); and in a
// real browser (Debian's chromium): a real run against a stand-in, whose page fills in period by
// period and ends on report.html without a reload, and a recorded capacity search played back
// into it, whose steps appear one by one.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { readEvents, type RunEvent } from '../src/channel/channel';
import { LiveView } from '../src/live/live';
import { eventTime, feed } from '../src/live/replay';
import { startLiveServer } from '../src/live/server';
import { liveWanted } from '../src/plan/live-wanted';
import { parseRunOptions } from '../src/plan/options';
import { readEndFile, readPlanFile, replayRunFolder } from '../src/record/replay';
import { UsageError } from '../src/common/errors';
import { startStandIn } from '../src/standin/server';
import { cleanEnv, ROOT, withRunSlot } from './helpers';
import { fits } from './layout';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const CAPACITY = join(ROOT, 'test', 'fixtures', 'runs', 'capacity');

async function until<T>(what: string, get: () => T | undefined | false, ms = 60_000): Promise<T> {
  const stop = Date.now() + ms;
  for (;;) {
    const v = get();
    if (v) return v;
    if (Date.now() > stop) throw new Error(`gave up waiting for ${what}`);
    await sleep(50);
  }
}

describe('when the live view starts', () => {
  const tty = { env: {}, tty: true };
  test('--live (or --live-port) always; VOXANNE_LIVE=1 only in a terminal and outside CI', () => {
    assert.equal(liveWanted({ flag: true, env: { CI: 'true' }, tty: false }), true, 'the flag is obeyed in CI without a terminal');
    assert.equal(liveWanted({ flag: false, env: { VOXANNE_LIVE: '1' }, tty: true }), true);
    assert.equal(liveWanted({ flag: false, env: { VOXANNE_LIVE: '1', CI: 'true' }, tty: true }), false, 'not in CI');
    assert.equal(liveWanted({ flag: false, env: { VOXANNE_LIVE: '1', CI: 'false' }, tty: true }), true, 'CI=false is not CI');
    assert.equal(liveWanted({ flag: false, env: { VOXANNE_LIVE: '1' }, tty: false }), false, 'not without a terminal');
    assert.equal(liveWanted({ flag: false, env: { VOXANNE_LIVE: '0' }, tty: true }), false);
    assert.equal(liveWanted({ ...tty, flag: false }), false, 'off unless asked');
    assert.throws(
      () => liveWanted({ flag: false, env: { VOXANNE_LIVE: 'sometimes' }, tty: true }),
      (e: Error) => e instanceof UsageError && /VOXANNE_LIVE takes 1 or 0 \(got "sometimes"\)/.test(e.message),
    );
  });

  test('the options keep it (plan.json too): --live, --live-port N, and a bad port in one line', () => {
    assert.equal(parseRunOptions(['--live'], {}, false).live, true);
    assert.equal(parseRunOptions([], { VOXANNE_LIVE: '1', CI: '1' }, true).live, undefined);
    const o = parseRunOptions(['--live-port', '5665'], {}, false);
    assert.deepEqual([o.live, o.livePort], [true, 5665]);
    assert.throws(() => parseRunOptions(['--live-port', '70000'], {}, false), /--live-port must be a number above 0 and at most 65535 \(got "70000"\)/);
  });
});

describe('the live server', () => {
  test('listens on 127.0.0.1 only, answers only loopback names, and each run gets its own port', async () => {
    const [a, b] = await Promise.all([startLiveServer(), startLiveServer()]);
    try {
      assert.match(a.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
      assert.notEqual(a.port, b.port);
      a.setPage(() => 'the page');
      assert.equal(await (await fetch(a.url)).text(), 'the page');
      assert.equal(await (await fetch(`http://localhost:${a.port}/`)).text(), 'the page');
      // A page from elsewhere that points its own name at 127.0.0.1 (DNS rebinding) gets nothing.
      const rebound = await new Promise<string>((resolve) => {
        const s = connect(a.port, '127.0.0.1', () => s.write(`GET / HTTP/1.1\r\nHost: evil.example:${a.port}\r\nConnection: close\r\n\r\n`));
        let got = '';
        s.on('data', (d) => (got += d.toString())).on('end', () => resolve(got));
      });
      assert.match(rebound, /^HTTP\/1\.1 403/);
      // Not on this machine's other addresses.
      const other = Object.values(networkInterfaces())
        .flat()
        .find((i) => i && i.family === 'IPv4' && !i.internal);
      if (other) {
        const refused = await new Promise<string>((resolve) => {
          const s = connect(a.port, other.address);
          s.on('connect', () => (s.destroy(), resolve('connected'))).on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
        });
        assert.equal(refused, 'ECONNREFUSED', `port ${a.port} on ${other.address}`);
      }
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  test('a tab that stops reading is dropped, and one left open does not keep the server from closing', async () => {
    const server = await startLiveServer(0, { stallMs: 300 });
    const stuck = connect(server.port, '127.0.0.1', () => stuck.write(`GET /events HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n\r\n`));
    stuck.pause(); // reads nothing: the kernel's buffers fill, then the server's would
    await until('the tab to connect', () => server.clients() === 1, 5_000);
    const update = JSON.stringify({ main: 'x'.repeat(1 << 20) });
    let sent = 0;
    while (server.clients() > 0 && sent < 2_000) {
      server.publish('page', update); // never waits for the tab
      sent++;
      await sleep(5);
    }
    assert.equal(server.clients(), 0, `dropped after ${sent} updates of 1 MB`);
    const open = connect(server.port, '127.0.0.1', () => open.write(`GET /events HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n\r\n`));
    await until('the second tab to connect', () => server.clients() === 1, 5_000);
    await server.close();
    const refused = await new Promise<string>((resolve) =>
      connect(server.port, '127.0.0.1')
        .on('connect', () => resolve('connected'))
        .on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? '')),
    );
    assert.equal(refused, 'ECONNREFUSED');
    stuck.destroy();
    open.destroy();
  });
});

async function watch(browser: Browser, width: number) {
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  const problems: string[] = [];
  let loads = 0;
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('framenavigated', (f) => {
    if (f === page.mainFrame()) loads++;
  });
  return { page, problems, loads: () => loads };
}

const outcome = (page: Page) => page.getAttribute('.verdict', 'data-outcome');

describe('in a browser', () => {
  const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing (apt-get install chromium): browser checks NOT run`;

  test(
    'a run with --live: the page fills in period by period, becomes report.html without a reload, fits at 1,100 and 390 px, no console error',
    { skip, timeout: 180_000 },
    async () => {
      const standIn = await startStandIn({ latencyScale: 0.2, seed: 7 });
      const reports = mkdtempSync(join(tmpdir(), 'voxanne-live-'));
      const { chromium } = require('playwright-core') as typeof import('playwright-core');
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
      try {
        await withRunSlot(async () => {
          // smoke at x0.75: 30 s of load, three periods of 10 s. Not a terminal, not asked by the
          // environment: --live itself starts it.
          const child = spawn(process.execPath, ['bin/pack.js', 'run', '--profile', 'smoke', '--time-scale', '0.75', '--live', '--reports', reports], {
            cwd: ROOT,
            env: cleanEnv({ BASE_URL: standIn.url, CI: 'true' }),
            stdio: ['ignore', 'pipe', 'pipe'],
          });
          let out = '';
          child.stdout.on('data', (d) => (out += d));
          child.stderr.on('data', (d) => (out += d));
          const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
          const url = await until(
            'the live URL',
            () => /^live view: (http:\/\/127\.0\.0\.1:\d+\/) \(127\.0\.0\.1 only; from another machine: ssh -L 5665:127\.0\.0\.1:\d+ /m.exec(out)?.[1],
          );
          const wide = await watch(browser, 1100);
          const narrow = await watch(browser, 390);
          await Promise.all([wide.page.goto(url), narrow.page.goto(url)]);
          assert.equal(await outcome(wide.page), 'running');
          assert.match((await wide.page.textContent('[data-doing]')) ?? '', /Starting Artillery|healthy|Stage 1 of 3/);

          // While it runs: the periods so far, the charts' points, and the layout at both widths.
          const seen: Array<{ periods: number; points: number; doing: string }> = [];
          let checkedLayout = false;
          while ((await outcome(wide.page)) === 'running') {
            const now = await wide.page.evaluate(() => ({
              periods: Number(document.querySelector('[data-note="periods"]')?.getAttribute('data-state') ?? -1),
              points: JSON.parse(document.getElementById('chart-data')?.textContent || '{}').charts?.['c-users']?.x?.length ?? 0,
              doing: document.querySelector('[data-doing]')?.textContent ?? '',
              running: document.querySelector('.verdict')?.getAttribute('data-outcome') === 'running',
            }));
            if (!now.running) break;
            seen.push(now);
            if (now.periods >= 1 && !checkedLayout) {
              for (const { page } of [wide, narrow]) {
                const m = await fits(page);
                assert.ok(m.page[0] <= m.page[1], `running, at ${page.viewportSize()?.width} px: the page is ${m.page[0]} px wide in ${m.page[1]}`);
                assert.deepEqual(m.clipped, []);
              }
              assert.equal(await wide.page.textContent('h2#h-health + .health .hcard .pill'), '✓ ok', 'the health before the load');
              checkedLayout = true;
            }
            await sleep(200);
          }
          const periods = [...new Set(seen.map((s) => s.periods))];
          assert.ok(periods.length >= 3 && periods.every((p, i) => i === 0 || p > periods[i - 1]), `the periods grew while it ran: ${periods.join(', ')}`);
          assert.ok(
            seen.some((s) => s.periods >= 2 && s.points >= 2),
            'a point per period on the charts while it ran',
          );
          assert.ok(
            seen.some((s) => /^Stage \d of 3, to \d users over/.test(s.doing)),
            'what it is doing',
          );
          assert.ok(checkedLayout);

          // The end: the verdict, without a reload, in both tabs; the pack exits with them still open.
          await narrow.page.waitForSelector('.verdict[data-outcome="passed"]', { timeout: 30_000 });
          assert.equal(await outcome(wide.page), 'passed');
          assert.match((await wide.page.textContent('.verdict .reason')) ?? '', /Every gate passed/);
          assert.equal(await exited, 0, out);
          assert.deepEqual([wide.loads(), narrow.loads()], [1, 1], 'no reload');

          // The page is now report.html, as written to the run folder.
          const run = readdirSync(reports).find((f) => /^\d{8}-/.test(f));
          assert.ok(run);
          const file = await watch(browser, 1100);
          await file.page.goto(`file://${join(reports, run, 'report.html')}`);
          assert.equal(await wide.page.innerHTML('#main'), await file.page.innerHTML('#main'), 'the live page ends as report.html');
          assert.equal(await wide.page.title(), await file.page.title());
          for (const { page } of [wide, narrow]) {
            const m = await fits(page);
            assert.ok(m.page[0] <= m.page[1], `final, at ${page.viewportSize()?.width} px: the page is ${m.page[0]} px wide in ${m.page[1]}`);
            assert.deepEqual(m.clipped, []);
          }
          assert.deepEqual([...wide.problems, ...narrow.problems, ...file.problems], [], 'no console errors or warnings');
          console.log(
            `live run: periods seen while running ${periods.join(' -> ')}; verdict "${await outcome(wide.page)}" without a reload; pack exited 0 with both tabs open`,
          );
        });
      } finally {
        await browser.close();
        await standIn.close();
        rmSync(reports, { recursive: true, force: true });
      }
    },
  );

  test(
    'a recorded capacity search played back: each step appears as it is judged, with the curve and the prediction, then the answer',
    { skip, timeout: 120_000 },
    async () => {
      const reports = mkdtempSync(join(tmpdir(), 'voxanne-live-cap-'));
      const recorded = readPlanFile(CAPACITY);
      const plan = { ...recorded, opts: { ...recorded.opts, reportsDir: reports } };
      const { id, end } = readEndFile(CAPACITY);
      const secret = 'live-test-secret-4242';
      const saved = process.env.API_TOKEN;
      process.env.API_TOKEN = secret;
      const events: RunEvent[] = readEvents(CAPACITY);
      // A redirect whose address carries the token and a JWT: shown in the diagnosis, redacted.
      const firstPeriod = events.findIndex((e) => e.type === 'period');
      events.splice(firstPeriod + 1, 0, {
        type: 'redirect',
        endpoint: 'assistants',
        status: 302,
        location: `https://login.example/?t=${secret}&jwt=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig`,
      });
      const server = await startLiveServer();
      let now = end.startedAt.getTime();
      const view = new LiveView(server, plan, id, CAPACITY, end.startedAt.getTime(), () => now);
      const { chromium } = require('playwright-core') as typeof import('playwright-core');
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
      try {
        const tab = await watch(browser, 1100);
        await tab.page.goto(server.url);
        const steps: string[] = [];
        let step = 0;
        await feed(view, events, () => 0, {
          before: (e) => void (now = eventTime(e) ?? now),
          after: async (e) => {
            if (e.type === 'redirect') {
              await tab.page.waitForFunction(() => /redirecting to/.test(document.querySelector('#diagnosis')?.textContent ?? ''));
              const html = await tab.page.content();
              assert.ok(!html.includes(secret) && !html.includes('eyJhbGciOiJIUzI1NiJ9'), 'no token reaches the page');
            }
            if (e.type !== 'capacity-step') return;
            step++;
            await tab.page.waitForFunction((n) => document.querySelectorAll('table.capacity-steps tr[data-step]').length === n, step);
            const seen = await tab.page.evaluate(() => ({
              rows: Array.from(document.querySelectorAll('table.capacity-steps tr[data-step]')).map((r) => r.getAttribute('data-step')),
              dots: document.querySelectorAll('#capacity-rps g.dots.s-rps circle').length,
              predicted: document.querySelector('#capacity-rps [data-mark="predicted"]') !== null,
              doing: document.querySelector('[data-doing]')?.textContent ?? '',
              outcome: document.querySelector('.verdict')?.getAttribute('data-outcome'),
            }));
            assert.equal(seen.outcome, 'running');
            assert.equal(seen.rows[seen.rows.length - 1], String(e.step.users), 'the step just judged is the last row');
            assert.equal(seen.dots, step, 'a dot per step on the throughput curve');
            if (e.step.predicted) {
              assert.ok(seen.predicted, 'the prediction is marked on the curve');
              assert.match(seen.doing, new RegExp(`predicted to break at about ${e.step.predicted.users} users`));
            }
            steps.push(`${seen.rows.length}: ${e.step.users} users ${e.step.verdict}${e.step.predicted ? ` (predicted ${e.step.predicted.users})` : ''}`);
          },
        });
        assert.equal(step, events.filter((e) => e.type === 'capacity-step').length);
        await view.finish(replayRunFolder(CAPACITY));
        await tab.page.waitForSelector('.verdict[data-outcome="passed"]');
        assert.match((await tab.page.textContent('.verdict .reason')) ?? '', /Capacity found: the backend held 16 users and broke the gates at 18/);
        assert.equal(tab.loads(), 1, 'no reload');
        assert.deepEqual(tab.problems, [], 'no console errors or warnings');
        console.log(`capacity replay: steps appeared live: ${steps.join('; ')}`);
      } finally {
        if (saved === undefined) delete process.env.API_TOKEN;
        else process.env.API_TOKEN = saved;
        await browser.close();
        await server.close();
        rmSync(reports, { recursive: true, force: true });
      }
    },
  );
});
