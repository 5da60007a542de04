// The run record (run.json): everything a run found, in one file that the summary, the HTML report,
// JUnit and the history are all built from. Its format is this file's schema ("voxanne-run/2"), and
// records are read back through it (older versions migrated).
import { DDSketch } from '@artilleryio/sketches-js';
import { z } from 'zod';
import { CapacityStep, type PeriodEvent } from '../channel/channel';
import { CapacitySearch, Stage } from '../catalog/config';
import { CapacityLimits } from '../plan/capacity';
import { ApiCheck, HealthResult } from '../target/health';
import { RateLimitState } from '../target/ratelimit';
import type { Endpoint } from '../catalog/contract';
import { artilleryMetric, counter, userChange } from '../shared/metrics';

export const RECORD_SCHEMA = 'voxanne-run/2';
const OLDER_SCHEMAS = ['voxanne-run/1'];

const Outcome = z.enum(['passed', 'failed', 'aborted', 'interrupted', 'unhealthy', 'refused', 'crashed']);
export type Outcome = z.infer<typeof Outcome>;

/** Errors by kind. Statuses count only when outside the request's expected set. */
const ErrorKinds = z.object({
  transport: z.number(),
  timeout: z.number(),
  http4xx: z.number(),
  rateLimited: z.number(),
  http5xx: z.number(),
  /** Unexpected statuses below 400: a redirect, or a 200 where a 401 was expected. */
  otherStatus: z.number(),
  /** The expected status, but a body that is not JSON (e.g. a proxy's HTML error page). */
  notJson: z.number(),
  /** The expected status, but a body that failed its checks (wrong shape, or JSON that does not parse). */
  badBody: z.number(),
});
export type ErrorKinds = z.infer<typeof ErrorKinds>;

const LatencySummary = z.object({ count: z.number(), min: z.number(), mean: z.number(), p50: z.number(), p95: z.number(), p99: z.number(), max: z.number() });
export type LatencySummary = z.infer<typeof LatencySummary>;

/** One endpoint's share of a period. `latency` is a DDSketch (1 % relative accuracy), protobuf in base64. */
const EndpointPeriod = z.object({
  requests: z.number(),
  codes: z.record(z.string(), z.number()),
  errors: ErrorKinds,
  latency: z.string().optional(),
  /** Artillery's summary of the period, kept instead when there is no sketch (distributed runs). */
  latencySummary: LatencySummary.optional(),
});
export type EndpointPeriod = z.infer<typeof EndpointPeriod>;

const Period = EndpointPeriod.extend({
  /** Start of the period (config/contract.yml's periodSeconds), epoch ms. */
  start: z.number(),
  /** Users active at the end of the period: measured (Artillery) and planned (profile). */
  users: z.object({ created: z.number(), completed: z.number(), failed: z.number(), active: z.number(), planned: z.number() }),
  endpoints: z.record(z.string(), EndpointPeriod),
  /** Measured by the workers but never reported by Artillery: the run ended before the period closed. */
  unreported: z.boolean().optional(),
});
export type Period = z.infer<typeof Period>;

const Gate = z.object({
  id: z.string(),
  title: z.string(),
  /** The ensure expression that enforces it. */
  expression: z.string(),
  value: z.number().nullable(),
  limit: z.number(),
  comparator: z.enum(['<', '<=', '>=']),
  unit: z.enum(['ms', '%', 'req/s', 'count']),
  /** A strict gate fails the run; others are warnings. */
  strict: z.boolean(),
  passed: z.boolean(),
  endpoint: z.string().optional(),
});
export type Gate = z.infer<typeof Gate>;

const Baseline = z.object({ p50: z.number(), p95: z.number(), p99: z.number() });

const EndpointSummary = z.object({
  name: z.string(),
  path: z.string(),
  requests: z.number(),
  errors: ErrorKinds,
  errorCount: z.number(),
  codes: z.record(z.string(), z.number()),
  latency: LatencySummary.nullable(),
  budgetP95Ms: z.number(),
  baseline: Baseline,
  /** Responses whose body checks failed (once per response). */
  expectationFailures: z.number(),
  /** Answers that were the endpoint's declared fallback (config/contract.yml): something behind it failed. */
  fallbackAnswers: z.number(),
  /** The endpoint's fallback as the catalog declares it (absent when it has none). */
  fallback: z.object({ body: z.string(), meaning: z.string(), slowness: z.string().optional() }).optional(),
});
export type EndpointSummary = z.infer<typeof EndpointSummary>;


