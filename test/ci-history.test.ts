// Scheduled runs in CI start from a clean checkout each time: only what the workflow carries in its
// cache links one run to the next. Two "clones" (two empty reports folders) share only the carry
// folder, moved by the same commands the workflow runs: history import, the run, history export.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { CARRY_LIMITS } from '../src/outputs/ci-history';
import { startStandIn } from '../src/standin/server';
import { QUICK, ROOT, runPack } from './helpers';
import { packInProcess } from './in-process';
import { healthyThenFailing } from './shared-runs';

/** `node bin/pack.js history <action> <carry> --reports <reports>`, as the workflow's steps run it. */
async function history(action: 'import' | 'export', carry: string, reports: string): Promise<{ code: number | null; out: string }> {
  const r = await packInProcess('history', [action, carry, '--reports', reports]);
  return { code: r.code, out: r.stdout + r.stderr };
}

const runFolders = (dir: string) =>
  readdirSync(dir)
    .filter((f) => /^\d{8}-/.test(f))
    .sort();

describe('history carried between scheduled runs', { concurrency: true }, () => {
  test('the workflow runs the same commands this test does', () => {
    const wf = parse(readFileSync(join(ROOT, '.github', 'workflows', 'scheduled-prod.yml'), 'utf8'));
    const runs = Object.values(wf.jobs as Record<string, { steps: Array<{ run?: string }> }>).flatMap((j) => j.steps.map((s) => s.run));
    assert.ok(runs.includes('node bin/pack.js history import .history-carry'));
    assert.ok(runs.includes('node bin/pack.js history export .history-carry'));
  });

  test('a run in a fresh clone compares with the runs before it, and its index lists them all', async () => {
    const carry = join(mkdtempSync(join(tmpdir(), 'voxanne-carry-')), '.history-carry'); // the cache: missing at first

    // Scheduled runs 1 and 2, clone A: the healthy and the failing run of test/shared-runs.ts.
    const earlier = await healthyThenFailing();
    const a = mkdtempSync(join(tmpdir(), 'voxanne-test-'));
    const firstImport = await history('import', carry, a);
    assert.equal(firstImport.code, 0, firstImport.out);
    assert.match(firstImport.out, /nothing carried/);
    cpSync(earlier.reports, a, { recursive: true });
    assert.equal((await history('export', carry, a)).code, 0);

    // Scheduled run 3, clone B: starts empty, gets only the carry folder.
    const b = mkdtempSync(join(tmpdir(), 'voxanne-test-'));
    const restored = await history('import', carry, b);
    assert.equal(restored.code, 0, restored.out);
    assert.match(restored.out, /restored 2 runs and 2 history lines/);
    // The same target as runs 1 and 2 (scheduled runs all test the same backend): comparable.
    const standIn = await startStandIn({ latencyScale: 0.2, seed: 7, port: earlier.failing.port });
    const third = await runPack('run', QUICK, { BASE_URL: standIn.url }, { reportsDir: b }).finally(() => standIn.close());
    assert.equal(third.code, 0, third.stdout + third.stderr);
    assert.equal((await history('export', carry, b)).code, 0);

    const ids = [earlier.healthy.record!.id, earlier.failing.record!.id, third.record!.id];
    assert.equal(new Set(ids).size, 3);
    const report = readFileSync(join(third.dir!, 'report.html'), 'utf8');
    assert.match(report, new RegExp(`<section id="compare"[^>]*data-compare="${ids[1]}"`), 'the third report compares with the run before it');
    const index = readFileSync(join(b, 'index.html'), 'utf8');
    for (const id of ids) assert.ok(index.includes(`data-run="${id}"`), `index.html lists ${id}`);
    // The carried runs' links in the index work: they have a report (without charts).
    for (const id of ids.slice(0, 2)) assert.match(readFileSync(join(b, id, 'report.html'), 'utf8'), new RegExp(id));
    const lines = readFileSync(join(b, 'history.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).id);
    assert.deepEqual(lines, ids);
    // What goes on to run 4: all three, without their per-period data.
    assert.deepEqual(readdirSync(join(carry, 'runs')).sort(), [...ids].sort());
    for (const id of ids) {
      assert.deepEqual(JSON.parse(readFileSync(join(carry, 'runs', id, 'run.json'), 'utf8')).periods, []);
    }
  });

  test(`what is carried stays bounded: the newest ${CARRY_LIMITS.runs} runs`, async () => {
    // A real run's folder (test/shared-runs.ts), copied.
    const r = (await healthyThenFailing()).healthy;
    const reports = mkdtempSync(join(tmpdir(), 'voxanne-test-'));
    cpSync(r.dir!, join(reports, basename(r.dir!)), { recursive: true });
    const record = JSON.parse(readFileSync(join(r.dir!, 'run.json'), 'utf8'));
    // Older copies of the run, an hour apart.
    for (let i = 1; i <= CARRY_LIMITS.runs + 5; i++) {
      const id = `20200101-${String(i).padStart(2, '0')}0000-local-smoke`;
      cpSync(r.dir!, join(reports, id), { recursive: true });
      writeFileSync(join(reports, id, 'run.json'), JSON.stringify({ ...record, id, startedAt: new Date(Date.UTC(2020, 0, 1, 0, i)).toISOString() }));
    }
    const carry = mkdtempSync(join(tmpdir(), 'voxanne-carry-'));
    const out = await history('export', carry, reports);
    assert.equal(out.code, 0, out.out);
    const carried = readdirSync(join(carry, 'runs'));
    assert.equal(carried.length, CARRY_LIMITS.runs);
    assert.ok(carried.includes(r.record!.id), 'the newest run is carried');
    assert.equal(runFolders(reports).length, CARRY_LIMITS.runs + 6);
  });

  test('bad use: one line, exit 2', async () => {
    const { code, stderr: err } = await packInProcess('history', ['push']);
    assert.equal(code, 2);
    assert.deepEqual(err.trim().split('\n'), ['error: expected "history export DIR" or "history import DIR" (got "push"); see history --help']);
  });
});
