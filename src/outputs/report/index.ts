// Writes a run's reports: report.html and junit.xml in the run folder, and the reports folder's
// index.html rebuilt from every run.json there. The previous run to compare with is the newest
// other run of the same kind (environment, target, profile and time scale) that started earlier.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parseRecord, RECORD_SCHEMA, type RunRecord } from '../../record/record';
import { kindKey, unlikeBy, type Unlike } from './comparison';
import { renderReport } from './html';
import { renderIndex } from './index-page';
import { renderJUnit } from '../junit';
import { RUN_FILE, REPORT_FILE, JUNIT_FILE, INDEX_FILE } from '../../common/run-files';

interface StoredRun {
  dir: string;
  record: RunRecord;
}

/** A run.json as a record, or a reason it is not one. */
export function readRecord(file: string): RunRecord {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error((err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no run.json' : `unreadable run.json (${(err as Error).message.split('\n')[0]})`, {
      cause: err,
    });
  }
  return parseRecord(data);
}

/**
 * A run's record without its periods, kept next to run.json (valid while run.json's size and
 * mtime match): the index and the comparison need only totals, and a day-long soak's run.json is
 * tens of MB, so re-reading every one of them for every new run would take seconds. Derived data:
 * safe to delete, rebuilt on the next read.
 */
export const SUMMARY_CACHE = '.run-summary.json';

interface SummaryCache {
  size: number;
  mtimeMs: number;
  record: RunRecord;
}

function readSlim(dir: string): RunRecord {
  const file = join(dir, RUN_FILE);
  const st = statSync(file);
  const cacheFile = join(dir, SUMMARY_CACHE);
  try {
    const cache = JSON.parse(readFileSync(cacheFile, 'utf8')) as SummaryCache;
    if (cache.size === st.size && cache.mtimeMs === st.mtimeMs && cache.record?.schema === RECORD_SCHEMA) return cache.record;
  } catch {
    // no cache yet, or a stale or broken one: read run.json
  }
  const record: RunRecord = { ...readRecord(file), periods: [] };
  try {
    writeFileSync(cacheFile, JSON.stringify({ size: st.size, mtimeMs: st.mtimeMs, record } satisfies SummaryCache));
  } catch {
    // a read-only reports folder: no cache, still correct
  }
  return record;
}

/**
 * Every readable run in a reports folder (unreadable or foreign run.json files are skipped).
 * Periods are dropped: the index and the comparison need only the run's totals, so a folder of
 * day-long soaks does not sit in memory.
 */
export function readRuns(reportsDir: string): StoredRun[] {
  let names: string[];
  try {
    names = readdirSync(reportsDir);
  } catch {
    return [];
  }
  const runs: StoredRun[] = [];
  for (const name of names) {
    const dir = join(reportsDir, name);
    if (!existsSync(join(dir, RUN_FILE))) continue;
    try {
      // The folder name is what links point to, even if a folder was renamed.
      runs.push({ dir, record: { ...readSlim(dir), id: name } });
    } catch {
      // not a run of this pack, or cut short: leave it out of the index
    }
  }
  return runs;
}

const started = (r: RunRecord) => Date.parse(r.startedAt);

/** Runs that started before `record`, newest first. */
function earlier(record: RunRecord, runDir: string, runs: StoredRun[]): RunRecord[] {
  const self = resolve(runDir);
  return runs
    .filter(({ dir, record: r }) => resolve(dir) !== self && r.id !== record.id && started(r) < started(record))
    .map(({ record: r }) => r)
    .sort((a, b) => started(b) - started(a));
}

/** The newest earlier run of the same kind (environment, target, profile, time scale), to compare with. */
export function findPrevious(record: RunRecord, runDir: string, runs: StoredRun[]): RunRecord | null {
  return earlier(record, runDir, runs).find((r) => kindKey(r) === kindKey(record)) ?? null;
}

/** When there is none: the newest earlier run that differs only in its time scale or target (named, not compared). */
export function findUnlike(record: RunRecord, runDir: string, runs: StoredRun[]): Unlike | null {
  for (const run of earlier(record, runDir, runs)) {
    const differs = unlikeBy(record, run);
    if (differs) return { run, differs };
  }
  return null;
}

/** Writes them; returns the runs report.html was compared with (the live view shows the same). */
export function writeReports(record: RunRecord, runDir: string, reportsDir: string): { previous: RunRecord | null; unlike: Unlike | null } {
  const runs = readRuns(reportsDir);
  const previous = findPrevious(record, runDir, runs);
  const unlike = previous ? null : findUnlike(record, runDir, runs);
  writeFileSync(join(runDir, REPORT_FILE), renderReport(record, previous, unlike));
  writeFileSync(join(runDir, JUNIT_FILE), renderJUnit(record));

  // The index: this run as it is now (its run.json may be older than the record in hand).
  const self = resolve(runDir);
  const inIndex = runs.filter((r) => resolve(r.dir) !== self).map((r) => r.record);
  if (resolve(dirname(runDir)) === resolve(reportsDir)) inIndex.push({ ...record, id: basename(runDir), periods: [] });
  writeFileSync(join(reportsDir, INDEX_FILE), renderIndex(inIndex));
  return { previous, unlike };
}

/** The newest run folder in a reports folder (by start time), or undefined when there is none. */
export function newestRunDir(reportsDir: string): string | undefined {
  const runs = readRuns(reportsDir);
  runs.sort((a, b) => started(b.record) - started(a.record) || b.dir.localeCompare(a.dir));
  return runs[0]?.dir;
}

export const isDir = (p: string): boolean => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};
