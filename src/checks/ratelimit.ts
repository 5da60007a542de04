// The backend's rate limiter (express-rate-limit, a fixed window per IP shared by every client behind
// the same address; its figures are config/contract.yml's): reading its headers, and whether a run fits.

import { z } from 'zod';

/** The rate limit left, as the backend's RateLimit headers tell it. */
export const RateLimitState = z.object({
  policy: z.string().optional(),
  limit: z.number().optional(),
  windowSeconds: z.number().optional(),
  remaining: z.number().optional(),
  resetSeconds: z.number().optional(),
  resetAt: z.string().optional(),
});
export type RateLimitState = z.infer<typeof RateLimitState>;

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
 * A warning when the run's /api requests would not fit in what is left of the window, with the ways
 * out: profiles or a time scale that would fit, the window's reset, and --spread-ips on loopback.
 * `profiles` gives each profile's /api requests at time scale 1.
 */
export function rateLimitAdvice(
  s: RateLimitState | undefined,
  estimate: number,
  profiles: Array<{ name: string; api: number }>,
  timeScale: number,
  loopback = false,
): string | undefined {
  if (!s || s.remaining === undefined || estimate <= s.remaining) return undefined;
  const left = s.remaining;
  const resets = s.resetAt ? ` (the window resets at ${s.resetAt.slice(11, 16)} UTC)` : '';
  const fitting = profiles.filter((p) => p.api <= left).map((p) => `--profile ${p.name} (~${p.api})`);
  const scale = Math.floor((timeScale * left * 100) / estimate) / 100;
  const fits = [...fitting, ...(scale >= 0.01 ? [`--time-scale ${scale}`] : []), ...(loopback ? ['--spread-ips (a backend on this machine)'] : [])];
  return (
    `Rate limit: this run would send about ${estimate} /api requests, but only ${left} of ${describePolicy(s)} are left${resets}. ` +
    `The limiter would answer 429 once they are used (that is the limiter, not overload). ` +
    (fits.length ? `Would fit: ${fits.join(', ')}.` : 'Nothing fits until the window resets.')
  );
}
