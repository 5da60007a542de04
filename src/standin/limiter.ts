// express-rate-limit as the backend configures it: a fixed window per client IP, opened by the
// client's first request. With `trust proxy` 1 the client is the last X-Forwarded-For entry.
import type { LimitVerdict } from './contract';

/** The limiter's key: the last X-Forwarded-For entry, else the socket's address. */
export function clientKey(forwardedFor: string | string[] | undefined, remoteAddress: string | undefined): string {
  const entries = String(forwardedFor ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return entries.at(-1) ?? remoteAddress ?? 'unknown';
}

export class FixedWindowLimiter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();

  constructor(
    readonly limit: number,
    readonly windowSeconds: number,
  ) {}

  /** Counts one request of `key` at `now` (epoch ms): the RateLimit-* headers and whether it is over. */
  hit(key: string, now: number): LimitVerdict {
    let w = this.windows.get(key);
    if (!w || now >= w.resetAt) {
      w = { count: 0, resetAt: now + this.windowSeconds * 1000 };
      this.windows.set(key, w);
    }
    w.count++;
    const reset = String(Math.max(0, Math.ceil((w.resetAt - now) / 1000)));
    const headers: Record<string, string> = {
      'ratelimit-policy': `${this.limit};w=${this.windowSeconds}`,
      'ratelimit-limit': String(this.limit),
      'ratelimit-remaining': String(Math.max(0, this.limit - w.count)),
      'ratelimit-reset': reset,
    };
    const limited = w.count > this.limit;
    if (limited) headers['retry-after'] = reset;
    return { headers, limited };
  }
}
