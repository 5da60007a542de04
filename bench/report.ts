// `npm run bench:report`: how long building report.html (+ junit.xml) takes, and how big the page
// is, for a 7-minute standard run (42 periods) and for 24-hour soaks (8,640 periods, 5 endpoints).
// Records are synthetic but carry real DDSketch histograms (bench/synthetic-records.ts). Each case is
// built once to warm up, then timed over a few rounds; the table shows the median.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { SUMMARY_CACHE, writeReports } from '../src/outputs/report';
import { renderReport } from '../src/outputs/report/html';
import { renderJUnit } from '../src/outputs/junit';
import { soakRecord, standardRecord } from './synthetic-records';
import type { RunRecord } from '../src/record/record';

interface Case {
  name: string;
  record: RunRecord;
  previous: RunRecord;
  aim: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function time(c: Case, rounds: number): { ms: number; bytes: number; points: number } {
  let html = renderReport(c.record, c.previous); // warm-up
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    html = renderReport(c.record, c.previous);
    renderJUnit(c.record);
    times.push(performance.now() - t);
  }
  const points = /"x":\[([^\]]*)\]/.exec(html)?.[1].split(',').length ?? 0;
  return { ms: median(times), bytes: Buffer.byteLength(html), points };
}

function main(): void {
  console.log('generating records (a day-long record takes a while)...');
  const cases: Case[] = [
    { name: '7-minute standard run (42 periods, up to 10 users)', record: standardRecord(7), previous: standardRecord(3), aim: 1000 },
    { name: '24-hour soak, 1 user (8,640 periods, 5 endpoints)', record: soakRecord(1, 11), previous: soakRecord(1, 5), aim: 3000 },
    { name: '24-hour soak at 10 users (8,640 periods, 5 endpoints)', record: soakRecord(10, 13), previous: soakRecord(10, 5), aim: 3000 },
  ];
  const rows = cases.map((c) => {
    const { ms, bytes, points } = time(c, c.record.periods.length > 1000 ? 3 : 10);
    const runJson = Buffer.byteLength(JSON.stringify(c.record));
    return { c, ms, bytes, points, runJson };
  });
  const mb = (b: number) => `${(b / 1024 / 1024).toFixed(2)} MB`;
  const kb = (b: number) => (b >= 1024 * 1024 ? mb(b) : `${Math.round(b / 1024)} KB`);
  const lines = [
    '| record | run.json | build report.html + junit.xml | aim | report.html | chart points |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows.map(
      ({ c, ms, bytes, points, runJson }) =>
        `| ${c.name} | ${kb(runJson)} | ${ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`} ${ms <= c.aim ? '✓' : '✗'} | < ${c.aim / 1000} s | ${kb(bytes)} ${bytes < 2 * 1024 * 1024 ? '✓' : '✗'} | ${points} |`,
    ),
  ];
  console.log('');
  console.log(`node ${process.version}, ${cpus().length} CPU (nproc), ${cpus()[0]?.model ?? 'unknown CPU'}`);
  console.log('');
  console.log(lines.join('\n'));

  // End to end, as a run does it: writeReports reads every run.json of the reports folder (for the
  // previous run and the index), then writes report.html, junit.xml and index.html.
  const dir = mkdtempSync(join(tmpdir(), 'voxanne-bench-'));
  try {
    const e2e: string[] = [];
    for (const c of cases.slice(0, 2)) {
      for (const r of [c.previous, c.record]) {
        const runDir = join(dir, r.id);
        mkdirSync(runDir, { recursive: true });
        writeFileSync(join(runDir, 'run.json'), JSON.stringify(r));
      }
    }
    for (const c of cases.slice(0, 2)) {
      for (const c2 of cases.slice(0, 2)) for (const r of [c2.previous, c2.record]) rmSync(join(dir, r.id, SUMMARY_CACHE), { force: true });
      const t = performance.now();
      writeReports(c.record, join(dir, c.record.id), dir);
      const cold = performance.now() - t;
      const t2 = performance.now();
      writeReports(c.record, join(dir, c.record.id), dir);
      e2e.push(`| ${c.name} | ${Math.round(cold)} ms | ${Math.round(performance.now() - t2)} ms |`);
    }
    console.log('\nwriteReports end to end, in a reports folder holding those 4 runs (2 of them day-long soaks):\n');
    console.log(
      ['| run | no summary caches yet: reads every run.json (two of 63 MB) | caches valid (every later run) |', '|---|---:|---:|', ...e2e].join('\n'),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const bad = rows.filter((r) => r.ms > r.c.aim || r.bytes >= 2 * 1024 * 1024);
  if (bad.length) {
    console.log(`\nover the aim: ${bad.map((r) => r.c.name).join('; ')}`);
    process.exitCode = 1;
  }
}

main();
