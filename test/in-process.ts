// The pack's command line called in this test process, with its outputs, environment and exit code
// captured: what a user would see of `node bin/pack.js <command>`, without starting a process.
// For commands that end before Artillery starts (refusals, dry runs, reports, history); runs that
// reach Artillery go through helpers.ts's runPack, a real child process.
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { format } from 'node:util';
import { cleanEnv, type PackResult } from './helpers';
import type { RunRecord } from '../src/record/record';

type Main = (argv: string[]) => Promise<number>;
/** Commands that end before Artillery starts (or start it as a child process): safe to call in this process. */
type InProcessCommand = 'run' | 'report' | 'history';

/** bin/pack.js's own command table: a command's module, loaded on first use from its TypeScript source. */
const { COMMANDS } = require('../bin/pack.js') as { COMMANDS: Record<InProcessCommand, string> };
const mainOf = (command: InProcessCommand): Main => (require(join(__dirname, '..', COMMANDS[command].replace(/\.js$/, '.ts'))) as { main: Main }).main;

// One call at a time: the console and process.env are the process's own.
let queue: Promise<unknown> = Promise.resolve();

/**
 * Runs `command ...args` as bin/pack.js would (for `run`, with `--reports` a fresh folder unless
 * `opts.reportsDir` or `opts.noReports`), in an environment cleared as helpers.ts's cleanEnv does
 * plus `env`. Returns the exit code and what went to stdout and stderr.
 */
export function packInProcess(
  command: InProcessCommand,
  args: string[],
  env: Record<string, string> = {},
  opts: { reportsDir?: string; noReports?: boolean } = {},
): Promise<PackResult> {
  const call = queue.then(() => callOnce(command, args, env, opts));
  queue = call.catch(() => undefined);
  return call;
}

async function callOnce(
  command: InProcessCommand,
  args: string[],
  env: Record<string, string>,
  opts: { reportsDir?: string; noReports?: boolean },
): Promise<PackResult> {
  const reportsDir = command === 'run' && !opts.noReports ? (opts.reportsDir ?? mkdtempSync(join(tmpdir(), 'voxanne-test-'))) : undefined;
  const argv = reportsDir ? [...args, '--reports', reportsDir] : args;
  let stdout = '';
  let stderr = '';
  const saved = { env: process.env, log: console.log, info: console.info, error: console.error, warn: console.warn };
  process.env = cleanEnv(env);
  console.log = console.info = (...a: unknown[]) => void (stdout += `${format(...a)}\n`);
  console.error = console.warn = (...a: unknown[]) => void (stderr += `${format(...a)}\n`);
  let code: number;
  try {
    code = await mainOf(command)(argv);
  } finally {
    Object.assign(console, { log: saved.log, info: saved.info, error: saved.error, warn: saved.warn });
    process.env = saved.env;
  }
  const runs =
    reportsDir && existsSync(reportsDir)
      ? readdirSync(reportsDir)
          .filter((f) => /^\d{8}-/.test(f))
          .sort()
      : [];
  const dir = runs.length ? join(reportsDir!, runs[runs.length - 1]) : undefined;
  const recordFile = dir && join(dir, 'run.json');
  const record = recordFile && existsSync(recordFile) ? (JSON.parse(readFileSync(recordFile, 'utf8')) as RunRecord) : undefined;
  return { code, stdout, stderr, dir, record };
}
