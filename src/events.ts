import type { LatencySummary } from './record';
// Lines of <run dir>/events.ndjson, written by plugins/artillery-plugin-voxanne during a run.
export interface PhaseEvent {
  type: 'phase';
  index: number;
  name: string;
  at: number;
}

export interface PeriodEvent {
  type: 'period';
  /** Start of the 10 s period, epoch ms. */
  period: number;
  first: number;
  last: number;
  counters: Record<string, number>;
  /** DDSketch protobuf, base64, per kept histogram name. */
  histograms: Record<string, string>;
  /** Artillery's own summaries, when no sketches were kept (a combined output from Fargate/Lambda). */
  summaries?: Record<string, LatencySummary>;
}

export interface ChecksEvent {
  type: 'checks';
  checks: Array<{ expression: string; passed: boolean; strict: boolean }>;
}

/** The breaker stopped the load early. */
export interface AbortEvent {
  type: 'abort';
  at: number;
  reason: string;
}

export type RunEvent = PhaseEvent | PeriodEvent | ChecksEvent | AbortEvent;
