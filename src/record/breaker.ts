// The breaker's decisions: stop the load when the last window's requests clearly fail, or when
// /health goes bad. The same functions decide in the pack's plugin (a local run) and on each
// distributed worker (processors/worker-breaker.ts), which leaves its stop in the output as a counter.
import type { RunConfig } from '../channel/channel';
import type { HealthResult } from '../checks/health';
import { counter } from '../common/metrics';

export type BreakerLimits = NonNullable<RunConfig['breaker']>;
export type BreakerCause = 'error-rate' | 'health';
export interface BreakerTrip {
  cause: BreakerCause;
  /** One sentence, as the user reads it. */
  reason: string;
}

/** The periods seen so far: requests, and those that failed or were rate limited. */
export interface BreakerState {
  recent: Array<{ requests: number; failing: number }>;
}
export const breakerStart = (): BreakerState => ({ recent: [] });

/** After each period Artillery reports: the new state, and a trip when the last window failed too much. */
export function afterPeriod(
  state: BreakerState,
  counters: Record<string, number>,
  limits: BreakerLimits,
  periodLengthMs: number,
): { state: BreakerState; trip?: BreakerTrip } {
  const size = Math.max(1, Math.round((limits.windowSeconds * 1000) / periodLengthMs));
  // Errors and 429s both mean the load is no longer measuring anything useful.
  const period = { requests: counters[counter.requests] ?? 0, failing: (counters[counter.errors] ?? 0) + (counters[counter.rateLimited] ?? 0) };
  const recent = [...state.recent, period].slice(-size);
  const requests = recent.reduce((sum, p) => sum + p.requests, 0);
  const failing = recent.reduce((sum, p) => sum + p.failing, 0);
  const full = (recent.length * periodLengthMs) / 1000 >= limits.windowSeconds;
  if (!full || requests === 0 || (failing / requests) * 100 <= limits.errorRatePct) return { state: { recent } };
  const reason = `${Math.round((failing / requests) * 100)} % of requests failed or were rate limited over the last ${limits.windowSeconds} s (limit ${limits.errorRatePct} %).`;
  return { state: { recent }, trip: { cause: 'error-rate', reason } };
}

/** After each /health check mid-run: a trip when it went bad. */
export function afterHealth(health: HealthResult): BreakerTrip | undefined {
  if (health.ok) return undefined;
  const down = health.failingServices?.length ? `: ${health.failingServices.join(', ')} down` : '';
  return { cause: 'health', reason: `/health went bad mid-run (${health.problem}${down}).` };
}

// A distributed worker's stop travels in Artillery's own output: the counter
// voxanne.breaker.<cause>.<worker> (its value is the worker's threads that stopped, at least 1).
const PREFIX = 'voxanne.breaker.';

/** A worker's name as a metric name part: letters, digits, dashes and underscores. */
export const workerName = (raw: string): string => raw.replace(/[^\w-]/g, '_').slice(0, 64) || 'worker';

export const workerStopCounter = (cause: BreakerCause, worker: string): string => `${PREFIX}${cause}.${workerName(worker)}`;

export interface WorkerStop {
  worker: string;
  cause: BreakerCause;
  /** Start of the period in which it stopped (epoch ms). */
  at: number;
}

/** The workers that stopped their own load, from the periods of a combined output, in the order they stopped. */
export function workerStops(periods: Array<{ period: number; counters: Record<string, number> }>): WorkerStop[] {
  const stops = new Map<string, WorkerStop>();
  for (const p of [...periods].sort((a, b) => a.period - b.period)) {
    for (const [name, n] of Object.entries(p.counters)) {
      const m = /^voxanne\.breaker\.(error-rate|health)\.(.+)$/.exec(name);
      if (m && n > 0 && !stops.has(m[2])) stops.set(m[2], { worker: m[2], cause: m[1] as BreakerCause, at: p.period });
    }
  }
  return [...stops.values()];
}

/** Why the workers stopped, in one sentence for the record. */
export function workerStopsReason(stops: WorkerStop[], workers: number, limits: BreakerLimits): string {
  const why = (c: BreakerCause) =>
    c === 'health' ? '/health went bad' : `more than ${limits.errorRatePct} % of its requests failed over ${limits.windowSeconds} s`;
  const list = stops.map((s) => `${s.worker} (${why(s.cause)})`).join(', ');
  return `${stops.length} of ${workers} worker${workers === 1 ? '' : 's'} stopped ${stops.length === 1 ? 'its' : 'their'} own load: ${list}.`;
}
