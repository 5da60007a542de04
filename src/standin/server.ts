// A stand-in for the Voxanne backend: a small node:http server that speaks the contract in
// config/contract.yml (read from the backend's routes) with latencies drawn from its baselines, plus
// switchable faults. It lets the pack be exercised without the real backend, and lets tests
// provoke failures the real backend only shows on a bad day. This file is the HTTP lifecycle
// (listen, sockets, statistics, close); the answers are contract.ts's, the limiter limiter.ts's,
// the faults faults.ts's, and the option checks options.ts's.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { isRateLimitedPath } from '../catalog/contract';
import { decodeJwt } from '../common/jwt';
import { answer, endpointAt, internalError } from './contract';
import { drawFault, GARBAGE_REPLY, latencyQuantileMs, mulberry32, ServiceQueue, type Fault } from './faults';
import { buildCalls } from './fixtures';
import { clientKey, FixedWindowLimiter } from './limiter';
import { resolveStandInOptions, type StandInOptions } from './options';

export { latencyQuantileMs, mulberry32 } from './faults';
export type { StandInOptions } from './options';

interface StandInLogEntry {
  t: number;
  method: string;
  path: string;
  status: number | null;
  auth: 'none' | 'bearer';
  /** Which TCP connection carried it (1, 2, ...): one per virtual user with keep-alive. */
  connection?: number;
  /** Sent by Artillery's users (the load), not by the pack's own checks before and after it. */
  load: boolean;
  email?: string;
  orgId?: string;
  sub?: string;
  tokenExp?: number;
}

export interface StandInStats {
  requests: number;
  byPath: Record<string, number>;
  byStatus: Record<string, number>;
  log: StandInLogEntry[];
  connections: Array<{ t: number; open: number }>;
  maxOpenConnections: number;
  /** With a capacity: the most requests that waited for a free worker at once. */
  maxQueued: number;
}

export interface StandIn {
  url: string;
  port: number;
  close(): Promise<void>;
  stats(): StandInStats;
  /** Resolves once the server has stopped, by close() or by closeAfterSeconds. */
  closed: Promise<void>;
}

