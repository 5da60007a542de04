// The reports folder and the run folders in it. A run folder is claimed by creating it (mkdir
// without `recursive` fails when the folder exists), so runs started at the same second each get
// their own folder instead of sharing one.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ROOT } from '../catalog/config';
import { UsageError } from '../common/errors';

const REASONS: Record<string, string> = {
  ENOTDIR: 'a part of the path is a file',
  EEXIST: 'it is a file',
  EACCES: 'not allowed to write there',
  EPERM: 'not allowed to write there',
  EROFS: 'the file system is read-only',
  ENOSPC: 'the disk is full',
};

/** The reports folder: --reports DIR, else REPORTS_DIR, else reports/ in the pack. */
export const reportsFolder = (arg: string | undefined, env: NodeJS.ProcessEnv = process.env): string =>
  resolve(arg ?? env.REPORTS_DIR ?? join(ROOT, 'reports'));

/** Makes sure run folders can be written under `reportsDir`; bad input (exit 2) otherwise. */
export function checkReportsDir(reportsDir: string): void {
  const probe = join(reportsDir, `.write-test-${process.pid}`);
  try {
    mkdirSync(reportsDir, { recursive: true });
    writeFileSync(probe, '');
    rmSync(probe, { force: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    throw new UsageError(
      `the reports folder ${reportsDir} cannot be used (${REASONS[code] ?? code}); pass --reports DIR or REPORTS_DIR with a writable folder`,
    );
  }
}

/** Creates a new run folder named `base` (or `base-2`, `base-3`, ... when taken); returns its name. */
export function createRunFolder(reportsDir: string, base: string): string {
  mkdirSync(reportsDir, { recursive: true });
  for (let i = 1; ; i++) {
    const id = i === 1 ? base : `${base}-${i}`;
    try {
      mkdirSync(join(reportsDir, id));
      return id;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}
