// GET /health as the guide's pass criteria read it: 200 with status "ok", within a few seconds.
import type { ApiCheck, HealthResult } from './channel';
import { readRateLimit } from './ratelimit';

/** Why a request got no answer: the system error code, or "redirect loop" when fetch gave up after 20 redirects. */
function failureCode(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (/redirect count exceeded/i.test(e.cause?.message ?? '')) return 'redirect loop';
  return e.cause?.code ?? e.name;
}

// The shapes (src/channel.ts) travel on the event channel and into the run record.
export type { ApiCheck, HealthResult };
export type HealthProblem = NonNullable<HealthResult['problem']>;

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


/** The path of the preflight's /api request: no auth needed, no data read, rate limited like the rest. */
export const API_PROBE_PATH = '/api/vapi/webhook/health';

/** The preflight's /api request with a token: one small page of the dashboard, the cheapest authenticated read. */
export const AUTHENTICATED_PROBE_PATH = '/api/calls-dashboard?limit=1';

/**
 * One /api request: proves the API works, not just /health, and reads the rate-limit headers. With
 * an Authorization header it also proves the token is accepted (a 401 is then not ok).
 */
export async function checkApi(baseUrl: string, timeoutMs = 5000, authorization?: string): Promise<ApiCheck> {
  const path = authorization ? AUTHENTICATED_PROBE_PATH : API_PROBE_PATH;
  const started = performance.now();
  let res: Response;
  try {
    res = await fetch(new URL(path, baseUrl), {
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'manual',
      ...(authorization && { headers: { authorization } }),
    });
  } catch (err) {
    return { ok: false, path, authenticated: Boolean(authorization), detail: failureCode(err) };
  }
  const text = await res.text().catch(() => '');
  const latencyMs = Math.round(performance.now() - started);
  const rateLimit = readRateLimit(res.headers);
  // A 429 means the API works but this client has used up its window: the rate-limit advice says so.
  const ok = res.status === 200 || res.status === 429;
  const location = res.headers.get('location');
  const detail = location ? `redirect to ${location}` : snippet(text);
  return { ok, path, authenticated: Boolean(authorization), status: res.status, latencyMs, rateLimit, ...(ok ? {} : { detail }) };
}
