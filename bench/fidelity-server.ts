// The benchmarks' target: a loopback node:http server that answers every path with 200 after a fixed
// delay, with the contract catalog's example bodies (they pass the pack's expectations), and keeps its own timing of every request
// (hrtime from the request's arrival to res.end). It runs in a child process of `npm run bench` (forked
// by bench/lib/measure.ts with an IPC channel), so the load tools and the measuring never share its event loop.
// Requests with the user agent "node" (fetch: the pack's health checks before and after the load)
// are counted apart from the load (Artillery, wrk, autocannon), so the timing is the load's alone.
//   IPC in:  { cmd: 'reset' } | { cmd: 'stats' } | { cmd: 'stop' }
//   IPC out: { type: 'ready', port } | { type: 'reset' } | { type: 'stats', stats: ServerStats }
import { createServer } from 'node:http';
import { loadContract } from '../src/catalog/config';

export interface ServerStats {
  /** Every request, the pack's health checks included. */
  requests: number;
  /** The load's requests (not the health checks); the figures below are of these. */
  loadRequests: number;
  /** Exact quantiles of the server's own handling time, in ms. */
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  /** Wall-clock times (ms since the epoch, sub-ms) of the first arrival and the last res.end. */
  firstArrivalAt: number | null;
  lastEndAt: number | null;
  /** The same, of the load's requests only. */
  firstLoadArrivalAt: number | null;
  lastLoadEndAt: number | null;
  /** The server process's own CPU time since the last reset, in ms. */
  cpuMs: number;
}

export type ServerMessage = { type: 'ready'; port: number } | { type: 'reset' } | { type: 'stats'; stats: ServerStats };

// The catalog's example bodies, which pass the pack's expectations.
const BODIES: Record<string, string> = Object.fromEntries(loadContract().endpoints.map((e) => [e.path, JSON.stringify(e.example)]));
const OTHER = '{}';

const wallNow = () => performance.timeOrigin + performance.now();

function quantile(sorted: Float64Array, q: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

function main(): void {
  const delayMs = Number(process.argv[2] ?? 0);
  let times = new Float64Array(1 << 16);
  let count = 0;
  let requests = 0;
  let firstArrivalAt: number | null = null;
  let lastEndAt: number | null = null;
  let firstLoadArrivalAt: number | null = null;
  let lastLoadEndAt: number | null = null;
  let cpuAtReset = process.cpuUsage();

  const record = (ms: number) => {
    if (count === times.length) {
      const bigger = new Float64Array(times.length * 2);
      bigger.set(times);
      times = bigger;
    }
    times[count++] = ms;
  };

  const server = createServer((req, res) => {
    const start = process.hrtime.bigint();
    const arrival = wallNow();
    const probe = req.headers['user-agent'] === 'node';
    requests++;
    firstArrivalAt ??= arrival;
    if (!probe) firstLoadArrivalAt ??= arrival;
    const path = (req.url ?? '/').split('?')[0];
    const body = BODIES[path] ?? OTHER;
    const answer = () => {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      lastEndAt = wallNow();
      if (probe) return;
      record(ms);
      lastLoadEndAt = lastEndAt;
    };
    req.resume(); // GETs: nothing to read, but let the request finish
    if (delayMs > 0) setTimeout(answer, delayMs);
    else answer();
  });
  server.keepAliveTimeout = 30_000;

  process.on('message', (msg: { cmd: string }) => {
    if (msg.cmd === 'reset') {
      count = requests = 0;
      firstArrivalAt = lastEndAt = firstLoadArrivalAt = lastLoadEndAt = null;
      cpuAtReset = process.cpuUsage();
      process.send?.({ type: 'reset' } satisfies ServerMessage);
    } else if (msg.cmd === 'stats') {
      const sorted = times.slice(0, count).sort();
      const cpu = process.cpuUsage(cpuAtReset);
      let sum = 0;
      for (const t of sorted) sum += t;
      const stats: ServerStats = {
        requests,
        loadRequests: count,
        p50: quantile(sorted, 0.5),
        p95: quantile(sorted, 0.95),
        p99: quantile(sorted, 0.99),
        mean: count ? sum / count : NaN,
        firstArrivalAt,
        lastEndAt,
        firstLoadArrivalAt,
        lastLoadEndAt,
        cpuMs: (cpu.user + cpu.system) / 1000,
      };
      process.send?.({ type: 'stats', stats } satisfies ServerMessage);
    } else if (msg.cmd === 'stop') {
      server.closeAllConnections();
      server.close(() => process.exit(0));
    }
  });
  // The parent going away ends the server too, so no server outlives a benchmark.
  process.on('disconnect', () => process.exit(0));

  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    process.send?.({ type: 'ready', port } satisfies ServerMessage);
  });
}

if (require.main === module) main();
