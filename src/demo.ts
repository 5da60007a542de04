// `npm run demo`: the whole run against the built-in stand-in backend on a free loopback port, so the
// pack can be tried (and its failures seen) with nothing else running.
import { EXIT, UsageError } from './errors';
import { main as run } from './run';
import { startStandIn, type StandInOptions } from './standin/server';

/** Faults the demo can switch on to show what a failing backend looks like (once past the preflight's 2 requests). */
const FAULTS: Record<string, (loadSeconds: number) => StandInOptions> = {
  errors: () => ({ errorRate: 0.1, faultsAfterRequests: 2 }),
  slow: () => ({ slow: { assistants: 1500 } }),
  timeouts: () => ({ hangRate: 0.02, faultsAfterRequests: 2 }),
  'degraded-at-end': (s) => ({ healthDegraded: { afterSeconds: s + 4 } }),
  'rate-limit': () => ({ rateLimit: { limit: 150, windowSeconds: 3600 } }),
  'voice-api-down': () => ({ voiceApiDown: true }),
};

/** Standard profile, 10 times faster: the guide's shape in 42 s. */
const DEFAULT_ARGS = ['--profile', 'standard', '--time-scale', '0.1'];
const DEFAULT_LOAD_SECONDS = 42;

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
    standIn = await startStandIn(fault ? FAULTS[fault](DEFAULT_LOAD_SECONDS) : {});
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
