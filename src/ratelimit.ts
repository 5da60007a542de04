// The backend's rate limiter (express-rate-limit, 1000 /api requests per hour per IP, fixed window
// shared by every client behind the same address): reading its headers, and whether a run fits.

export interface RateLimitState {
  /** As sent, e.g. "1000;w=3600". */
  policy?: string;
  limit?: number;
  windowSeconds?: number;
  remaining?: number;
  /** Seconds until the window resets, and the moment that is. */
  resetSeconds?: number;
  resetAt?: string;
}

const num = (v: string | null | undefined) => (v === null || v === undefined || v === '' || isNaN(Number(v)) ? undefined : Number(v));

export function readRateLimit(headers: Headers | Record<string, string | string[] | undefined>, now = Date.now()): RateLimitState | undefined {
  const get = (name: string): string | undefined => {
    if (headers instanceof Headers) return headers.get(name) ?? undefined;
    const v = headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const policy = get('ratelimit-policy');
  const limit = num(get('ratelimit-limit'));
  if (!policy && limit === undefined) return undefined;
  const windowSeconds = num(/w=(\d+)/.exec(policy ?? '')?.[1]);
  const resetSeconds = num(get('ratelimit-reset')) ?? num(get('retry-after'));
  return {
    policy,
    limit: limit ?? num(policy?.split(';')[0]),
    windowSeconds,
    remaining: num(get('ratelimit-remaining')),
    resetSeconds,
    resetAt: resetSeconds === undefined ? undefined : new Date(now + resetSeconds * 1000).toISOString(),
  };
}

/** "1000 per hour" from a policy, for messages. */
export function describePolicy(s: RateLimitState | undefined): string {
  if (!s?.limit) return 'unknown policy';
  const w = s.windowSeconds;
  const per = w === 3600 ? 'hour' : w === 60 ? 'minute' : w ? `${w} s` : 'window';
  return `${s.limit} per ${per}`;
}

/**
 * A warning when the run's /api requests would not fit in what is left of the window, with
 * profiles or a time scale that would. `profileEstimates` is "name:requests,..." at time scale 1.
 */
export function rateLimitAdvice(s: RateLimitState | undefined, estimate: number, profileEstimates: string, timeScale: number): string | undefined {
  if (!s || s.remaining === undefined || estimate <= s.remaining) return undefined;
  const left = s.remaining;
  const resets = s.resetAt ? ` (the window resets at ${s.resetAt.slice(11, 16)} UTC)` : '';
  const fitting = profileEstimates
    .split(',')
    .map((p) => p.split(':'))
    .filter(([, n]) => Number(n) <= left)
    .map(([name, n]) => `--profile ${name} (~${n})`);
  const scale = Math.floor((timeScale * left * 100) / estimate) / 100;
  const fits = [...fitting, ...(scale >= 0.01 ? [`--time-scale ${scale}`] : [])];
  return (
    `Rate limit: this run would send about ${estimate} /api requests, but only ${left} of ${describePolicy(s)} are left${resets}. ` +
    `The limiter would answer 429 once they are used (that is the limiter, not overload). ` +
    (fits.length ? `Would fit: ${fits.join(', ')}.` : 'Nothing fits until the window resets.')
  );
}
