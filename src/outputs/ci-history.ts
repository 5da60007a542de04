// `node bin/pack.js history export|import DIR`: what a scheduled CI job carries from one run to the
// next, so "since the last run", history.ndjson and the index's trends build up where the runs
// happen. CI starts every job from a clean checkout; the workflow keeps DIR in its cache.
//   export: reports/ -> DIR: history.ndjson (newest lines) and the newest runs' run.json without
//           their per-period data (the comparison and the index read only totals, gates, endpoints).
//   import: DIR -> reports/: the carried runs become run folders again (run.json and a report
//           without charts, so the index's links work); history.ndjson is merged.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { EXIT } from '../common/errors';
import { reportsFolder } from '../plan/run-folder';
import { renderReport } from './report/html';
import { readRecord, readRuns } from './report/index';
import { RUN_FILE, REPORT_FILE } from '../common/run-files';

/** How much is carried: two days of hourly runs for the index, about seven months of history lines. */
export const CARRY_LIMITS = { runs: 48, historyLines: 5000 };
const HISTORY = 'history.ndjson';
const RUNS = 'runs';
const SAFE_NAME = /^[\w.-]+$/;

const USAGE = `usage: node bin/pack.js history export|import DIR [--reports REPORTS]
  export  copy what the next run needs from the reports folder into DIR (replacing DIR's contents)
  import  put what DIR holds back into the reports folder (an empty or missing DIR: nothing to do)
  The reports folder is --reports, else REPORTS_DIR, else reports/.`;

const historyLines = (file: string): string[] =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.trim())
    : [];
const lineId = (line: string): string | undefined => {
  try {
    return String(JSON.parse(line).id);
  } catch {
    return undefined;
  }
};

function exportHistory(reportsDir: string, carryDir: string): { runs: number; lines: number } {
  rmSync(join(carryDir, RUNS), { recursive: true, force: true });
  mkdirSync(join(carryDir, RUNS), { recursive: true });
  const lines = historyLines(join(reportsDir, HISTORY)).slice(-CARRY_LIMITS.historyLines);
  writeFileSync(join(carryDir, HISTORY), lines.length ? `${lines.join('\n')}\n` : '');
  const runs = readRuns(reportsDir) // without periods already
    .filter(({ record }) => SAFE_NAME.test(record.id))
    .sort((a, b) => Date.parse(b.record.startedAt) - Date.parse(a.record.startedAt))
    .slice(0, CARRY_LIMITS.runs);
  for (const { record } of runs) {
    mkdirSync(join(carryDir, RUNS, record.id));
    writeFileSync(join(carryDir, RUNS, record.id, RUN_FILE), JSON.stringify({ ...record, periods: [] }));
  }
  return { runs: runs.length, lines: lines.length };
}

function importHistory(carryDir: string, reportsDir: string): { runs: number; lines: number } {
  mkdirSync(reportsDir, { recursive: true });
  let runs = 0;
  const carriedRuns = existsSync(join(carryDir, RUNS)) ? readdirSync(join(carryDir, RUNS)).filter((n) => SAFE_NAME.test(n)) : [];
  for (const name of carriedRuns) {
    const target = join(reportsDir, name);
    if (existsSync(target)) continue; // this clone has the run already, in full
    let record;
    try {
      record = { ...readRecord(join(carryDir, RUNS, name, RUN_FILE)), id: name };
    } catch {
      continue; // not a run record: leave it out
    }
    mkdirSync(target);
    writeFileSync(join(target, RUN_FILE), JSON.stringify(record));
    writeFileSync(join(target, REPORT_FILE), renderReport(record, null));
    runs++;
  }
  // Carried lines first (they are older), then this folder's own lines that are not among them.
  const carried = historyLines(join(carryDir, HISTORY));
  const known = new Set(carried.map(lineId));
  const own = historyLines(join(reportsDir, HISTORY)).filter((l) => !known.has(lineId(l)));
  const merged = [...carried, ...own];
  if (merged.length) writeFileSync(join(reportsDir, HISTORY), `${merged.join('\n')}\n`);
  return { runs, lines: carried.length };
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const args = [...argv];
  const at = args.indexOf('--reports');
  const reportsArg = at >= 0 ? args.splice(at, 2)[1] : undefined;
  const [action, dir, ...rest] = args;
  if (action === '--help' || action === '-h') {
    console.log(USAGE);
    return 0;
  }
  if ((action !== 'export' && action !== 'import') || !dir || rest.length || (at >= 0 && !reportsArg)) {
    console.error(`error: expected "history export DIR" or "history import DIR" (got "${argv.join(' ')}"); see history --help`);
    return EXIT.badInput;
  }
  const reportsDir = reportsFolder(reportsArg, env);
  const shown = (p: string) => relative(process.cwd(), p) || '.';
  try {
    if (action === 'export') {
      const { runs, lines } = exportHistory(reportsDir, resolve(dir));
      console.log(`history: carried ${runs} runs and ${lines} history lines from ${shown(reportsDir)} to ${shown(dir)}`);
    } else {
      const { runs, lines } = importHistory(resolve(dir), reportsDir);
      console.log(
        runs || lines
          ? `history: restored ${runs} runs and ${lines} history lines from ${shown(dir)} into ${shown(reportsDir)}`
          : `history: nothing carried in ${shown(dir)} (a first run, or the history was reset)`,
      );
    }
    return 0;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    console.error(`error: history ${action} failed (${e.code ?? e.message}); check that ${shown(dir)} and ${shown(reportsDir)} are writable folders`);
    return EXIT.badInput;
  }
}
