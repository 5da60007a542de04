// The record's periods (of its periodSeconds) as chart points: adjacent periods merge into at most `maxPoints`
// buckets (counters summed, latency sketches merged, so a bucket's percentiles are exact within the
// sketch's 1 %), for the whole run and for each endpoint.
import { SketchMerger } from './sketch-merge';
import { noErrors, type EndpointPeriod, type ErrorKinds, type RunRecord } from '../../record/record';
import { type LatencySummary } from '../../common/sketches';
import { planVisits, plannedUsersAt } from '../../plan/users';
import { round1 } from '../../common/round';

export const MAX_POINTS = 500;

export interface SeriesSet {
  /** 'all' or an endpoint name. */
  key: string;
  label: string;
  requests: number[];
  /** Requests per second over the bucket. */
  rps: number[];
  p50: Array<number | null>;
  p95: Array<number | null>;
  p99: Array<number | null>;
  errors: Record<keyof ErrorKinds, number[]>;
  /**
   * Points whose latency came from Artillery's per-period summaries (distributed runs keep no
   * sketch): summaries cannot be merged, so such a point shows the worst period's percentiles.
   */
  approximate: number;
}

export interface Series {
  /** Epoch ms of the first period's start; x values are seconds since then. */
  t0: number;
  periodMs: number;
  /** Periods per bucket. */
  width: number;
  /** Bucket starts and ends, seconds since t0. */
  from: number[];
  to: number[];
  /** Seconds from t0 to the end of the last period. */
  span: number;
  usersActive: Array<number | null>;
  usersPlanned: Array<number | null>;
  all: SeriesSet;
  endpoints: SeriesSet[];
}

function emptySet(key: string, label: string, n: number): SeriesSet {
  const zeros = () => new Array<number>(n).fill(0);
  const nulls = () => new Array<number | null>(n).fill(null);
  const errors = Object.fromEntries(Object.keys(noErrors()).map((k) => [k, zeros()])) as unknown as SeriesSet['errors'];
  return { key, label, requests: zeros(), rps: zeros(), p50: nulls(), p95: nulls(), p99: nulls(), errors, approximate: 0 };
}

/**
 * Sketches of one bucket, merged as they come (see sketch-merge.ts), so a bucket's quantiles are
 * exactly what merging the periods' sketches gives.
 */
class SketchAcc {
  private merger = new SketchMerger();
  /** Worst percentiles of the periods that came with a summary instead of a sketch. */
  private worst: { p50: number; p95: number; p99: number } | undefined;

  addSummary(l: LatencySummary | undefined): void {
    if (!l || !l.count) return;
    const w = this.worst ?? { p50: 0, p95: 0, p99: 0 };
    this.worst = { p50: Math.max(w.p50, l.p50), p95: Math.max(w.p95, l.p95), p99: Math.max(w.p99, l.p99) };
  }

  add(b64: string | undefined): void {
    if (!b64) return;
    this.merger.add(b64);
  }

  flush(into: SeriesSet, i: number): void {
    const s = this.merger.toSketch();
    const worst = this.worst;
    this.merger = new SketchMerger();
    this.worst = undefined;
    if (s && s.count > 0) {
      into.p50[i] = round1(s.getValueAtQuantile(0.5));
      into.p95[i] = round1(s.getValueAtQuantile(0.95));
      into.p99[i] = round1(s.getValueAtQuantile(0.99));
    }
    if (worst) {
      into.approximate++;
      into.p50[i] = Math.max(into.p50[i] ?? 0, worst.p50);
      into.p95[i] = Math.max(into.p95[i] ?? 0, worst.p95);
      into.p99[i] = Math.max(into.p99[i] ?? 0, worst.p99);
    }
  }
}

function addPart(set: SeriesSet, i: number, part: EndpointPeriod): void {
  set.requests[i] += part.requests;
  for (const k of Object.keys(set.errors) as Array<keyof ErrorKinds>) set.errors[k][i] += part.errors?.[k] ?? 0;
}

export function buildSeries(record: RunRecord, maxPoints = MAX_POINTS): Series {
  const periods = [...record.periods].sort((a, b) => a.start - b.start);
  let periodMs = record.periodSeconds * 1000;
  for (let i = 1; i < periods.length; i++) {
    const d = periods[i].start - periods[i - 1].start;
    if (d > 0 && d < periodMs) periodMs = d;
  }
  const t0 = periods[0]?.start ?? Date.parse(record.startedAt);
  const slots = periods.length ? Math.round((periods[periods.length - 1].start - t0) / periodMs) + 1 : 0;
  const width = Math.max(1, Math.ceil(slots / maxPoints));
  const n = Math.ceil(slots / width);
  const span = (slots * periodMs) / 1000;
  const from = Array.from({ length: n }, (_, i) => (i * width * periodMs) / 1000);
  const to = from.map((f) => Math.min(span, f + (width * periodMs) / 1000));

  const all = emptySet('all', 'All endpoints', n);
  const endpoints = record.endpoints.map((e) => emptySet(e.name, e.path, n));
  const byName = new Map(endpoints.map((s) => [s.key, s]));
  const usersActive = new Array<number | null>(n).fill(null);
  const usersPlanned = new Array<number | null>(n).fill(null);
  const accAll = new SketchAcc();
  const accs = new Map(endpoints.map((s) => [s.key, new SketchAcc()]));

  let current = -1;
  const flush = () => {
    if (current < 0) return;
    accAll.flush(all, current);
    for (const s of endpoints) accs.get(s.key)?.flush(s, current);
  };
  for (const p of periods) {
    const i = Math.min(n - 1, Math.floor(Math.round((p.start - t0) / periodMs) / width));
    if (i !== current) {
      flush();
      current = i;
    }
    addPart(all, i, p);
    if (p.latency) accAll.add(p.latency);
    else accAll.addSummary(p.latencySummary);
    for (const [name, part] of Object.entries(p.endpoints ?? {})) {
      const set = byName.get(name);
      if (!set) continue;
      addPart(set, i, part);
      if (part.latency) accs.get(name)?.add(part.latency);
      else accs.get(name)?.addSummary(part.latencySummary);
    }
    // Users: the peak at a period's end within the bucket.
    usersActive[i] = Math.max(usersActive[i] ?? 0, p.users?.active ?? 0);
    usersPlanned[i] = Math.max(usersPlanned[i] ?? 0, p.users?.planned ?? 0);
  }
  flush();
  // Planned users: the profile's peak within each point, not only at period ends (in a short run,
  // users may come and go between two ends). A capacity search plans by its steps: the ends give it.
  if (!record.capacity && record.loadStartedAt) {
    const visits = planVisits(record.profile.stages);
    const offset = (t0 - Date.parse(record.loadStartedAt)) / 1000;
    for (let i = 0; i < n; i++) {
      if (usersPlanned[i] === null) continue;
      const step = Math.max(0.5, (to[i] - from[i]) / 20);
      for (let t = from[i]; t <= to[i]; t += step) usersPlanned[i] = Math.max(usersPlanned[i]!, plannedUsersAt(visits, offset + t));
    }
  }
  for (const set of [all, ...endpoints]) {
    for (let i = 0; i < n; i++) set.rps[i] = Math.round((set.requests[i] / Math.max(1e-9, to[i] - from[i])) * 100) / 100;
  }
  return { t0, periodMs, width, from, to, span, usersActive, usersPlanned, all, endpoints };
}
