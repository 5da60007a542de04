// The workers' flight recorder and Artillery's main thread talk over one BroadcastChannel
// (processors/recorder.ts in every worker, the plugin in the main thread). Like the rest of the
// channel, each side checks what it receives with the schemas below. Every thread on the channel
// hears every other (the workers each other's reports too): a message that is not for it is ignored.
import { z } from 'zod';
import { PeriodEvent } from './channel';
import { artilleryMetric, generatorMetric } from '../common/metrics';

export const RECORDER_CHANNEL = 'voxanne-recorder';

/**
 * A worker's report: its recent periods, and requests sent but not answered yet. In a capacity
 * search also the seconds that closed since its last report (each sent once: every second before
 * `at`'s is then complete) and how many users have arrived in this worker.
 */
export const WorkerReport = z.object({
  worker: z.number(),
  at: z.number(),
  inFlight: z.number(),
  periods: z.array(PeriodEvent),
  seconds: z.array(PeriodEvent).optional(),
  arrived: z.number().optional(),
});
export type WorkerReport = z.infer<typeof WorkerReport>;

/** A request answered with a redirect (the first per endpoint and worker): where it pointed. */
export const RedirectNote = z.object({ redirect: z.object({ endpoint: z.string(), status: z.number(), location: z.string() }) });
export type RedirectNote = z.infer<typeof RedirectNote>;

/** What a worker posts to the main thread. */
export const WorkerMessage = z.union([RedirectNote, WorkerReport]);
export type WorkerMessage = z.infer<typeof WorkerMessage>;

/**
 * The main thread asks for a report now, and tells the users to stop when the run is ending early;
 * or, in a capacity search, only sets how many users may send (no report then).
 */
export const RecorderRequest = z.object({
  stop: z.boolean(),
  users: z.number().optional(),
  /** A distributed worker's breaker stopped the load: each thread counts it under this name, once. */
  breakerCounter: z.string().optional(),
});
export type RecorderRequest = z.infer<typeof RecorderRequest>;

/** The histograms the recorder keeps and the channel carries: overall and per-endpoint latency, the generator's own. */
export const keepHistogram = (name: string): boolean =>
  name === artilleryMetric.responseTime || name.startsWith(artilleryMetric.endpointHistogramPrefix) || name.startsWith(generatorMetric.prefix);
