// One step of the capacity benchmark's autocannon search: N connections for S seconds over the
// journey's five paths, each request with its own X-Forwarded-For address (as the pack's search does
// on loopback) and a development token. Prints one JSON line.
//   node --require ts-node/register bench/capacity-autocannon.ts <url> <connections> <seconds>
import { signJwt } from '../src/shared/jwt';
import { JOURNEY_PATHS } from './pack-autocannon';

interface Result {
  requests: { total: number; average: number };
  latency: { p50: number; p97_5: number; p99: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  duration: number;
}
type Autocannon = (opts: Record<string, unknown>, cb: (err: Error | null, result: Result) => void) => unknown;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as Autocannon;

const token = signJwt({ sub: 'bench', email: 'bench@example.com', app_metadata: { org_id: 'bench-org' }, exp: Math.floor(Date.now() / 1000) + 3600 }, 'bench');
let n = 0;
const spread = (req: { headers?: Record<string, string> }) => {
  const i = n++ % 131072;
  return { ...req, headers: { ...req.headers, authorization: `Bearer ${token}`, 'x-forwarded-for': `198.${18 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}` } };
};

const [url, connections, seconds] = process.argv.slice(2);
autocannon(
  { url, connections: Number(connections), duration: Number(seconds), timeout: 10, requests: JOURNEY_PATHS.map((path) => ({ method: 'GET', path, setupRequest: spread })) },
  (err, r) => {
    if (err) {
      console.error(String(err));
      process.exit(1);
    }
    const total = r.requests.total;
    console.log(JSON.stringify({ requests: total, rps: total / r.duration, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.timeouts, non2xx: r.non2xx }));
  },
);
