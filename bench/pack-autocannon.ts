// The throughput ceiling for bench/overhead.ts: autocannon in its own process, 10 connections cycling
// over the journey's paths for a fixed time. Prints one JSON line: { requests, errors, non2xx }.
//   node --require ts-node/register bench/pack-autocannon.ts <url> <connections> <seconds>
// autocannon ships no type definitions; the little used here is typed locally.
interface AutocannonResult {
  requests: { total: number };
  errors: number;
  timeouts: number;
  non2xx: number;
}
type Autocannon = (opts: Record<string, unknown>, cb: (err: Error | null, result: AutocannonResult) => void) => unknown;

import { loadContract } from '../src/catalog/config';

const autocannon = require('autocannon') as Autocannon;

/** The journey's paths: the contract catalog's endpoints. */
export const JOURNEY_PATHS = loadContract().endpoints.map((e) => e.path);

function main(): void {
  const [url, connections, seconds] = process.argv.slice(2);
  autocannon(
    {
      url,
      connections: Number(connections),
      duration: Number(seconds),
      requests: JOURNEY_PATHS.map((path) => ({ method: 'GET', path })),
    },
    (err, result) => {
      if (err) {
        console.error(String(err));
        process.exit(1);
      }
      console.log(JSON.stringify({ requests: result.requests.total, errors: result.errors + result.timeouts, non2xx: result.non2xx }));
    },
  );
}

if (require.main === module) main();
