// `node --require ./test/suite.ts --test ...` (npm test): gives one run of the suite a folder that
// every test file's process shares (they inherit it from the runner's environment), for the runs
// shared between files and the limit on how many run at once (helpers.ts). Removed at the end.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

if (process.execArgv.includes('--test') && !process.env.VOXANNE_TEST_SUITE) {
  const dir = mkdtempSync(join(tmpdir(), 'voxanne-suite-'));
  process.env.VOXANNE_TEST_SUITE = dir;
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
}
