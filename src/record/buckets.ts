// A worker's measurements as Artillery buckets them (processors/recorder.ts keeps them): counters and
// latency sketches of one span (a period, or a second in a capacity search), and how a bucket becomes
// the channel's period event.
import { DDSketch } from '@artilleryio/sketches-js';
import type { PeriodEvent } from '../channel/channel';
import { keepHistogram } from '../channel/recorder';
import { encodeSketch } from '../common/sketches';

export interface Bucket {
  period: number;
  first: number;
  last: number;
  counters: Record<string, number>;
  histograms: Record<string, DDSketch>;
  /** The bucket as last posted, while nothing changed since (only the open period changes: the others are not encoded again). */
  event?: PeriodEvent;
}

/** A sketch as Artillery keeps them (1 % relative accuracy). */
export const newSketch = (): DDSketch => new DDSketch({ relativeAccuracy: 0.01 });

/** Adds one bucket's counters and sketches into another (sketches merge exactly). */
export function addInto(into: Bucket, from: Bucket): Bucket {
  into.first = Math.min(into.first, from.first);
  into.last = Math.max(into.last, from.last);
  into.event = undefined;
  for (const [name, n] of Object.entries(from.counters)) into.counters[name] = (into.counters[name] ?? 0) + n;
  for (const [name, sketch] of Object.entries(from.histograms)) (into.histograms[name] ??= newSketch()).merge(sketch);
  return into;
}

/** The bucket as the channel carries it, encoded once until it changes. */
export const asEvent = (b: Bucket): PeriodEvent =>
  (b.event ??= {
    type: 'period',
    period: b.period,
    first: b.first,
    last: b.last,
    counters: { ...b.counters },
    histograms: Object.fromEntries(Object.entries(b.histograms).map(([n, s]) => [n, encodeSketch(s)])),
  });

// The hot path asks once per name.
const kept = new Map<string, boolean>();
export const keptHistogram = (name: string): boolean => kept.get(name) ?? kept.set(name, keepHistogram(name)).get(name)!;
