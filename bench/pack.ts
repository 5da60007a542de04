// `npm run bench`: what the pack costs and how true its figures are, measured on this machine
// against a loopback target of its own (bench/fidelity-server.ts, in a child process that times every
// request itself). Prints markdown tables; docs/benchmarks.md holds a run's figures and what they
// mean. Nothing here is asserted in tests.
//
//  1. Fidelity: the latency each tool reports minus the server's own timing of the same requests
//     (50 ms fixed delay, 10 users): the pack, bare Artillery (no think, and 1 s think like the
//     pack), wrk.
//  2. Overhead (0 ms target): CPU of the tool's process tree per 1000 requests while the load runs,
//     at an equal fixed load (the pack's users pause ~1 s between journeys; its command line has no
//     knob to remove the pause), and the maximum rate with no think time: bare Artillery, the pack's
//     own generated Artillery script (processor, plugins, expectations) with the pause set to 0, and
//     autocannon and wrk as the one-machine ceiling.
//  3. Fixed cost: command start -> first request the server sees, last request -> process exit, for
//     the pack and for bare Artillery with a JS and with a TS processor (3 runs each, medians).
//     The pack runs the shortest load it accepts (smoke at x0.25: 10 s, one reporting period);
//     the fixed costs do not depend on the load's length.
//
//   npm run bench [-- --quick] [-- --only overhead|equal|fixed|live]
// (bench/live.ts: the live view's own CPU, and runs with and without --live.)
// --quick shortens every load 5x and runs the fixed-cost commands once (for trying the bench itself).
// Every load is bounded in count and time, and every command is killed at its own deadline. The
// machine may be shared: each run waits (briefly) for a quiet machine and reports the background load.
//
// Each section is its own file (bench/fidelity.ts, bench/overhead.ts, bench/fixed-cost.ts) and
// returns its markdown; the machinery they share is bench/lib/measure.ts (target, commands, CPU,
// quiet machine) and bench/lib/tools.ts (how each tool is run). This file reads the flags and runs
// the sections in that order.
import { join } from 'node:path';
import { fidelity } from './fidelity';
import { fixedCost } from './fixed-cost';
import { killEverything, log, removeTempDir, ROOT, startServer, tempDir } from './lib/measure';
import { machine } from './lib/tools';
import { likeForLikeOnly, overhead } from './overhead';
import { liveSection } from './live';

const QUICK = process.argv.includes('--quick');
/**
 * `--only overhead`: just the overhead section (pack vs bare Artillery vs autocannon/wrk), e.g. before
 * and after a change; `--only equal`: just its like-for-like comparison (the pack's Artillery script
 * and bare Artillery at the same users, pauses, arrivals and duration, 3 times each); `--only fixed`: just the fixed cost (start to first load request, last request to exit).
 */
const ONLY = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
if (ONLY !== undefined && ONLY !== 'overhead' && ONLY !== 'equal' && ONLY !== 'fixed' && ONLY !== 'live') {
  console.error(`error: --only takes overhead, equal, fixed or live (got "${ONLY}")`);
  process.exit(2);
}
/** Load durations are multiplied by this; --quick makes everything 5x shorter. */
const SCALE = QUICK ? 0.2 : 1;
const REPS = QUICK ? 1 : 3;

async function main(): Promise<void> {
  const started = Date.now();
  // Transpile whatever changed now, so that no measured run of the pack pays for it.
  (require(join(ROOT, 'bin', 'pack.js')) as { build: () => number }).build();
  log(`temporary files in ${tempDir()}${QUICK ? ' (quick mode: 5x shorter loads, 1 repetition)' : ''}`);
  try {
    const fid = ONLY ? [] : await fidelity(SCALE);
    const server = await startServer(0);
    let over: string[];
    let fixed: string[];
    try {
      over = ONLY === 'equal' ? await likeForLikeOnly(server, SCALE) : ONLY === 'fixed' || ONLY === 'live' ? [] : await overhead(server, SCALE);
      fixed = ONLY === 'overhead' || ONLY === 'equal' || ONLY === 'live' ? [] : await fixedCost(server, REPS);
    } finally {
      await server.stop();
    }
    const out = [
      `<!-- npm run bench${QUICK ? ' -- --quick' : ''}, ${new Date().toISOString()}, ${Math.round((Date.now() - started) / 1000)} s -->`,
      '## Machine',
      '',
      ...machine(),
      '',
      ...fid,
      ...over,
      ...fixed,
      ...(!ONLY || ONLY === 'live' ? await liveSection(SCALE) : []),
    ];
    console.log(out.join('\n'));
    log(`done in ${Math.round((Date.now() - started) / 1000)} s`);
  } finally {
    killEverything();
    removeTempDir();
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    killEverything();
    process.exit(1);
  });
}
