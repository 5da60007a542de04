// When Artillery ends before the run's preflight, it never started: a problem on this machine
// (installation, Node version, a scenario Artillery rejects), not the target's. Its own error line
// from artillery.log says what went wrong.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ARTILLERY_LOG } from '../common/run-files';

/** Artillery's last error line in the run folder's log (or its last line), shortened. */
export function artilleryStartError(dir: string): string | undefined {
  let lines: string[];
  try {
    lines = readFileSync(join(dir, ARTILLERY_LOG), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
  } catch {
    return undefined;
  }
  const line = [...lines].reverse().find((l) => /error|not a[n]? artillery command|cannot find|not found/i.test(l)) ?? lines[lines.length - 1];
  if (!line) return undefined;
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}

/** The reason of a run whose Artillery did not start (exit 2, nothing sent), with its own error line. */
export function notStartedReason(code: number | null, said: string | undefined): string {
  return (
    `Artillery did not start (exit ${code}${said ? `: ${said}` : ''}); no load was sent. ` +
    'A local problem, not the target: check Node (22.18 or newer), npm ci, and the scenario; see artillery.log.'
  );
}
