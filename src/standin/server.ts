// A stand-in for the Voxanne backend: a small node:http server that speaks the contract in
// shared/VOXANNE-API.md (routes, bodies, rate limiter, auth) with latencies drawn from the baseline
// in config/budgets.yml, plus switchable faults. It lets the pack be exercised without the real
// backend, and lets tests provoke failures the real backend only shows on a bad day.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIP, type Socket } from 'node:net';
import { loadBudgets, type Budgets } from '../config';
import { UsageError } from '../errors';
import { decodeJwt } from '../jwt';

export interface StandInOptions {
  port?: number;
  host?: string;
  latencyScale?: number;
  extraLatencyMs?: number;
  slow?: Record<string, number>;
  errorRate?: number;
  hangRate?: number;
  resetRate?: number;
  garbageRate?: number;
  redisDown?: boolean;
  voiceApiDown?: boolean;
  healthDegraded?: boolean | { afterSeconds: number };
  closeAfterSeconds?: number;
  developmentMode?: boolean;
  checkTokenExpiry?: boolean;
  rateLimit?: { limit: number; windowSeconds: number };
  seed?: number;
  /** The share-based faults (hang, reset, error, garbage) start after this many requests (e.g. past a preflight). */
  faultsAfterRequests?: number;
}

export interface StandInLogEntry {
  t: number;
  method: string;
  path: string;
  status: number | null;
  auth: 'none' | 'bearer';
  /** Which TCP connection carried it (1, 2, ...): one per virtual user with keep-alive. */
  connection?: number;
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
}

export interface StandIn {
  url: string;
  port: number;
  close(): Promise<void>;
  stats(): StandInStats;
  /** Resolves once the server has stopped, by close() or by closeAfterSeconds. */
  closed: Promise<void>;
}

export type RequestName = 'health' | 'root' | 'calls_dashboard' | 'webhook_health' | 'assistants';
type Baseline = Budgets['endpoints'][string]['baseline'];

const ROUTES: Record<string, RequestName> = {
  '/health': 'health',
  '/': 'root',
  '/api/calls-dashboard': 'calls_dashboard',
  '/api/vapi/webhook/health': 'webhook_health',
  '/api/assistants': 'assistants',
};
export const REQUEST_NAMES = Object.values(ROUTES);

/** The request name (budgets.yml key) of a path, or undefined for an unknown path. */
export function requestNameFor(path: string): RequestName | undefined {
  // Express routing is case-insensitive and ignores one trailing slash.
  const key = (path.length > 1 ? path.replace(/\/$/, '') : path).toLowerCase();
  return ROUTES[key];
}

/** mulberry32: a tiny seeded PRNG, so a run with --seed draws the same latencies and faults. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The latency (ms) at quantile u (0..1) of a piecewise-linear distribution through the baseline's
 * p50/p95/p99, so that uniform draws reproduce the baseline percentiles.
 */
export function latencyQuantileMs(b: Baseline, u: number): number {
  const points: Array<[number, number]> = [
    [0, b.p50 / 3],
    [0.5, b.p50],
    [0.95, b.p95],
    [0.99, b.p99],
    [1, b.p99 * 1.2],
  ];
  const q = Math.min(1, Math.max(0, u));
  for (let i = 1; i < points.length; i++) {
    const [u0, v0] = points[i - 1];
    const [u1, v1] = points[i];
    if (q <= u1) return v0 + ((v1 - v0) * (q - u0)) / (u1 - u0);
  }
  return points[points.length - 1][1];
}

// Helmet's defaults (minus the long CSP), so header checks see what the real backend sends.
const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'self'",
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=15552000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'SAMEORIGIN',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
  vary: 'Origin',
};

const CALL_STATUSES = ['completed', 'missed', 'transferred', 'failed'] as const;
const SORT_KEYS = ['date', 'duration', 'name'] as const;
const CALL_TYPES = ['inbound', 'outbound'] as const;

interface Call {
  id: string;
  phone_number: string;
  caller_name: string;
  call_date: string;
  duration_seconds: number;
  status: (typeof CALL_STATUSES)[number];
  call_type: (typeof CALL_TYPES)[number];
  sentiment_label: string;
  sentiment_score: number;
  outcome_summary: string;
  has_recording: boolean;
  has_transcript: boolean;
  is_test_call: boolean;
}

