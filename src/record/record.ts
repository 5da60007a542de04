// The run record (run.json): everything a run found, in one file that the summary, the HTML report,
// JUnit and the history are all built from. Its format is this file's schema ("voxanne-run/2"), and
// records are read back through it (older versions migrated).
import { z } from 'zod';
import { CapacityAnswer, RecordedStep } from '../channel/capacity-step';
import { CapacitySearch, Stage } from '../catalog/config';
import { CapacityLimits } from '../plan/capacity';
import { ApiCheck, HealthResult } from '../checks/health';
import { RateLimitState } from '../checks/ratelimit';
import { LatencySummary } from '../common/sketches';

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

/** A capacity search's answer (--profile capacity), as the record keeps it (older records lack some fields). */
const Capacity = CapacityAnswer.extend({
  knee: CapacityAnswer.shape.knee.optional(),
  predicted: z.object({ users: z.number(), gate: z.string() }).nullable().optional(),
  guideUsers: CapacityAnswer.shape.guideUsers.optional(),
  largestStep: z.number().optional(),
  steps: z.array(RecordedStep),
  /** The users Artillery brought in to wait until a step let them send (never all sending). */
  waitingPool: z.number().optional(),
  /** Older records: users of every planned step. */
  plannedUsers: z.array(z.number()).optional(),
  /** How the search searched (newer records), and the limits each step was judged by. */
  search: CapacitySearch.optional(),
  limits: CapacityLimits,
});

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
  /** Artillery's reporting period (config/contract.yml's periodSeconds); records before it was kept: 10 s. */
  periodSeconds: z.number().positive().default(10),
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
  /** A distributed run: the workers whose own breaker stopped their load, why, and in which period. */
  workerStops: z.array(z.object({ worker: z.string(), cause: z.enum(['error-rate', 'health']), at: z.string() })).optional(),
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

/** The run's error rate, or null when it sent no load (nothing to take a rate of: shown as "—", never "0.00 %"). */
export const errorRateOf = (t: Pick<RunRecord['totals'], 'requests' | 'errorRatePct'>): number | null => (t.requests ? t.errorRatePct : null);