const Totals = z.object({
  requests: z.number(),
  errors: ErrorKinds,
  errorCount: z.number(),
  errorRatePct: z.number(),
  durationSeconds: z.number(),
  requestsPerSecond: z.number(),
  latency: LatencySummary.nullable(),
  maxUsers: z.number(),
  crashedUsers: z.number(),
  codes: z.record(z.string(), z.number()),
});

/** A capacity search's answer (--profile capacity). */
const Capacity = z.object({
  result: z.enum(['knee', 'generator-limit', 'top-held', 'below-first-step', 'incomplete']),
  /** The highest throughput and the fewest users that reached it; the search's last predicted breaking point. */
  knee: z.object({ users: z.number(), requestsPerSecond: z.number() }).nullable().optional(),
  predicted: z.object({ users: z.number(), gate: z.string() }).nullable().optional(),
  /** The users held and broken, as the guide's users who pause between journeys (Little's law, an estimate). */
  guideUsers: z.object({ held: z.number().nullable(), broke: z.number().nullable(), thinkSeconds: z.number() }).nullable().optional(),
  /** The answer in one line, beginning "capacity:". */
  line: z.string(),
  steps: z.array(CapacityStep),
  /** Index in steps of the highest step held, and of the step that ended the search. */
  held: z.number().nullable(),
  stoppedAt: z.number().nullable(),
  degradedFirst: z.string().nullable(),
  atLeastRps: z.number().nullable(),
  /** Older records: users of every planned step. */
  plannedUsers: z.array(z.number()).optional(),
  /** How the search searched (newer records), and the limits each step was judged by. */
  search: CapacitySearch.optional(),
  limits: CapacityLimits,
});
export type CapacityRecord = z.infer<typeof Capacity>;

export const RunRecordSchema = z.object({
  schema: z.literal(RECORD_SCHEMA),
  pack: z.object({ name: z.string(), version: z.string() }),
  id: z.string(),
  startedAt: z.string(),
  /** When Artillery started the first phase (the load's time zero), or null if it never did. */
  loadStartedAt: z.string().nullable(),
  endedAt: z.string(),
  target: z.string(),
  environment: z.string(),
  profile: z.object({ name: z.string(), description: z.string(), stages: z.array(Stage), thinkSeconds: z.number() }),
  timeScale: z.number(),
  /** Where the load came from: this machine, or N workers of Artillery's distributed runners. */
  platform: z.object({ name: z.enum(['local', 'fargate', 'lambda']), count: z.number(), region: z.string().optional() }),
  auth: z.object({ mode: z.string(), description: z.string(), warning: z.string().optional() }),
  outcome: Outcome,
  /** Why, in one sentence. */
  reason: z.string(),
  exitCode: z.number(),
  gates: z.array(Gate),
  health: z.object({ start: HealthResult.nullable(), end: HealthResult.nullable() }),
  /** The preflight's /api request (it proves the API works, not just /health). */
  apiCheck: ApiCheck.nullable(),
  rateLimit: z.object({
    /** What the target's headers said before the load. */
    atStart: RateLimitState.nullable(),
    /** /api requests the run was expected to send. */
    predictedApiRequests: z.number(),
    /** 429 answers during the run. */
    limited: z.number(),
    /** 429s count in the error rate (--count-429). */
    countedAsErrors: z.boolean(),
    /** --spread-ips: each request claimed its own client address (loopback targets only). */
    spreadIps: z.boolean(),
    /** Printed before the load when the run would not fit in what was left. */
    warning: z.string().nullable(),
  }),
  /** Set when the breaker stopped the load early. */
  abort: z.object({ at: z.string(), reason: z.string() }).nullable(),
  /** How the run ended, and what the record could not see. */
  ending: z.object({
    /** The signal that stopped the run (SIGINT, SIGTERM, SIGHUP), or the one that killed Artillery. */
    signal: z.string().nullable(),
    /** Requests sent but not answered when the users were stopped. */
    inFlight: z.number(),
    /** Seconds of load at the end whose responses are unknown (Artillery was killed), else 0. */
    unknownSeconds: z.number(),
    /** Periods kept from the workers' own record because Artillery never reported them. */
    unreportedPeriods: z.number(),
  }),
  /** Where redirects pointed (they are not followed), first per endpoint. */
  redirects: z.array(z.object({ endpoint: z.string(), status: z.number(), location: z.string() })),
  totals: Totals,
  endpoints: z.array(EndpointSummary),
  periods: z.array(Period),
  diagnosis: z.array(z.string()),
  /** Only in capacity searches. */
  capacity: Capacity.optional(),
});
export type RunRecord = z.infer<typeof RunRecordSchema>;

