// Synthetic run records for the report benchmark and tests: periods with real DDSketch histograms
// drawn from the guide's baseline latencies (log-normal, seeded), users following the profile's
// stages, and a few incidents (a slow endpoint, a burst of 5xx, a burst of 429s) so every chart
// has something to draw. Gates, totals and the diagnosis come from the pack's own functions.
import { DDSketch } from '@artilleryio/sketches-js';
import { loadBudgets, loadContract, type Stage } from '../src/catalog/config';
import { isRateLimitedPath, periodMs } from '../src/catalog/contract';
import { mulberry32 } from '../src/standin/faults';
import { diagnose } from '../src/record/diagnosis';
import { evaluateGates, gateSpecs } from '../src/record/gates';
import { plannedUsersAt, planVisits, totalSeconds } from '../src/plan/users';
import { addErrors, noErrors, RECORD_SCHEMA, type EndpointPeriod, type ErrorKinds, type Period, type RunRecord } from '../src/record/record';
import { encodeSketch } from '../src/common/sketches';
import { computeTotals, summarizeEndpoints } from '../src/record/periods';

export interface Incident {
  /** Seconds from the start of the load. */
  from: number;
  to: number;
  endpoint?: string;
  slowFactor?: number;
  errorRate?: number;
  rateLimitedRate?: number;
}

export interface SyntheticOptions {
  environment?: string;
  profile: string;
  description?: string;
  stages: Stage[];
  /** Journeys per user per second (a journey requests every endpoint once). */
  journeysPerUserSecond: number;
  incidents?: Incident[];
  startedAt?: Date;
  seed?: number;
  thinkSeconds?: number;
}

export function syntheticRecord(opts: SyntheticOptions): RunRecord {
  const budgets = loadBudgets();
  const contract = loadContract();
  const period = periodMs(contract);
  const periodSeconds = contract.periodSeconds;
  const random = mulberry32(opts.seed ?? 7);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const poisson = (mean: number) => Math.max(0, Math.round(mean + Math.sqrt(mean) * normal()));
  const loadSeconds = totalSeconds(opts.stages);
  const visits = planVisits(opts.stages);
  const startedAt = opts.startedAt ?? new Date(Date.UTC(2026, 0, 5, 9, 0, 0));
  const loadStart = Math.ceil((startedAt.getTime() + 3000) / period) * period;
  const periodsCount = Math.ceil(loadSeconds / periodSeconds);
  const periods: Period[] = [];

  for (let i = 0; i < periodsCount; i++) {
    const t = i * periodSeconds;
    const planned = plannedUsersAt(visits, Math.min(loadSeconds, t + periodSeconds));
    const mid = plannedUsersAt(visits, t + periodSeconds / 2);
    const overall = new DDSketch();
    const endpoints: Record<string, EndpointPeriod> = {};
    for (const { name, path, baseline: base } of contract.endpoints) {
      const active = (opts.incidents ?? []).filter((x) => t < x.to && t + periodSeconds > x.from && (!x.endpoint || x.endpoint === name));
      const slow = active.reduce((f, x) => f * (x.slowFactor ?? 1), 1);
      const errorRate = Math.min(
        1,
        active.reduce((f, x) => f + (x.errorRate ?? 0), 0.0005),
      );
      const limitedRate = !isRateLimitedPath(contract, path)
        ? 0
        : Math.min(
            1,
            active.reduce((f, x) => f + (x.rateLimitedRate ?? 0), 0),
          );
      const n = poisson(mid * opts.journeysPerUserSecond * periodSeconds);
      const sigma = Math.log(base.p95 / base.p50) / 1.645;
      const sketch = new DDSketch();
      const errors: ErrorKinds = noErrors();
      let ok = 0;
      for (let k = 0; k < n; k++) {
        const ms = Math.max(0.5, base.p50 * slow * Math.exp(sigma * normal()));
        sketch.accept(ms);
        overall.accept(ms);
        const u = random();
        if (u < limitedRate) errors.rateLimited++;
        else if (u < limitedRate + errorRate) errors.http5xx++;
        else ok++;
      }
      const codes: Record<string, number> = {};
      if (ok) codes['200'] = ok;
      if (errors.http5xx) codes['500'] = errors.http5xx;
      if (errors.rateLimited) codes['429'] = errors.rateLimited;
      endpoints[name] = { requests: n, codes, errors, latency: n ? encodeSketch(sketch) : undefined };
    }
    const parts = Object.values(endpoints);
    const codes: Record<string, number> = {};
    for (const e of parts) for (const [c, n] of Object.entries(e.codes)) codes[c] = (codes[c] ?? 0) + n;
    const active = Math.max(0, Math.round(planned + (random() < 0.1 ? -1 : 0)));
    periods.push({
      start: loadStart + t * 1000,
      requests: parts.reduce((s, e) => s + e.requests, 0),
      codes,
      errors: parts.reduce((s, e) => addErrors(s, e.errors), noErrors()),
      latency: overall.count ? encodeSketch(overall) : undefined,
      users: { created: 0, completed: 0, failed: 0, active, planned },
      endpoints,
    });
  }

  const endpointSummaries = summarizeEndpoints(periods, contract.endpoints, {}, false);
  const totals = computeTotals(periods, { count429: false, loadSeconds, durationSeconds: loadSeconds, crashedUsers: 0 });
  const gates = evaluateGates(
    gateSpecs(budgets, contract.endpoints, { loadSeconds, strictBudgets: false, count429: false, plannedRequests: totals.requests }),
    totals,
    endpointSummaries,
    undefined,
  );
  const failed = gates.filter((g) => g.strict && !g.passed);
  const limit = contract.rateLimit;
  const limited = contract.endpoints.filter((e) => isRateLimitedPath(contract, e.path)).map((e) => e.name);
  const environment = opts.environment ?? 'local';
  const stamp = startedAt.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const endedAt = new Date(loadStart + loadSeconds * 1000 + 2000);
  const health = (at: Date) => ({ ok: true, at: at.toISOString(), status: 200, latencyMs: 12, failingServices: [] as string[] });
  const record: RunRecord = {
    schema: RECORD_SCHEMA,
    pack: { name: 'voxanne-load-test', version: '1.0.0' },
    id: `${stamp}-${environment}-${opts.profile}`,
    startedAt: startedAt.toISOString(),
    loadStartedAt: new Date(loadStart).toISOString(),
    endedAt: endedAt.toISOString(),
    target: 'http://127.0.0.1:3001',
    environment,
    profile: { name: opts.profile, description: opts.description ?? `synthetic ${opts.profile}`, stages: opts.stages, thinkSeconds: opts.thinkSeconds ?? 1 },
    timeScale: 1,
    periodSeconds: contract.periodSeconds,
    platform: { name: 'local', count: 1 },
    auth: { mode: 'dev-token', description: 'development token (synthetic record)' },
    outcome: failed.length ? 'failed' : 'passed',
    reason: failed.length ? `Gate failed: ${failed.map((g) => g.title).join(', ')}.` : 'Every gate passed and /health was ok before and after the load.',
    exitCode: failed.length ? 1 : 0,
    gates,
    health: { start: health(startedAt), end: health(endedAt) },
    apiCheck: { ok: true, path: '/api/vapi/webhook/health', status: 200, latencyMs: 9 },
    rateLimit: {
      atStart: {
        policy: `${limit.requests};w=${limit.windowSeconds}`,
        limit: limit.requests,
        windowSeconds: limit.windowSeconds,
        remaining: limit.requests,
        resetSeconds: limit.windowSeconds,
      },
      predictedApiRequests: periods.reduce((s, p) => s + limited.reduce((a, n) => a + (p.endpoints[n]?.requests ?? 0), 0), 0),
      limited: totals.errors.rateLimited,
      countedAsErrors: false,
      spreadIps: true,
      warning: null,
    },
    abort: null,
    ending: { signal: null, inFlight: 0, unknownSeconds: 0, unreportedPeriods: 0 },
    redirects: [],
    totals,
    endpoints: endpointSummaries,
    periods,
    diagnosis: [],
  };
  record.diagnosis = diagnose(record);
  return record;
}

