// GET /health as the guide's pass criteria read it: 200 with status "ok", within a few seconds.
import { z } from 'zod';
import { RateLimitState, readRateLimit } from './ratelimit';

/** Why a request got no answer: the system error code. */
function failureCode(err: unknown): string {
  const e = err as Error & { cause?: { code?: string } };
  return e.cause?.code ?? e.name;
}

/** "redirect to <Location>" for a 3xx: redirects are never followed (that would check another server). */
export function redirectDetail(res: Response): string | undefined {
  if (res.status < 300 || res.status >= 400) return undefined;
  return `redirect to ${res.headers.get('location') || '(no Location header)'}`;
}

// The shapes (src/channel/channel.ts) travel on the event channel and into the run record.
/** GET /health as the pack saw it. */
export const HealthResult = z.object({
  ok: z.boolean(),
  at: z.string(),
  status: z.number().optional(),
  latencyMs: z.number().optional(),
  problem: z.enum(['refused', 'timeout', 'unreachable', 'degraded', 'http-error', 'wrong-body', 'redirect', 'redirect-loop']).optional(),
  failingServices: z.array(z.string()).optional(),
  detail: z.string().optional(),
});
export type HealthResult = z.infer<typeof HealthResult>;

/** The preflight's /api requests, as the pack saw them. */
export const ApiCheck = z.object({
  ok: z.boolean(),
  path: z.string(),
  status: z.number().optional(),
  latencyMs: z.number().optional(),
  detail: z.string().optional(),
  rateLimit: RateLimitState.optional(),
  authenticated: z.boolean().optional(),
  /** The preflight's /api requests: how many it sent, and the answers that failed (src/checks/health.ts sampleApi). */
  sent: z.number().optional(),
  failures: z.array(z.object({ status: z.number().optional(), detail: z.string().optional() })).optional(),
});
export type ApiCheck = z.infer<typeof ApiCheck>;
type HealthProblem = NonNullable<HealthResult['problem']>;

export async function checkHealth(baseUrl: string, timeoutMs = 5000): Promise<HealthResult> {
  const at = new Date().toISOString();
  const started = performance.now();
  let res: Response;
  try {
    res = await fetch(new URL('/health', baseUrl), { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
  } catch (err) {
    const code = failureCode(err);
    const problem: HealthProblem = code === 'ECONNREFUSED' ? 'refused' : /Timeout|Abort/.test(code) ? 'timeout' : 'unreachable';
    return { ok: false, at, problem, detail: problem === 'timeout' ? `no answer within ${timeoutMs} ms` : code };
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
  const redirect = redirectDetail(res);
  if (redirect) return { ok: false, ...base, problem: 'redirect', detail: redirect };
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

/** The preflight's /api paths, from the contract catalog (preflightPaths): without a token, and with one. */
type ApiPaths = { open: string; authenticated: string };

/** The target refuses the pack itself (its token, or its headers' size): asking again cannot help. */
export const refusesUs = (a: Pick<ApiCheck, 'status' | 'authenticated'>): boolean =>
  a.status === 413 || a.status === 431 || (Boolean(a.authenticated) && a.status === 401);

/**
 * At most this many /api requests tell a broken API (every answer fails) from a flaky one. The
 * preflight stops at the first answer that works, so a healthy API costs one request and a broken
 * one 8 (of the backend's 1000 an hour). An API failing 25 % of requests at random fails all 8
 * once in 65,000 preflights; at 2 %, practically never.
 */
export const API_SAMPLES = 8;

/**
 * The preflight's /api check: requests until one works, the target refuses the pack itself, or
 * `samples` have failed. The result is the last answer's, with how many were sent and each failure.
 */
export async function sampleApi(baseUrl: string, paths: ApiPaths, timeoutMs = 5000, authorization?: string, samples = API_SAMPLES): Promise<ApiCheck> {
  const failures: NonNullable<ApiCheck['failures']> = [];
  for (let sent = 1; ; sent++) {
    const answer = await checkApi(baseUrl, paths, timeoutMs, authorization);
    if (!answer.ok)
      failures.push({ ...(answer.status !== undefined && { status: answer.status }), ...(answer.detail !== undefined && { detail: answer.detail }) });
    if (answer.ok || refusesUs(answer) || sent >= samples) return { ...answer, sent, ...(failures.length && { failures }) };
  }
}

/** "3 of 8 /api requests failed (500 ×2, timeout)": the preflight's failed samples, or undefined when none failed. */
export function sampleFailures(a: ApiCheck): string | undefined {
  if (!a.failures?.length) return undefined;
  const kinds = new Map<string, number>();
  for (const f of a.failures) {
    const kind = f.status !== undefined ? String(f.status) : (f.detail ?? 'no answer');
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  const list = [...kinds].map(([kind, n]) => (n > 1 ? `${kind} ×${n}` : kind)).join(', ');
  return `${a.failures.length} of ${a.sent ?? a.failures.length} /api requests failed (${list})`;
}

/**
 * One /api request: proves the API works, not just /health, and reads the rate-limit headers. With
 * an Authorization header it also proves the token is accepted (a 401 is then not ok).
 */
async function checkApi(baseUrl: string, paths: ApiPaths, timeoutMs = 5000, authorization?: string): Promise<ApiCheck> {
  const path = authorization ? paths.authenticated : paths.open;
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
  const detail = redirectDetail(res) ?? snippet(text);
  return { ok, path, authenticated: Boolean(authorization), status: res.status, latencyMs, rateLimit, ...(ok ? {} : { detail }) };
}
