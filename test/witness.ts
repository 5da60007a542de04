// An independent witness for tests: a tiny HTTP server on loopback that answers the catalog's endpoints
// with their example bodies and counts, with a timestamp, every load request it answered. A run
// record is compared with what this server knows it answered, for every way a run can end.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadContract } from '../src/catalog/config';

// The contract catalog's example bodies (VOXANNE_CONTRACT's catalog when set).
const BODIES: Record<string, unknown> = Object.fromEntries(loadContract().endpoints.map((e) => [e.path, e.example]));

export interface WitnessOptions {
  /** Every answer waits this long (so that some requests are in flight when a run is stopped). */
  latencyMs?: number;
  /** The pack's own /health checks (not the users') wait this long once the load has begun. */
  slowHealthCheckMs?: number;
  /** Answer every request with this instead (status, headers, body). */
  reply?: (req: IncomingMessage) => { status: number; headers?: Record<string, string>; body: string } | undefined;
}

export interface Witness {
  url: string;
  /** Times (epoch ms) at which each load request (from Artillery's users) was answered. */
  answered: number[];
  answeredBefore(t: number): number;
  close(): Promise<void>;
}

const fromUsers = (req: IncomingMessage) => /artillery/i.test(String(req.headers['user-agent']));

export async function startWitness(opts: WitnessOptions = {}): Promise<Witness> {
  const answered: number[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const users = fromUsers(req);
    const path = (req.url ?? '/').split('?')[0];
    const custom = opts.reply?.(req);
    const delay = !users && path === '/health' && answered.length > 0 ? (opts.slowHealthCheckMs ?? 0) : (opts.latencyMs ?? 0);
    setTimeout(() => {
      if (users) res.on('finish', () => answered.push(Date.now()));
      if (custom) {
        res.writeHead(custom.status, custom.headers ?? {});
        res.end(custom.body);
        return;
      }
      const body = BODIES[path];
      res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body ?? { error: 'Not found', path }));
    }, delay);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    answered,
    answeredBefore: (t) => answered.filter((a) => a <= t).length,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