/** A version-1 record as version 2: the fields added since, with what version 1 implied. */
function migrate(data: Record<string, any>): Record<string, any> {
  if (data.schema !== 'voxanne-run/1') return data;
  const addKind = (e: Record<string, number> | undefined) => e && { ...e, badBody: e.badBody ?? 0 };
  const period = (p: Record<string, any>) => ({
    ...p,
    errors: addKind(p.errors),
    endpoints: Object.fromEntries(Object.entries(p.endpoints ?? {}).map(([k, e]: [string, any]) => [k, { ...e, errors: addKind(e.errors) }])),
  });
  return {
    ...data,
    schema: RECORD_SCHEMA,
    ending: { signal: data.outcome === 'interrupted' ? 'SIGINT' : null, inFlight: 0, unknownSeconds: 0, unreportedPeriods: 0 },
    redirects: [],
    totals: { ...data.totals, errors: addKind(data.totals?.errors) },
    endpoints: (data.endpoints ?? []).map((e: Record<string, any>) => ({ ...e, errors: addKind(e.errors) })),
    periods: (data.periods ?? []).map(period),
  };
}

/** A run.json's data as a record of this version (older versions migrated), or an error naming what is wrong. */
export function parseRecord(data: unknown): RunRecord {
  const schema = (data as { schema?: unknown } | null)?.schema;
  if (schema !== RECORD_SCHEMA && !OLDER_SCHEMAS.includes(String(schema))) {
    throw new Error(`run.json is not a "${RECORD_SCHEMA}" record (schema ${JSON.stringify(schema ?? null)})`);
  }
  const parsed = RunRecordSchema.safeParse(migrate(data as Record<string, any>));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`run.json: ${issue.path.join('.') || 'top level'}: ${issue.message}`);
  }
  return parsed.data;
}

export const noErrors = (): ErrorKinds => ({ transport: 0, timeout: 0, http4xx: 0, rateLimited: 0, http5xx: 0, otherStatus: 0, notJson: 0, badBody: 0 });

/** Errors for the error rate: 429s only when they are counted as errors (--count-429). */
export const errorTotal = (e: ErrorKinds, count429 = false): number =>
  e.transport + e.timeout + e.http4xx + e.http5xx + e.otherStatus + e.notJson + e.badBody + (count429 ? e.rateLimited : 0);

export function addErrors(into: ErrorKinds, from: ErrorKinds): ErrorKinds {
  for (const key of Object.keys(into) as Array<keyof ErrorKinds>) into[key] += from[key];
  return into;
}

function addCodes(into: Record<string, number>, from: Record<string, number>): Record<string, number> {
  for (const [code, n] of Object.entries(from)) into[code] = (into[code] ?? 0) + n;
  return into;
}

export const decodeSketch = (b64: string): DDSketch => DDSketch.fromProto(Buffer.from(b64, 'base64'));
export const encodeSketch = (sketch: DDSketch): string => Buffer.from(sketch.toProto()).toString('base64');

/** Merges base64 sketches into one (undefined when none). Exact: sketches merge without loss. */
export function mergeSketches(sketches: Array<string | undefined>): DDSketch | undefined {
  let merged: DDSketch | undefined;
  for (const b64 of sketches) {
    if (!b64) continue;
    const sketch = decodeSketch(b64);
    if (merged) merged.merge(sketch);
    else merged = sketch;
  }
  return merged;
}