// A fixed set of calls (one every 7 hours back from start), so paging and filters give stable answers.
function buildCalls(now: number): Call[] {
  const names = ['Sarah Mitchell', 'James Okafor', 'Priya Nair', 'Tom Becker', 'Lucia Romero', 'Daniel Kim', 'Amara Osei'];
  const outcomes = ['Booked a consultation', 'Asked about pricing', 'Left a voicemail', 'Transferred to front desk', 'Rescheduled appointment'];
  const sentiments: Array<[string, number]> = [['positive', 0.82], ['neutral', 0.51], ['negative', 0.23]];
  return Array.from({ length: 47 }, (_, i) => {
    const status = CALL_STATUSES[i % 7 === 3 ? 1 : i % 11 === 5 ? 3 : i % 5 === 2 ? 2 : 0];
    const [sentiment_label, sentiment_score] = sentiments[i % 3];
    return {
      id: `5d1c0a7e-0000-4000-8000-${(i + 1).toString(16).padStart(12, '0')}`,
      phone_number: `+1555010${String(i).padStart(4, '0')}`,
      caller_name: names[i % names.length],
      call_date: new Date(now - i * 7 * 3600_000).toISOString(),
      duration_seconds: status === 'missed' ? 0 : 45 + ((i * 37) % 420),
      status,
      call_type: i % 4 === 1 ? 'outbound' : 'inbound',
      sentiment_label,
      sentiment_score,
      outcome_summary: outcomes[i % outcomes.length],
      has_recording: status !== 'missed',
      has_transcript: status !== 'missed',
      is_test_call: i % 9 === 8,
    };
  });
}

const ASSISTANTS = [
  {
    id: '8a3f6c1e-2b4d-4e7a-9c10-5f2e8d7b1a01',
    orgId: 'b7e2d4c6-1a3f-4b5e-8c9d-0e1f2a3b4c5d',
    name: 'Voxanne Receptionist',
    firstMessage: 'Hello, thank you for calling. How can I help you today?',
    model: { provider: 'openai', model: 'gpt-4o', temperature: 0.4 },
    voice: { provider: '11labs', voiceId: 'sarah' },
    transcriber: { provider: 'deepgram', model: 'nova-2', language: 'en' },
    createdAt: '2025-01-14T09:12:44.512Z',
    updatedAt: '2025-03-02T16:40:03.118Z',
  },
  {
    id: '8a3f6c1e-2b4d-4e7a-9c10-5f2e8d7b1a02',
    orgId: 'b7e2d4c6-1a3f-4b5e-8c9d-0e1f2a3b4c5d',
    name: 'Voxanne Outbound Follow-up',
    firstMessage: 'Hi, this is Voxanne calling to follow up on your enquiry.',
    model: { provider: 'openai', model: 'gpt-4o-mini', temperature: 0.3 },
    voice: { provider: '11labs', voiceId: 'rachel' },
    transcriber: { provider: 'deepgram', model: 'nova-2', language: 'en' },
    createdAt: '2025-02-03T11:05:19.901Z',
    updatedAt: '2025-02-28T08:21:57.330Z',
  },
];

interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /** true when the request reached the endpoint's own work (and so takes its latency). */
  work: boolean;
}

type Fault = 'none' | 'hang' | 'reset' | 'error' | 'garbage';

function checkRate(name: string, value: number | undefined): number {
  if (value === undefined) return 0;
  if (!(Number.isFinite(value) && value >= 0 && value <= 1)) {
    throw new UsageError(`${name} must be a number between 0 and 1 (got ${value})`);
  }
  return value;
}

function checkNonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!(Number.isFinite(value) && value >= 0)) throw new UsageError(`${name} must be a number >= 0 (got ${value})`);
  return value;
}

/** The address to bind, or a UsageError: the stand-in must never be reachable from outside the machine. */
function loopbackHost(host: string): string {
  if (host === 'localhost') return '127.0.0.1'; // avoid resolving to ::1 on some machines
  const loopback = (isIP(host) === 4 && host.startsWith('127.')) || (isIP(host) === 6 && host === '::1');
  if (!loopback) throw new UsageError(`host "${host}" is not a loopback address; use 127.0.0.1, ::1 or localhost`);
  return host;
}

