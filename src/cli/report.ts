// `npm run report [run dir]`: rebuilds report.html and junit.xml of a run folder (default: the
// newest run in reports/, or REPORTS_DIR), rebuilds the reports folder's index.html, and prints the
// terminal summary from the same record. Bad input is one line on stderr and exit 2.
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { EXIT, UsageError } from '../common/errors';
import { reportsFolder } from '../plan/run-folder';
import { formatSummary } from '../outputs/summary';
import { isDir, newestRunDir, readRecord, writeReports } from '../outputs/report/index';
import { RUN_FILE, REPORT_FILE, JUNIT_FILE, INDEX_FILE } from '../common/run-files';

const USAGE = `usage: npm run report -- [run folder]
  Rebuilds report.html and junit.xml of the run folder and the index.html of the folder that holds it,
  then prints the run's summary. Without a folder: the newest run in REPORTS_DIR (default reports/).
  A reports folder is accepted too: its newest run is used.`;

const shown = (p: string) => relative(process.cwd(), p) || '.';

function pickRunDir(arg: string | undefined, env: NodeJS.ProcessEnv): string {
  if (arg === undefined) {
    const reports = reportsFolder(undefined, env);
    if (!isDir(reports)) throw new UsageError(`no reports folder at ${shown(reports)}; run a load test first (npm run test:local) or pass a run folder`);
    const dir = newestRunDir(reports);
    if (!dir) throw new UsageError(`no run with a readable run.json in ${shown(reports)}; run a load test first (npm run test:local) or pass a run folder`);
    return dir;
  }
  const dir = resolve(arg);
  if (!existsSync(dir)) throw new UsageError(`${arg} does not exist; pass a run folder such as reports/20260101-120000-local-standard`);
  if (!isDir(dir)) throw new UsageError(`${arg} is not a folder; pass a run folder (the one holding run.json)`);
  if (existsSync(join(dir, RUN_FILE))) return dir;
  const newest = newestRunDir(dir);
  if (newest) return newest;
  throw new UsageError(`${arg} has no run.json (and no run folders); pass a run folder such as reports/20260101-120000-local-standard`);
}

/** The command; async like the pack's other commands (bin/pack.js awaits them). */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  try {
    if (argv.includes('--help') || argv.includes('-h')) {
      console.log(USAGE);
      return 0;
    }
    const flag = argv.find((a) => a.startsWith('-'));
    if (flag) throw new UsageError(`unknown flag ${flag}; usage: npm run report -- [run folder]`);
    if (argv.length > 1) throw new UsageError(`one run folder at most (got ${argv.length}); usage: npm run report -- [run folder]`);
    const runDir = pickRunDir(argv[0], env);
    let record;
    try {
      record = readRecord(join(runDir, RUN_FILE));
    } catch (err) {
      throw new UsageError(`${shown(join(runDir, RUN_FILE))}: ${(err as Error).message}`);
    }
    const reportsDir = dirname(runDir);
    writeReports(record, runDir, reportsDir);
    console.log(formatSummary(record));
    console.log(`\nreport: ${shown(join(runDir, REPORT_FILE))}`);
    console.log(`junit:  ${shown(join(runDir, JUNIT_FILE))}`);
    console.log(`index:  ${shown(join(reportsDir, INDEX_FILE))}`);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`error: ${err.message}`);
      return EXIT.badInput;
    }
    console.error(`error: ${String((err as Error)?.message ?? err).split('\n')[0]} (an unexpected failure; please report it)`);
    return EXIT.gateFailed;
  }
}

if (require.main === module) void main(process.argv.slice(2)).then((code) => process.exit(code));
