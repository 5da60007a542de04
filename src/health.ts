// GET /health as the guide's pass criteria read it: 200 with status "ok", within a few seconds.
import { readRateLimit, type RateLimitState } from './ratelimit';
export type HealthProblem = 'refused' | 'timeout' | 'unreachable' | 'redirect-loop' | 'degraded' | 'http-error' | 'wrong-body';

/** Why a request got no answer: the system error code, or "redirect loop" when fetch gave up after 20 redirects. */
function failureCode(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (/redirect count exceeded/i.test(e.cause?.message ?? '')) return 'redirect loop';
  return e.cause?.code ?? e.name;
}

export interface HealthResult {
  ok: boolean;
  at: string;
  status?: number;
  latencyMs?: number;
  problem?: HealthProblem;
  /** Services that /health reports as false (e.g. database). */
  failingServices?: string[];
  /** A short, secret-free description of what came back. */
  detail?: string;
}

export async function checkHealth(baseUrl: string, timeoutMs = 5000): Promise<HealthResult> {
  const at = new Date().toISOString();
  const started = performance.now();
  let res: Response;
  try {
    res = await fetch(new URL('/health', baseUrl), { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const code = failureCode(err);
    const problem: HealthProblem =
      code === 'ECONNREFUSED' ? 'refused' : code === 'redirect loop' ? 'redirect-loop' : /Timeout|Abort/.test(code) ? 'timeout' : 'unreachable';
    return {
      ok: false,
      at,
      problem,
      detail: problem === 'timeout' ? `no answer within ${timeoutMs} ms` : problem === 'redirect-loop' ? 'redirect loop: more than 20 redirects' : code,
    };
  }
  const text = await res.text().catch(() => '');
  const latencyMs = Math.round(performance.now() - started);
  let body: { status?: unknown; services?: Record<string, unknown> } | undefined;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const failingServices = Object.entries(body?.services ?? {})
    .filter(([, up]) => up === false)
    .map(([name]) => name);
  const base = { at, status: res.status, latencyMs, failingServices };
  if (res.status === 200 && body?.status === 'ok') return { ok: true, ...base };
  if (res.status === 503 || body?.status === 'degraded') {
    return { ok: false, ...base, problem: 'degraded', detail: `status "${String(body?.status)}"` };
  }
  if (res.status !== 200) return { ok: false, ...base, problem: 'http-error', detail: snippet(text) };
  return { ok: false, ...base, problem: 'wrong-body', detail: snippet(text) };
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 120 ? `${flat.slice(0, 117)}...` : flat || '(empty body)';
}

export interface ApiCheck {
  ok: boolean;
  path: string;
  status?: number;
  latencyMs?: number;
  /** What came back when it failed, shortened (the contract's Redis-down body is short). */
  detail?: string;
  rateLimit?: RateLimitState;
}

/** The path of the preflight's /api request: no auth needed, no data read, rate limited like the rest. */
export const API_PROBE_PATH = '/api/vapi/webhook/health';

/** One /api request: proves the API works, not just /health, and reads the rate-limit headers. */
export async function checkApi(baseUrl: string, timeoutMs = 5000): Promise<ApiCheck> {
  const started = performance.now();
  let res: Response;
  try {
    res = await fetch(new URL(API_PROBE_PATH, baseUrl), { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    return { ok: false, path: API_PROBE_PATH, detail: failureCode(err) };
  }
  const text = await res.text().catch(() => '');
  const latencyMs = Math.round(performance.now() - started);
  const rateLimit = readRateLimit(res.headers);
  // A 429 means the API works but this client has used up its window: the rate-limit advice says so.
  const ok = res.status === 200 || res.status === 429;
  return { ok, path: API_PROBE_PATH, status: res.status, latencyMs, rateLimit, ...(ok ? {} : { detail: snippet(text) }) };
}
