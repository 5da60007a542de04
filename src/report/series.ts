// The record's 10 s periods as chart points: adjacent periods merge into at most `maxPoints`
// buckets (counters summed, latency sketches merged, so a bucket's percentiles are exact within the
// sketch's 1 %), for the whole run and for each endpoint.
import { DDSketch } from '@artilleryio/sketches-js';
import { noErrors, type EndpointPeriod, type ErrorKinds, type LatencySummary, type RunRecord } from '../record';

export const MAX_POINTS = 500;
const DEFAULT_PERIOD_MS = 10_000;

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

const round1 = (n: number) => Math.round(n * 10) / 10;

function emptySet(key: string, label: string, n: number): SeriesSet {
  const zeros = () => new Array<number>(n).fill(0);
  const nulls = () => new Array<number | null>(n).fill(null);
  const errors = Object.fromEntries(Object.keys(noErrors()).map((k) => [k, zeros()])) as unknown as SeriesSet['errors'];
  return { key, label, requests: zeros(), rps: zeros(), p50: nulls(), p95: nulls(), p99: nulls(), errors, approximate: 0 };
}

// The sketches' protobuf decoder and key mapping, from the same library (resolved once: the
// library's own DDSketch.fromProto re-requires its decoder on every call and rebuilds a store bin
// by bin, which made a day-long record take several seconds).
// eslint-disable-next-line @typescript-eslint/no-var-requires
const Proto = require('@artilleryio/sketches-js/dist/ddsketch/proto/compiled').DDSketch as {
  decode(buf: Uint8Array): ProtoSketch;
};
// eslint-disable-next-line @typescript-eslint/no-var-requires
const { KeyMapping } = require('@artilleryio/sketches-js/dist/ddsketch/mapping') as {
  KeyMapping: { fromProto(m: ProtoSketch['mapping']): DDSketch['mapping'] };
};

interface ProtoStore {
  binCounts?: Record<string, number>;
  contiguousBinCounts?: number[];
  contiguousBinIndexOffset?: number;
}
interface ProtoSketch {
  mapping: { gamma: number; indexOffset: number; interpolation: number };
  positiveValues?: ProtoStore;
  negativeValues?: ProtoStore;
  zeroCount?: number;
  min?: number;
  max?: number;
  sum?: number;
}

/**
 * Sketches of one bucket, merged bin by bin as they come; flushed into one DDSketch of the
 * library, so quantiles are the library's own (exactly what merging the sketches would give).
 */
export class SketchAcc {
  private bins = new Map<number, number>();
  private mapping: ProtoSketch['mapping'] | undefined;
  private zero = 0;
  private min = Infinity;
  private max = -Infinity;
  private sum = 0;
  /** Worst percentiles of the periods that came with a summary instead of a sketch. */
  private worst: { p50: number; p95: number; p99: number } | undefined;

  addSummary(l: LatencySummary | undefined): void {
    if (!l || !l.count) return;
    const w = this.worst ?? { p50: 0, p95: 0, p99: 0 };
    this.worst = { p50: Math.max(w.p50, l.p50), p95: Math.max(w.p95, l.p95), p99: Math.max(w.p99, l.p99) };
  }

  add(b64: string | undefined): void {
    if (!b64) return;
    const d = Proto.decode(Buffer.from(b64, 'base64'));
    if (this.mapping && d.mapping?.gamma !== this.mapping.gamma) {
      throw new Error('latency sketches of different accuracies cannot be merged'); // as DDSketch.merge
    }
    this.mapping ??= d.mapping;
    const store = d.positiveValues;
    const counts = store?.contiguousBinCounts ?? [];
    const offset = store?.contiguousBinIndexOffset ?? 0;
    for (let k = 0; k < counts.length; k++) {
      const n = counts[k];
      if (n) this.bins.set(offset + k, (this.bins.get(offset + k) ?? 0) + n);
    }
    for (const [key, n] of Object.entries(store?.binCounts ?? {})) {
      if (n) this.bins.set(Number(key), (this.bins.get(Number(key)) ?? 0) + n);
    }
    this.zero += d.zeroCount ?? 0;
    if (d.min !== undefined && d.min < this.min) this.min = d.min;
    if (d.max !== undefined && d.max > this.max) this.max = d.max;
    this.sum += d.sum ?? 0;
  }

  private reset(): void {
    this.bins = new Map();
    this.mapping = undefined;
    this.zero = 0;
    this.min = Infinity;
    this.max = -Infinity;
    this.sum = 0;
  }

  /** The merged sketch (undefined when empty). */
  toSketch(): DDSketch | undefined {
    if (!this.mapping) return undefined;
    const sketch = new DDSketch();
    sketch.mapping = KeyMapping.fromProto(this.mapping);
    for (const key of [...this.bins.keys()].sort((a, b) => a - b)) sketch.store.add(key, this.bins.get(key) as number);
    sketch.zeroCount = this.zero;
    sketch.count = sketch.store.count + this.zero;
    sketch.min = this.min;
    sketch.max = this.max;
    sketch.sum = this.sum;
    return sketch;
  }

  flush(into: SeriesSet, i: number): void {
    const s = this.toSketch();
    const worst = this.worst;
    this.reset();
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
  let periodMs = DEFAULT_PERIOD_MS;
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
  for (const set of [all, ...endpoints]) {
    for (let i = 0; i < n; i++) set.rps[i] = Math.round((set.requests[i] / Math.max(1e-9, to[i] - from[i])) * 100) / 100;
  }
  return { t0, periodMs, width, from, to, span, usersActive, usersPlanned, all, endpoints };
}
