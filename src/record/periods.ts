// The record's periods and totals from the period events of the channel: counters sorted into
// requests, codes and error kinds per endpoint, sketches merged per window.
import type { PeriodEvent } from '../channel/channel';
import type { Endpoint } from '../catalog/contract';
import { artilleryMetric, counter, userChange } from '../common/metrics';
import { mergeSketches, summarize, type LatencySummary } from '../common/sketches';
import { addErrors, errorTotal, noErrors, type EndpointPeriod, type EndpointSummary, type ErrorKinds, type Period, type RunRecord } from './record';

function addCodes(into: Record<string, number>, from: Record<string, number>): Record<string, number> {
  for (const [code, n] of Object.entries(from)) into[code] = (into[code] ?? 0) + n;
  return into;
}

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
      const kind: keyof ErrorKinds = status === 429 ? 'rateLimited' : status >= 500 ? 'http5xx' : status >= 400 ? 'http4xx' : 'otherStatus';
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
 * gives the profile's users; loadStart is the first phase's start (epoch ms). `sendingWithin(from, to)`,
 * when given, is the users who sent in the period (a capacity search's steps: its waiting pool,
 * which Artillery counts as active users, never sends all at once).
 */
export function buildPeriods(
  events: PeriodEvent[],
  loadStart: number,
  plannedUsersAt: (s: number) => number,
  periodMs: number,
  sendingWithin?: (from: number, to: number) => number,
): Period[] {
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
        { requests: 0, codes: {}, errors: noErrors() },
      );
      const periodEnd = Math.min(event.period + periodMs, event.last);
      return {
        start: event.period,
        ...overall,
        latency: event.histograms[artilleryMetric.responseTime],
        ...(event.summaries?.[artilleryMetric.responseTime] && { latencySummary: pickSummary(event.summaries[artilleryMetric.responseTime]) }),
        users: {
          created,
          completed,
          failed,
          active: sendingWithin ? sendingWithin(event.period, periodEnd) : active,
          planned: plannedUsersAt((periodEnd - loadStart) / 1000),
        },
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
      ...(fallback && {
        fallback: { body: JSON.stringify(fallback.body), meaning: fallback.meaning, ...(fallback.slowness && { slowness: fallback.slowness }) },
      }),
    };
  });
}

/** Sums every counter over the periods. */
export function totalCounters(events: PeriodEvent[]): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const e of events) addCodes(totals, e.counters);
  return totals;
}

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