export async function startStandIn(options: StandInOptions = {}): Promise<StandIn> {
  const host = loopbackHost(options.host ?? '127.0.0.1');
  const port = options.port ?? 0;
  if (!(Number.isInteger(port) && port >= 0 && port <= 65535)) throw new UsageError(`port must be an integer 0-65535 (got ${port})`);
  const latencyScale = checkNonNegative('latencyScale', options.latencyScale, 1);
  const extraLatencyMs = checkNonNegative('extraLatencyMs', options.extraLatencyMs, 0);
  const slow: Record<string, number> = {};
  for (const [name, ms] of Object.entries(options.slow ?? {})) {
    if (!(REQUEST_NAMES as string[]).includes(name)) {
      throw new UsageError(`slow: unknown request name "${name}"; use one of ${REQUEST_NAMES.join(', ')}`);
    }
    slow[name] = checkNonNegative(`slow.${name}`, ms, 0);
  }
  const rates = {
    hang: checkRate('hangRate', options.hangRate),
    reset: checkRate('resetRate', options.resetRate),
    error: checkRate('errorRate', options.errorRate),
    garbage: checkRate('garbageRate', options.garbageRate),
  };
  const rateSum = rates.hang + rates.reset + rates.error + rates.garbage;
  if (rateSum > 1 + 1e-9) throw new UsageError(`hangRate + resetRate + errorRate + garbageRate is ${rateSum}; keep the sum at most 1`);
  const limit = options.rateLimit ?? { limit: 1000, windowSeconds: 3600 };
  if (!(Number.isInteger(limit.limit) && limit.limit >= 1 && limit.windowSeconds > 0)) {
    throw new UsageError(`rateLimit needs an integer limit >= 1 and windowSeconds > 0 (got ${limit.limit};w=${limit.windowSeconds})`);
  }
  const closeAfterMs = options.closeAfterSeconds === undefined ? undefined : checkNonNegative('closeAfterSeconds', options.closeAfterSeconds, 0) * 1000;
  const degraded = options.healthDegraded ?? false;
  const degradedAfterMs = degraded === false ? Infinity : degraded === true ? 0 : checkNonNegative('healthDegraded.afterSeconds', degraded.afterSeconds, 0) * 1000;

  const budgets = loadBudgets();
  const baselines = {} as Record<RequestName, Baseline>;
  for (const name of REQUEST_NAMES) {
    const entry = budgets.endpoints[name];
    if (!entry) throw new UsageError(`config/budgets.yml has no baseline for "${name}"; add one`);
    baselines[name] = entry.baseline;
  }

  const random = mulberry32(options.seed ?? Math.floor(Math.random() * 2 ** 32));
  const calls = buildCalls(Date.now());
  const windows = new Map<string, { count: number; resetAt: number }>();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const stats: StandInStats = { requests: 0, byPath: {}, byStatus: {}, log: [], connections: [], maxOpenConnections: 0 };
  let listenedAt = Date.now();

  const sample = () => {
    stats.connections.push({ t: Date.now(), open: sockets.size });
    stats.maxOpenConnections = Math.max(stats.maxOpenConnections, sockets.size);
  };

  function drawFault(): Fault {
    if (stats.requests <= (options.faultsAfterRequests ?? 0)) return 'none';
    // One draw per request, so each rate is exactly its share of requests.
    const u = random();
    let edge = rates.hang;
    if (u < edge) return 'hang';
    if (u < (edge += rates.reset)) return 'reset';
    if (u < (edge += rates.error)) return 'error';
    if (u < (edge += rates.garbage)) return 'garbage';
    return 'none';
  }

  /** express-rate-limit as configured by the backend: fixed window per client IP. */
  function rateLimit(req: IncomingMessage): { headers: Record<string, string>; limited: boolean } {
    // trust proxy 1: the last X-Forwarded-For entry is the address the proxy saw.
    const forwarded = String(req.headers['x-forwarded-for'] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    const key = forwarded.at(-1) ?? req.socket.remoteAddress ?? 'unknown';
    const now = Date.now();
    let w = windows.get(key);
    if (!w || now >= w.resetAt) {
      w = { count: 0, resetAt: now + limit.windowSeconds * 1000 };
      windows.set(key, w);
    }
    w.count++;
    const reset = String(Math.max(0, Math.ceil((w.resetAt - now) / 1000)));
    const headers: Record<string, string> = {
      'ratelimit-policy': `${limit.limit};w=${limit.windowSeconds}`,
      'ratelimit-limit': String(limit.limit),
      'ratelimit-remaining': String(Math.max(0, limit.limit - w.count)),
      'ratelimit-reset': reset,
    };
    const limited = w.count > limit.limit;
    if (limited) headers['retry-after'] = reset;
    return { headers, limited };
  }

  /** The backend's auth middleware: decode (no signature check), require email and a real org id. */
  function authenticate(header: string | undefined, allowAnonymous: boolean): { ok: true } | { ok: false; error: string } {
    if (!header && allowAnonymous) return { ok: true };
    if (!header || !header.startsWith('Bearer ') || !header.slice(7).trim()) {
      return { ok: false, error: 'Missing or invalid Authorization header' };
    }
    const claims = decodeJwt(header.slice(7).trim());
    const orgId = claims?.app_metadata?.org_id;
    const expired = options.checkTokenExpiry && typeof claims?.exp === 'number' && claims.exp * 1000 <= Date.now();
    if (!claims || typeof claims.email !== 'string' || !claims.email || typeof orgId !== 'string' || !orgId || orgId === 'default' || expired) {
      return { ok: false, error: 'Invalid or expired token' };
    }
    return { ok: true };
  }

  function callsDashboard(query: URLSearchParams): Reply {
    const invalid = (error: string): Reply => ({
      status: 400,
      body: { error, code: 'VALIDATION_ERROR', request_id: randomUUID() },
      work: false,
    });
    const intParam = (name: string, fallback: number): number => {
      const raw = query.get(name);
      return raw === null ? fallback : /^\d+$/.test(raw) ? Number(raw) : NaN;
    };
    const oneOf = (name: string, allowed: readonly string[]): string | undefined | null => {
      const raw = query.get(name);
      return raw === null ? undefined : allowed.includes(raw) ? raw : null;
    };
    const page = intParam('page', 1);
    const limitN = intParam('limit', 20);
    if (!(page >= 1)) return invalid('page must be an integer of at least 1');
    if (!(limitN >= 1 && limitN <= 100)) return invalid('limit must be an integer between 1 and 100');
    const status = oneOf('status', CALL_STATUSES);
    if (status === null) return invalid(`status must be one of: ${CALL_STATUSES.join(', ')}`);
    const sortBy = oneOf('sortBy', SORT_KEYS);
    if (sortBy === null) return invalid(`sortBy must be one of: ${SORT_KEYS.join(', ')}`);
    const callType = oneOf('call_type', CALL_TYPES);
    if (callType === null) return invalid(`call_type must be one of: ${CALL_TYPES.join(', ')}`);
    const includeTest = oneOf('include_test', ['true', 'false']);
    if (includeTest === null) return invalid('include_test must be true or false');

    const search = query.get('search')?.toLowerCase();
    const start = Date.parse(query.get('startDate') ?? '');
    const end = Date.parse(query.get('endDate') ?? '');
    const matching = calls.filter(
      (c) =>
        (includeTest === 'true' || !c.is_test_call) &&
        (!status || c.status === status) &&
        (!callType || c.call_type === callType) &&
        (!search || c.caller_name.toLowerCase().includes(search) || c.phone_number.includes(search)) &&
        (Number.isNaN(start) || Date.parse(c.call_date) >= start) &&
        (Number.isNaN(end) || Date.parse(c.call_date) <= end),
    );
    if (sortBy === 'duration') matching.sort((a, b) => b.duration_seconds - a.duration_seconds);
    if (sortBy === 'name') matching.sort((a, b) => a.caller_name.localeCompare(b.caller_name));
    const total = matching.length;
    return {
      status: 200,
      body: {
        calls: matching.slice((page - 1) * limitN, page * limitN),
        pagination: { page, limit: limitN, total, pages: Math.ceil(total / limitN) },
      },
      work: true,
    };
  }

  function route(req: IncomingMessage, path: string, query: URLSearchParams, name: RequestName | undefined): Reply {
    const notFound: Reply = { status: 404, body: { error: 'Not found', path }, work: false };
    if (!name || (req.method !== 'GET' && req.method !== 'HEAD')) return notFound;
    const auth = req.headers.authorization;
    switch (name) {
      case 'health': {
        const isDegraded = Date.now() - listenedAt >= degradedAfterMs;
        return {
          status: isDegraded ? 503 : 200,
          body: {
            status: isDegraded ? 'degraded' : 'ok',
            services: { database: !isDegraded, supabase: true, backgroundJobs: true, webhookQueue: true },
            timestamp: new Date().toISOString(),
            uptime: (Date.now() - listenedAt) / 1000,
            database_size_mb: isDegraded ? null : 48.7,
            queueMetrics: { waiting: 0, active: 1, completed: 1284, failed: 3, delayed: 0 },
          },
          work: true,
        };
      }
      case 'root':
        return {
          status: 200,
          body: {
            name: 'Voxanne Backend',
            version: '1.0.0',
            endpoints: {
              health: '/health',
              callsDashboard: '/api/calls-dashboard',
              assistants: '/api/assistants',
              vapiWebhook: '/api/vapi/webhook',
              vapiWebhookHealth: '/api/vapi/webhook/health',
            },
          },
          work: true,
        };
      case 'webhook_health':
        return { status: 200, body: { status: 'healthy', service: 'vapi-webhook' }, work: true };
      case 'calls_dashboard': {
        const result = authenticate(auth, options.developmentMode === true);
        if (!result.ok) return { status: 401, body: { error: result.error }, work: false };
        return callsDashboard(query);
      }
      case 'assistants': {
        const result = authenticate(auth, false);
        if (!result.ok) return { status: 401, body: { error: result.error }, work: false };
        // When the voice API fails the backend swallows it and answers an empty wrapper object.
        return { status: 200, body: options.voiceApiDown ? { assistants: [] } : ASSISTANTS, work: true };
      }
    }
  }

  function send(res: ServerResponse, entry: StandInLogEntry, status: number, body: string, headers: Record<string, string>): void {
    if (res.destroyed || res.socket?.destroyed) return; // the client gave up: never answered
    res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body) });
    res.end(body);
    entry.status = status;
    stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1;
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const path = url.pathname;
    const header = req.headers.authorization;
    const bearer = typeof header === 'string' && header.startsWith('Bearer ');
    const entry: StandInLogEntry = {
      t: Date.now(),
      method: req.method ?? 'GET',
      path,
      status: null,
      auth: bearer ? 'bearer' : 'none',
      connection: connectionIds.get(req.socket),
    };
    // Log who called (claims only — never the token itself).
    const claims = bearer ? decodeJwt(header.slice(7).trim()) : undefined;
    if (typeof claims?.email === 'string') entry.email = claims.email;
    if (typeof claims?.app_metadata?.org_id === 'string') entry.orgId = claims.app_metadata.org_id;
    if (typeof claims?.sub === 'string') entry.sub = claims.sub;
    if (typeof claims?.exp === 'number') entry.tokenExp = claims.exp;
    stats.requests++;
    stats.byPath[path] = (stats.byPath[path] ?? 0) + 1;
    stats.log.push(entry);

    const name = requestNameFor(path);
    const lower = path.toLowerCase();
    const limitedPath =
      (lower === '/api' || lower.startsWith('/api/')) && !lower.startsWith('/api/health') && !lower.startsWith('/api/internal');
    // /health stays clean under every fault, so start/end health checks still pass.
    const fault: Fault = name === 'health' ? 'none' : drawFault();

    let reply: Reply;
    let limitHeaders: Record<string, string> = {};
    if (limitedPath && options.redisDown) {
      // The limiter's Redis store throws before anything else runs.
      reply = { status: 500, body: { error: 'Connection is closed.' }, work: false };
    } else {
      const limited = limitedPath ? rateLimit(req) : undefined;
      limitHeaders = limited?.headers ?? {};
      if (limited?.limited) {
        const retryAfter = limitHeaders['retry-after'];
        reply = {
          status: 429,
          body: { error: 'Too many requests', message: 'Rate limit exceeded. Please try again later.', retryAfter },
          work: false,
        };
      } else {
        reply = route(req, path, url.searchParams, name);
      }
    }

    // Early rejections (401, 404, 429, 400) cost what a static route costs; real work costs the endpoint's.
    const drawn = latencyQuantileMs(baselines[reply.work && name ? name : 'root'], random());
    const delay = drawn * latencyScale + extraLatencyMs + (name ? slow[name] ?? 0 : 0);

    if (fault === 'hang') return; // never answered; close() destroys the socket
    const respond = () => {
      if (fault === 'reset') {
        // RST rather than FIN, so the client sees ECONNRESET.
        const socket = req.socket;
        if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
        else socket.destroy();
        return;
      }
      if (fault === 'garbage') {
        // What a proxy in front of a crashed app answers: 200 with an HTML page.
        send(res, entry, 200, '<html>upstream error</html>', { 'content-type': 'text/html' });
        return;
      }
      if (fault === 'error') {
        reply = {
          status: 500,
          body:
            name === 'calls_dashboard'
              ? { error: 'Failed to fetch calls', code: 'INTERNAL_ERROR', request_id: randomUUID() }
              : { error: 'Internal server error' },
          work: true,
        };
      }
      const json = JSON.stringify(reply.body);
      send(res, entry, reply.status, json, {
        ...SECURITY_HEADERS,
        ...limitHeaders,
        'content-type': 'application/json; charset=utf-8',
      });
    };
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
    server.listen(port, host, () => {
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
      server.close(() => resolveClosed());
      // Hung and keep-alive sockets would otherwise hold close() open.
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
    }
    return closed;
  }

  if (closeAfterMs !== undefined) {
    // A target that dies mid-run.
    closeTimer = setTimeout(() => void close(), closeAfterMs);
    closeTimer.unref();
  }

  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`,
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
