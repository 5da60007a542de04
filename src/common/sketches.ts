// Latency sketches (DDSketch, 1 % relative accuracy) as the workers, the plugin and the record keep
// them: protobuf in base64, merged without loss, summarized into the percentiles the pack reports.
import { DDSketch } from '@artilleryio/sketches-js';
import { z } from 'zod';
import { round1 as round } from './round';

/** Percentiles of one window, as the record and Artillery's own summaries give them. */
export const LatencySummary = z.object({
  count: z.number(),
  min: z.number(),
  mean: z.number(),
  p50: z.number(),
  p95: z.number(),
  p99: z.number(),
  max: z.number(),
});
export type LatencySummary = z.infer<typeof LatencySummary>;

const decodeSketch = (b64: string): DDSketch => DDSketch.fromProto(Buffer.from(b64, 'base64'));
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