export function summarize(sketch: DDSketch | undefined): LatencySummary | null {
  if (!sketch || sketch.count === 0) return null;
  const q = (p: number) => round(sketch.getValueAtQuantile(p));
  return {
    count: sketch.count,
    min: round(sketch.min),
    mean: round(sketch.sum / sketch.count),
    p50: q(0.5),
    p95: q(0.95),
    p99: q(0.99),
    max: round(sketch.max),
  };
}

const round = (n: number) => Math.round(n * 10) / 10;

/** Sorts an endpoint's counters of one period into requests, codes and error kinds. */
function endpointPeriod(
  name: string,
  c: Record<string, number>,
  histograms: Record<string, string>,
  summaries: Record<string, LatencySummary> | undefined,
): EndpointPeriod {
  const codes: Record<string, number> = {};
  const codePrefix = artilleryMetric.endpointCodePrefix(name);
  const errors = noErrors();
  const unexpectedPrefix = counter.unexpected(name, 0).slice(0, -1);
  const transportPrefix = counter.transportOf(name, '');
  for (const [key, n] of Object.entries(c)) {
    if (key.startsWith(codePrefix)) codes[key.slice(codePrefix.length)] = n;
    else if (key.startsWith(unexpectedPrefix)) {
      const status = Number(key.slice(unexpectedPrefix.length));
      const kind: keyof ErrorKinds =
        status === 429 ? 'rateLimited' : status >= 500 ? 'http5xx' : status >= 400 ? 'http4xx' : 'otherStatus';
      errors[kind] += n;
    } else if (key.startsWith(transportPrefix)) errors.transport += n;
  }
  errors.timeout = c[counter.timeoutOf(name)] ?? 0;
  errors.notJson = c[counter.notJson(name)] ?? 0;
  errors.badBody = c[counter.badBody(name)] ?? 0;
  const responses = Object.values(codes).reduce((a, b) => a + b, 0);
  return {
    requests: responses + errors.timeout + errors.transport,
    codes,
    errors,
    latency: histograms[artilleryMetric.endpointResponseTime(name)],
    ...(summaries?.[artilleryMetric.endpointResponseTime(name)] && { latencySummary: pickSummary(summaries[artilleryMetric.endpointResponseTime(name)]) }),
  };
}

/** The fields of a LatencySummary from one of Artillery's summaries (which have more). */
export function pickSummary(s: LatencySummary): LatencySummary {
  return { count: s.count, min: s.min, mean: s.mean, p50: s.p50, p95: s.p95, p99: s.p99, max: s.max };
}

/** Endpoint names seen in a period's counters and histograms. */
function endpointNames(event: PeriodEvent): string[] {
  const names = new Set<string>();
  for (const key of [...Object.keys(event.histograms), ...Object.keys(event.summaries ?? {})]) {
    if (key.startsWith(artilleryMetric.endpointHistogramPrefix)) names.add(key.slice(artilleryMetric.endpointHistogramPrefix.length));
  }
  for (const key of Object.keys(event.counters)) {
    const m = /^voxanne\.(?:timeout|transport|unexpected|not_json|bad_body)\.([^.]+)/.exec(key);
    if (m) names.add(m[1]);
  }
  return [...names];
}

/**
 * Periods of the record from the plugin's period events. `plannedUsersAt(seconds since load start)`
 * gives the profile's users; loadStart is the first phase's start (epoch ms).
 */
export function buildPeriods(events: PeriodEvent[], loadStart: number, plannedUsersAt: (s: number) => number, periodMs: number): Period[] {
  let active = 0;
  return [...events]
    .sort((a, b) => a.period - b.period)
    .map((event) => {
      const c = event.counters;
      const endpoints = Object.fromEntries(endpointNames(event).map((n) => [n, endpointPeriod(n, c, event.histograms, event.summaries)]));
      const created = c['vusers.created'] ?? 0;
      const completed = c['vusers.completed'] ?? 0;
      const failed = c['vusers.failed'] ?? 0;
      active += userChange(c);
      const overall = Object.values(endpoints).reduce(
        (sum, e) => ({ requests: sum.requests + e.requests, codes: addCodes(sum.codes, e.codes), errors: addErrors(sum.errors, e.errors) }),
        { requests: 0, codes: {} as Record<string, number>, errors: noErrors() },
      );
      const periodEnd = Math.min(event.period + periodMs, event.last);
      return {
        start: event.period,
        ...overall,
        latency: event.histograms[artilleryMetric.responseTime],
        ...(event.summaries?.[artilleryMetric.responseTime] && { latencySummary: pickSummary(event.summaries[artilleryMetric.responseTime]) }),
        users: { created, completed, failed, active, planned: plannedUsersAt((periodEnd - loadStart) / 1000) },
        endpoints,
        ...(event.unreported && { unreported: true }),
      };
    });
}

