// `npm run demo`: the whole run against the built-in stand-in backend on a free loopback port, so the
// pack can be tried (and its failures seen) with nothing else running.
import { loadProfile } from '../catalog/config';
import { EXIT, UsageError } from '../common/errors';
import { parseRunOptions } from '../plan/options';
import { planVisits, scaleStages, totalSeconds } from '../plan/users';
import { main as run } from './run';
import { startStandIn, type StandInOptions } from '../standin/server';

/** The preflight's requests (/health and one /api request): the load starts with the next one. */
const PREFLIGHT_REQUESTS = 2;

/**
 * Faults the demo can switch on to show what a failing backend looks like (once past the
 * preflight). `loadSeconds` is the time from the load's first request to its planned end.
 */
const FAULTS: Record<string, (loadSeconds: number) => StandInOptions> = {
  errors: () => ({ errorRate: 0.1, faultsAfterRequests: PREFLIGHT_REQUESTS }),
  slow: () => ({ slow: { assistants: 1500 } }),
  timeouts: () => ({ hangRate: 0.02, faultsAfterRequests: PREFLIGHT_REQUESTS }),
  // Degrades in the load's last tenth (at most its last 2 s), so the check after the load finds it.
  'degraded-at-end': (s) => ({ healthDegraded: { afterSeconds: Math.max(0, s - Math.min(2, s / 10)), fromRequest: PREFLIGHT_REQUESTS + 1 } }),
  'rate-limit': () => ({ rateLimit: { limit: 150, windowSeconds: 3600 } }),
  'voice-api-down': () => ({ voiceApiDown: true }),
  // One request at a time, 100 ms each: at most 10 requests/s, fewer than the profile's users ask for.
  overloaded: () => ({ capacity: { concurrency: 1, serviceMs: 100 } }),
};

/** Standard profile, 10 times faster: the guide's shape in 42 s. */
const DEFAULT_ARGS = ['--profile', 'standard', '--time-scale', '0.1'];

/**
 * Seconds from the load's first request to its planned end, for the profile and time scale the run
 * will use. Undefined when the arguments are bad: the run itself then says what is wrong.
 */
export function loadSecondsOf(runArgs: string[]): number | undefined {
  try {
    const options = parseRunOptions(['--env', 'local', ...runArgs]);
    const stages = scaleStages(loadProfile(options.profile).stages, options.timeScale);
    const first = planVisits(stages)[0]?.arrive ?? 0;
    return totalSeconds(stages) - first;
  } catch {
    return undefined;
  }
}

export async function main(argv: string[]): Promise<number> {
  // --fault NAME is the demo's own; everything else goes to the run.
  const runArgs = [...argv];
  let fault: string | undefined;
  const at = runArgs.findIndex((a) => a === '--fault' || a.startsWith('--fault='));
  if (at >= 0) {
    const [flag] = runArgs.splice(at, 1);
    fault = flag.includes('=') ? flag.slice(flag.indexOf('=') + 1) : runArgs.splice(at, 1)[0];
    if (!fault || !FAULTS[fault]) {
      console.error(`error: unknown --fault "${fault ?? ''}"; choose one of: ${Object.keys(FAULTS).join(', ')}`);
      return EXIT.badInput;
    }
  }
  // The stand-in is the target, whatever BASE_URL says.
  delete process.env.BASE_URL;
  let standIn;
  try {
    standIn = await startStandIn(fault ? FAULTS[fault](loadSecondsOf([...DEFAULT_ARGS, ...runArgs]) ?? 0) : {});
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`error: ${err.message}`);
      return err.exitCode;
    }
    throw err;
  }
  console.log(`Demo: stand-in Voxanne backend on ${standIn.url}${fault ? ` with fault "${fault}"` : ''}`);
  try {
    return await run(['--env', 'local', ...DEFAULT_ARGS, ...runArgs, '--base-url', standIn.url]);
  } finally {
    await standIn.close();
  }
}
