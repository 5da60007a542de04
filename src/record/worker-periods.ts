// What the workers measured that Artillery has not reported yet, as the plugin keeps it in the main
// thread: each worker's latest report (src/channel/recorder.ts), the periods Artillery delivered, and
// the redirects already written. One state object, changed only by the functions below.
import type { DDSketch } from '@artilleryio/sketches-js';
import type { PeriodEvent } from '../channel/channel';
import { keepHistogram, type RedirectNote, type WorkerReport } from '../channel/recorder';
import { encodeSketch, mergeSketches } from '../common/sketches';
import { counter } from '../common/metrics';

export interface WorkerPeriods {
  /** Periods Artillery reported itself (its `stats` event): never written again. */
  delivered: Set<number>;
  /** Each worker's latest report, by thread id. */
  workers: Map<number, WorkerReport>;
  /** Endpoints whose redirect was written already. */
  redirects: Set<string>;
}

export const workerPeriods = (): WorkerPeriods => ({ delivered: new Set(), workers: new Map(), redirects: new Set() });

/** A worker's report replaces its previous one (each report holds all its recent periods). */
export function noteReport(s: WorkerPeriods, report: WorkerReport): void {
  s.workers.set(report.worker, report);
}

/** True for the first redirect of an endpoint (the one to write). */
export function firstRedirect(s: WorkerPeriods, note: RedirectNote): boolean {
  if (s.redirects.has(note.redirect.endpoint)) return false;
  s.redirects.add(note.redirect.endpoint);
  return true;
}

/** One period from the same period of several workers: counters add up, sketches merge exactly. */
export function mergePeriods(parts: PeriodEvent[]): PeriodEvent {
  const counters: Record<string, number> = {};
  for (const p of parts) for (const [name, n] of Object.entries(p.counters)) counters[name] = (counters[name] ?? 0) + n;
  const names = new Set(parts.flatMap((p) => Object.keys(p.histograms)));
  const sketches = Object.fromEntries([...names].map((name) => [name, mergeSketches(parts.map((p) => p.histograms[name]))!]));
  return {
    type: 'period',
    period: parts[0].period,
    first: Math.min(...parts.map((p) => p.first)),
    last: Math.max(...parts.map((p) => p.last)),
    counters,
    histograms: Object.fromEntries(Object.entries(sketches).map(([n, s]) => [n, encodeSketch(s)])),
    unreported: true,
  };
}

/** The periods the workers measured that Artillery has not delivered, merged across workers, in order. */
export function unreported(s: WorkerPeriods): PeriodEvent[] {
  const byPeriod = new Map<number, PeriodEvent[]>();
  for (const w of s.workers.values()) {
    for (const p of w.periods) if (!s.delivered.has(p.period)) byPeriod.set(p.period, [...(byPeriod.get(p.period) ?? []), p]);
  }
  return [...byPeriod.values()].map(mergePeriods).sort((a, b) => a.period - b.period);
}

/** Requests sent and not answered yet, over all workers (as each last reported). */
export const inFlight = (s: WorkerPeriods): number => [...s.workers.values()].reduce((n, w) => n + w.inFlight, 0);

/** A period as Artillery reports it to plugins (its `stats` event). */
export interface PeriodStats {
  period: number | string;
  firstMetricAt: number;
  lastMetricAt: number;
  counters?: Record<string, number>;
  histograms?: Record<string, DDSketch>;
}

/** The period Artillery delivered, as the channel carries it (the kept histograms, encoded); marks it delivered. */
export function delivered(s: WorkerPeriods, stats: PeriodStats): PeriodEvent {
  const period = Number(stats.period);
  const histograms: Record<string, string> = {};
  for (const [name, sketch] of Object.entries(stats.histograms ?? {})) if (keepHistogram(name)) histograms[name] = encodeSketch(sketch);
  s.delivered.add(period);
  return { type: 'period', period, first: stats.firstMetricAt, last: stats.lastMetricAt, counters: stats.counters ?? {}, histograms };
}

/** The longest wait for the requests in flight at the end: the request timeout (s) and a margin, at most `limitMs`. */
export const drainLimitMs = (timeoutSeconds: number | undefined, limitMs: number, marginMs: number): number =>
  Math.min(limitMs, (timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000 + marginMs);

/** Artillery's own default request timeout, in seconds (config.http.timeout). */
export const DEFAULT_TIMEOUT_SECONDS = 10;

/** ensure's verdicts by gate id: ensure names each check by its expression, the configuration says which gate that is. */
export function verdictsByGate(gates: Array<{ id: string; expression: string }>, checks: Array<{ original: string; result: number }>): Record<string, boolean> {
  const gateOf = new Map(gates.map((g) => [g.expression, g.id]));
  const out: Record<string, boolean> = {};
  for (const c of checks) {
    const id = gateOf.get(c.original);
    if (id) out[id] = c.result === 1;
  }
  return out;
}

/** The console's line for a period Artillery delivered: its time (UTC), the users so far, requests, errors and p95. */
export function periodLine(period: number, users: number, counters: Record<string, number>, p95: number | undefined): string {
  const line = `${new Date(period).toISOString().slice(11, 19)}  users ${users}  requests ${counters[counter.requests] ?? 0}  errors ${counters[counter.errors] ?? 0}`;
  return p95 === undefined ? line : `${line}  p95 ${Math.round(p95)} ms`;
}