/** The guide's 7-minute standard run (42 periods, up to 10 users), with a slow patch on /api/assistants. */
export const standardRecord = (seed = 7, startedAt?: Date): RunRecord =>
  syntheticRecord({
    profile: 'standard',
    description: "The guide's test: up to 10 concurrent users over 7 minutes",
    stages: [
      { duration: 60, target: 5 },
      { duration: 120, target: 10 },
      { duration: 180, target: 10 },
      { duration: 60, target: 0 },
    ],
    journeysPerUserSecond: 0.66,
    incidents: [
      { from: 230, to: 280, endpoint: 'assistants', slowFactor: 2.2 },
      { from: 300, to: 320, errorRate: 0.02 },
    ],
    seed,
    startedAt,
  });

/**
 * A 24-hour soak (8,640 periods, 5 endpoints). `users` 1 is the soak profile's load (a journey
 * every 15 s); more users make a heavier record (bigger sketches) for a worst case.
 */
export const soakRecord = (users = 1, seed = 11): RunRecord =>
  syntheticRecord({
    profile: 'soak',
    description: `24 hours at ${users} user${users > 1 ? 's' : ''}`,
    stages: [
      { duration: 60, target: users },
      { duration: 86_400 - 120, target: users },
      { duration: 60, target: 0 },
    ],
    journeysPerUserSecond: users === 1 ? 1 / 16 : 0.66,
    thinkSeconds: users === 1 ? 15 : 1,
    incidents: [
      { from: 13 * 3600, to: 13 * 3600 + 900, errorRate: 0.3 },
      { from: 20 * 3600, to: 21 * 3600, rateLimitedRate: 0.4 },
      { from: 6 * 3600, to: 7 * 3600, endpoint: 'calls_dashboard', slowFactor: 3 },
    ],
    seed,
  });