export async function startStandIn(options: StandInOptions = {}): Promise<StandIn> {
  const o = resolveStandInOptions(options);
  const { contract } = o;
  // Early rejections (401, 404, 429, 400) cost what the cheapest static route costs.
  const cheapest = contract.endpoints.reduce((a, b) => (b.baseline.p50 < a.baseline.p50 ? b : a)).baseline;

  const random = mulberry32(o.seed);
  const calls = buildCalls(Date.now());
  const limiter = new FixedWindowLimiter(o.rateLimit.limit, o.rateLimit.windowSeconds);
  const queue = o.capacity && new ServiceQueue(o.capacity.concurrency, o.capacity.serviceMs);
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const stats: StandInStats = { requests: 0, byPath: {}, byStatus: {}, log: [], connections: [], maxOpenConnections: 0, maxQueued: 0 };
  let listenedAt = Date.now();
  /** When the degraded-/health clock started (undefined until its request arrives). */
  let degradedClockFrom: number | undefined;

  const sample = () => {
    stats.connections.push({ t: Date.now(), open: sockets.size });
    stats.maxOpenConnections = Math.max(stats.maxOpenConnections, sockets.size);
  };

  function send(res: ServerResponse, entry: StandInLogEntry, reply: { status: number; headers: Record<string, string>; body: string }): void {
    if (res.destroyed || res.socket?.destroyed) return; // the client gave up: never answered
    res.writeHead(reply.status, { ...reply.headers, 'content-length': Buffer.byteLength(reply.body) });
    res.end(reply.body);
    entry.status = reply.status;
    stats.byStatus[reply.status] = (stats.byStatus[reply.status] ?? 0) + 1;
  }

  function logEntry(req: IncomingMessage, path: string, header: string | undefined): StandInLogEntry {
    const bearer = typeof header === 'string' && header.startsWith('Bearer ');
    const entry: StandInLogEntry = {
      t: Date.now(),
      method: req.method ?? 'GET',
      path,
      status: null,
      auth: bearer ? 'bearer' : 'none',
      connection: connectionIds.get(req.socket),
      load: /artillery/i.test(String(req.headers['user-agent'])),
    };
    // Log who called (claims only — never the token itself).
    const claims = bearer ? decodeJwt(header.slice(7).trim()) : undefined;
    if (typeof claims?.email === 'string') entry.email = claims.email;
    if (typeof claims?.app_metadata?.org_id === 'string') entry.orgId = claims.app_metadata.org_id;
    if (typeof claims?.sub === 'string') entry.sub = claims.sub;
    if (typeof claims?.exp === 'number') entry.tokenExp = claims.exp;
    return entry;
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const now = Date.now();
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const path = url.pathname;
    const header = req.headers.authorization;
    const entry = logEntry(req, path, header);
    stats.requests++;
    stats.byPath[path] = (stats.byPath[path] ?? 0) + 1;
    stats.log.push(entry);
    if (stats.requests === o.degradedFromRequest) degradedClockFrom = now;

    const endpoint = endpointAt(contract, path);
    const name = endpoint?.name;
    // /health stays clean under every fault, so start/end health checks still pass.
    const fault: Fault = endpoint?.standIn === 'health' || stats.requests <= o.faultsAfterRequests ? 'none' : drawFault(o.rates, random());
    const verdict =
      isRateLimitedPath(contract, path) && !o.redisDown ? limiter.hit(clientKey(req.headers['x-forwarded-for'], req.socket.remoteAddress), now) : undefined;
    const degradedClock = o.degradedFromRequest ? degradedClockFrom : listenedAt;
    const reply = answer(
      { method: req.method ?? 'GET', path, query: url.searchParams, authorization: header, now },
      {
        contract,
        calls,
        developmentMode: o.developmentMode,
        checkTokenExpiry: o.checkTokenExpiry,
        tokensRevoked: o.revokeTokensAfterRequests > 0 && stats.requests > o.revokeTokensAfterRequests,
        voiceApiDown: o.voiceApiDown,
        redisDown: o.redisDown,
        healthDegraded: degradedClock !== undefined && now - degradedClock >= o.degradedAfterMs,
        uptimeSeconds: (now - listenedAt) / 1000,
      },
      verdict,
    );

    if (fault === 'hang') return; // never answered; close() destroys the socket
    const respond = () => {
      if (fault === 'reset') {
        // RST rather than FIN, so the client sees ECONNRESET.
        const socket = req.socket;
        if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
        else socket.destroy();
        return;
      }
      if (fault === 'garbage') return send(res, entry, GARBAGE_REPLY);
      send(res, entry, fault === 'error' ? internalError(endpoint, verdict?.headers ?? {}) : reply);
    };

    if (queue) {
      // A known capacity: a fixed service time replaces the drawn latency.
      queue.serve(respond);
      stats.maxQueued = queue.maxQueued;
      return;
    }
    // Early rejections cost what a static route costs; real work costs the endpoint's.
    const drawn = latencyQuantileMs(reply.work && endpoint ? endpoint.baseline : cheapest, random());
    const delay = drawn * o.latencyScale + o.extraLatencyMs + (name ? (o.slow[name] ?? 0) : 0);
    if (delay <= 0) return respond();
    const timer = setTimeout(() => {
      timers.delete(timer);
      respond();
    }, delay);
    timers.add(timer);
  }

  const connectionIds = new WeakMap<object, number>();
  const server = createServer(handle);
  server.keepAliveTimeout = 5000; // clients reuse connections, like behind Render's proxy

  let connectionCount = 0;
  server.on('connection', (socket) => {
    sockets.add(socket);
    connectionIds.set(socket, ++connectionCount);
    sample();
    socket.on('close', () => {
      sockets.delete(socket);
      sample();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  listenedAt = Date.now();

  const sampler = setInterval(sample, 100);
  sampler.unref();

  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  let closing = false;
  let closeTimer: NodeJS.Timeout | undefined;
  function close(): Promise<void> {
    if (!closing) {
      closing = true;
      clearInterval(sampler);
      clearTimeout(closeTimer);
      for (const t of timers) clearTimeout(t);
      timers.clear();
      queue?.clear();
      server.close(() => resolveClosed());
      // Hung and keep-alive sockets would otherwise hold close() open.
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
    }
    return closed;
  }

  if (o.closeAfterMs !== undefined) {
    // A target that dies mid-run.
    closeTimer = setTimeout(() => void close(), o.closeAfterMs);
    closeTimer.unref();
  }

  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : o.port;
  return {
    url: `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${actualPort}`,
    port: actualPort,
    close,
    closed,
    stats: () => ({
      ...stats,
      byPath: { ...stats.byPath },
      byStatus: { ...stats.byStatus },
      log: stats.log.map((e) => ({ ...e })),
      connections: [...stats.connections],
    }),
  };
}
