// The whole project type-checks (strict): tsc --noEmit, as CI requires. A test rather than a step
// before the suite, so the compiler's 20 s of one core overlap the runs that mostly wait.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from './helpers';

test('tsc --noEmit finds no type error', async () => {
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const { code, out } = await new Promise<{ code: number; out: string }>((resolve) =>
    execFile(process.execPath, [tsc, '--noEmit', '-p', ROOT], { cwd: ROOT }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
    ),
  );
  assert.equal(code, 0, out);
});
