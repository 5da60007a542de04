// Whether a run serves its live view (src/live/). Asked for with --live (or --live-port), or with
// VOXANNE_LIVE=1 in the environment. The variable is a standing preference, so it is ignored where
// nobody can be watching: in CI (the CI variable, which GitHub Actions, GitLab and most runners
// set) and when the output is not a terminal. The flag is a request for this run, so it is obeyed
// everywhere.
import { UsageError } from '../common/errors';

export const LIVE_ENV = 'VOXANNE_LIVE';

const ON = ['1', 'true', 'yes', 'on'];
const OFF = ['', '0', 'false', 'no', 'off'];

/** True when CI says so: set to anything but "false" or "0" (as CI services and ci-info read it). */
export const inCi = (env: NodeJS.ProcessEnv): boolean => env.CI !== undefined && !['false', '0'].includes(env.CI.toLowerCase());

export function liveWanted(o: { flag: boolean; env: NodeJS.ProcessEnv; tty: boolean }): boolean {
  if (o.flag) return true;
  const value = (o.env[LIVE_ENV] ?? '').trim().toLowerCase();
  if (OFF.includes(value)) return false;
  if (!ON.includes(value)) throw new UsageError(`${LIVE_ENV} takes 1 or 0 (got "${o.env[LIVE_ENV]}")`);
  return o.tty && !inCi(o.env);
}
