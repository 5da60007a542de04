// The backend's contract (config/contract.yml, read from the backend's routes) as pure functions: the facts of one request in,
// the reply {status, headers, body} out. No clock, no sockets, no randomness: the server passes in
// the time, the limiter's verdict and the switches, so every answer can be checked on its own.
import { randomUUID } from 'node:crypto';
import { isRateLimitedPath, type Contract, type Endpoint } from '../catalog/contract';
import { decodeJwt } from '../common/jwt';
import { CALL_STATUSES, CALL_TYPES, SORT_KEYS, type Call } from './fixtures';

/** The catalog's endpoint at a path, or undefined for an unknown path. */
export function endpointAt(contract: Contract, path: string): Endpoint | undefined {
  // Express routing is case-insensitive and ignores one trailing slash.
  const key = (path.length > 1 ? path.replace(/\/$/, '') : path).toLowerCase();
  return contract.endpoints.find((e) => e.path.toLowerCase() === key);
}

// Helmet's defaults (minus the long CSP), so header checks see what the real backend sends.
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
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

/** What a handler needs to know about one request. */
interface RequestFacts {
  method: string;
  path: string;
  query: URLSearchParams;
  authorization?: string;
  /** Epoch ms. */
  now: number;
}

/** The server's state that the answer depends on. */
interface ContractState {
  contract: Contract;
  calls: Call[];
  developmentMode: boolean;
  checkTokenExpiry: boolean;
  /** Every token is refused, as an expired or revoked one. */
  tokensRevoked: boolean;
  /** Endpoints with a declared fallback answer it (the voice API is down). */
  voiceApiDown: boolean;
  redisDown: boolean;
  healthDegraded: boolean;
  uptimeSeconds: number;
}

/** The rate limiter's verdict on a request under /api (see limiter.ts). */
export interface LimitVerdict {
  headers: Record<string, string>;
  limited: boolean;
}

interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** true when the request reached the endpoint's own work (and so takes its latency). */
  work: boolean;
}

function json(status: number, body: unknown, work: boolean, extra: Record<string, string> = {}): Reply {
  return {
    status,
    headers: { ...SECURITY_HEADERS, ...extra, 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify(body),
    work,
  };
}

/** The backend's auth middleware: decode (no signature check), require email and a real org id. */
function authenticate(
  header: string | undefined,
  allowAnonymous: boolean,
  checkExpiry: boolean,
  now: number,
  revoked = false,
): { ok: true } | { ok: false; error: string } {
  if (!header && allowAnonymous) return { ok: true };
  if (!header || !header.startsWith('Bearer ') || !header.slice(7).trim()) {
    return { ok: false, error: 'Missing or invalid Authorization header' };
  }
  const claims = decodeJwt(header.slice(7).trim());
  const orgId = claims?.app_metadata?.org_id;
  const expired = revoked || (checkExpiry && typeof claims?.exp === 'number' && claims.exp * 1000 <= now);
  if (!claims || typeof claims.email !== 'string' || !claims.email || typeof orgId !== 'string' || !orgId || orgId === 'default' || expired) {
    return { ok: false, error: 'Invalid or expired token' };
  }
  return { ok: true };
}

type Body = { status: number; body: unknown; work: boolean };

function callsDashboard(query: URLSearchParams, calls: Call[]): Body {
  const invalid = (error: string): Body => ({
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

function health(facts: RequestFacts, endpoint: Endpoint, state: ContractState): Body {
  const degraded = state.healthDegraded;
  const example = (endpoint.example ?? {}) as Record<string, unknown>;
  return {
    status: degraded ? 503 : endpoint.status,
    body: {
      ...example,
      status: degraded ? 'degraded' : example.status,
      services: { database: !degraded, supabase: true, backgroundJobs: true, webhookQueue: true },
      timestamp: new Date(facts.now).toISOString(),
      uptime: state.uptimeSeconds,
      database_size_mb: degraded ? null : 48.7,
      queueMetrics: { waiting: 0, active: 1, completed: 1284, failed: 3, delayed: 0 },
    },
    work: true,
  };
}

/** An endpoint's answer from its catalog entry: auth, then the fallback switch, then its behaviour or example. */
function route(facts: RequestFacts, endpoint: Endpoint, state: ContractState): Body {
  if (endpoint.auth === 'bearer') {
    const result = authenticate(facts.authorization, endpoint.devAnonymous && state.developmentMode, state.checkTokenExpiry, facts.now, state.tokensRevoked);
    if (!result.ok) return { status: endpoint.withoutToken?.status ?? 401, body: { error: result.error }, work: false };
  }
  // The backend swallows the failure behind it and answers the declared fallback.
  if (endpoint.fallback && state.voiceApiDown) return { status: 200, body: endpoint.fallback.body, work: true };
  if (endpoint.standIn === 'health') return health(facts, endpoint, state);
  if (endpoint.standIn === 'calls-dashboard') return callsDashboard(facts.query, state.calls);
  return { status: endpoint.status, body: endpoint.example, work: true };
}

/**
 * The backend's answer to one request, in middleware order: the limiter's Redis store (down:
 * 500), the limiter (429), then routing, auth and the endpoint. `verdict` is the limiter's
 * verdict for a rate-limited path (undefined elsewhere, or when Redis is down).
 */
export function answer(facts: RequestFacts, state: ContractState, verdict: LimitVerdict | undefined): Reply {
  if (isRateLimitedPath(state.contract, facts.path) && state.redisDown) {
    // The limiter's Redis store throws before anything else runs.
    return json(500, { error: 'Connection is closed.' }, false);
  }
  const limitHeaders = verdict?.headers ?? {};
  if (verdict?.limited) {
    const retryAfter = limitHeaders['retry-after'];
    return json(429, { error: 'Too many requests', message: 'Rate limit exceeded. Please try again later.', retryAfter }, false, limitHeaders);
  }
  const endpoint = endpointAt(state.contract, facts.path);
  if (!endpoint || (facts.method !== 'GET' && facts.method !== 'HEAD')) {
    return json(404, { error: 'Not found', path: facts.path }, false, limitHeaders);
  }
  const { status, body, work } = route(facts, endpoint, state);
  return json(status, body, work, limitHeaders);
}

/** The backend's 500 for an endpoint whose work failed (the error fault). */
export function internalError(endpoint: Endpoint | undefined, limitHeaders: Record<string, string>): Reply {
  const body =
    endpoint?.standIn === 'calls-dashboard'
      ? { error: 'Failed to fetch calls', code: 'INTERNAL_ERROR', request_id: randomUUID() }
      : { error: 'Internal server error' };
  return json(500, body, true, limitHeaders);
}