/** Whole-run figures per endpoint, in the order given (the scenario's). */
export function summarizeEndpoints(
  periods: Period[],
  endpoints: Array<Pick<Endpoint, 'name' | 'path' | 'budgetP95Ms' | 'baseline' | 'fallback'>>,
  counters: Record<string, number>,
  count429: boolean,
  /** Artillery's whole-run summaries, for runs without sketches. */
  aggregate?: Record<string, LatencySummary>,
): EndpointSummary[] {
  return endpoints.map(({ name, path, budgetP95Ms, baseline, fallback }) => {
    const parts = periods.map((p) => p.endpoints[name]).filter((e): e is EndpointPeriod => Boolean(e));
    const errors = parts.reduce((sum, e) => addErrors(sum, e.errors), noErrors());
    return {
      name,
      path,
      requests: parts.reduce((sum, e) => sum + e.requests, 0),
      errors,
      errorCount: errorTotal(errors, count429),
      codes: parts.reduce((sum, e) => addCodes(sum, e.codes), {} as Record<string, number>),
      latency:
        summarize(mergeSketches(parts.map((e) => e.latency))) ??
        (aggregate?.[artilleryMetric.endpointResponseTime(name)] ? pickSummary(aggregate[artilleryMetric.endpointResponseTime(name)]) : null),
      budgetP95Ms,
      baseline,
      expectationFailures: counters[counter.expectationFailed(name)] ?? 0,
      fallbackAnswers: counters[counter.fallback(name)] ?? 0,
      ...(fallback && { fallback: { body: JSON.stringify(fallback.body), meaning: fallback.meaning, ...(fallback.slowness && { slowness: fallback.slowness }) } }),
    };
  });
}

/** Sums every counter over the periods. */
export function totalCounters(events: PeriodEvent[]): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const e of events) addCodes(totals, e.counters);
  return totals;
}

/** The run's error rate, or null when it sent no load (nothing to take a rate of: shown as "—", never "0.00 %"). */
export const errorRateOf = (t: Pick<RunRecord['totals'], 'requests' | 'errorRatePct'>): number | null => (t.requests ? t.errorRatePct : null);

/** Requests the error rate is taken over: 429s are left out unless they count as errors (--count-429). */
export function measuredRequests(requests: number, errors: Partial<ErrorKinds> | undefined, countedAsErrors: boolean): number {
  return requests - (countedAsErrors ? 0 : (errors?.rateLimited ?? 0));
}

/**
 * Whole-run figures from the periods. Without --count-429, rate-limited requests never reached the
 * backend's handlers: they are left out of the error rate (and have a gate of their own).
 */
export function computeTotals(
  periods: Period[],
  o: { count429: boolean; loadSeconds: number; durationSeconds: number; crashedUsers: number; fallbackLatency?: LatencySummary | null },
): RunRecord['totals'] {
  const errors = periods.reduce((sum, p) => addErrors(sum, p.errors), noErrors());
  const requests = periods.reduce((sum, p) => sum + p.requests, 0);
  const codes = periods.reduce((sum, p) => addCodes(sum, p.codes), {} as Record<string, number>);
  const errorCount = errorTotal(errors, o.count429);
  const measured = measuredRequests(requests, errors, o.count429);
  return {
    requests,
    errors,
    errorCount,
    errorRatePct: measured > 0 ? (errorCount / measured) * 100 : 0,
    durationSeconds: Math.round(o.durationSeconds),
    requestsPerSecond: requests / Math.max(1, o.loadSeconds),
    latency: summarize(mergeSketches(periods.map((p) => p.latency))) ?? o.fallbackLatency ?? null,
    maxUsers: Math.max(0, ...periods.map((p) => p.users.active)),
    crashedUsers: o.crashedUsers,
    codes,
  };
}
