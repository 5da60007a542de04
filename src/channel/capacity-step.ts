// The capacity search's shapes, defined once: the channel carries steps in them, the record keeps
// them, and the search's functions take and return them (types derived from the schemas).
import { z } from 'zod';

export const StepGate = z.enum(['p99', 'error-rate', 'timeouts', 'rate-limited']);
export type StepGate = z.infer<typeof StepGate>;

export const SearchPhase = z.enum(['grow', 'predict', 'narrow', 'down', 'again']);
export type SearchPhase = z.infer<typeof SearchPhase>;

export const Prediction = z.object({ users: z.number(), gate: StepGate });
export type Prediction = z.infer<typeof Prediction>;

export const EndpointStep = z.object({
  name: z.string(),
  requests: z.number(),
  errors: z.number(),
  timeouts: z.number(),
  p95: z.number().nullable(),
  p99: z.number().nullable(),
});
export type EndpointStep = z.infer<typeof EndpointStep>;

/** One step of a capacity search, as the plugin judged it live (judgeStep). */
export const CapacityStep = z.object({
  users: z.number(),
  /** Why the search chose this step, and what it predicted when it did. */
  phase: SearchPhase,
  predicted: Prediction.nullable(),
  /** When the search set this step's users (epoch ms), the measured window, and the whole seconds judged. */
  since: z.number(),
  from: z.number(),
  to: z.number(),
  seconds: z.number(),
  requests: z.number(),
  requestsPerSecond: z.number(),
  latency: z.object({ p50: z.number(), p95: z.number(), p99: z.number() }).nullable(),
  errorRatePct: z.number(),
  timeouts: z.number(),
  rateLimitedPct: z.number(),
  /** The load generator: its busiest worker's CPU (% of one core) and event-loop delay (ms), median second. */
  cpuPct: z.number().nullable(),
  loopDelayMs: z.number().nullable(),
  broken: z.array(z.object({ gate: StepGate, value: z.number(), limit: z.number() })),
  generatorLimited: z.boolean(),
  verdict: z.enum(['held', 'broken', 'generator-limit']),
  endpoints: z.array(EndpointStep),
});
export type CapacityStep = z.infer<typeof CapacityStep>;

/** What the search does next: a step of `users`, why, and what it predicted. */
export const Decision = z.object({ users: z.number(), phase: SearchPhase, predicted: Prediction.nullable() });
export type Decision = z.infer<typeof Decision>;

export const CapacityResult = z.enum(['knee', 'generator-limit', 'top-held', 'below-first-step', 'incomplete']);
export type CapacityResult = z.infer<typeof CapacityResult>;

/** The search's answer, from the steps it judged. */
export const CapacityAnswer = z.object({
  result: CapacityResult,
  /** Every step, in the order the search ran them. */
  steps: z.array(CapacityStep),
  /** Index in `steps` of the highest step held, and of the step that ended the search (the fewest users that broke a gate, or where the generator saturated). */
  held: z.number().nullable(),
  stoppedAt: z.number().nullable(),
  /** The highest throughput, and the fewest users that reached it. */
  knee: z.object({ users: z.number(), requestsPerSecond: z.number() }).nullable(),
  /** The search's last prediction of the breaking point (from every step before it). */
  predicted: Prediction.nullable(),
  /**
   * The users held and broken as the guide's users, who pause between journeys (Little's law, an
   * estimate), both at the same throughput (`atRps`), so held is never above broke.
   */
  guideUsers: z.object({ held: z.number().nullable(), broke: z.number().nullable(), thinkSeconds: z.number(), atRps: z.number().optional() }).nullable(),
  /** Which endpoint degraded first, on the way to the broken step. */
  degradedFirst: z.string().nullable(),
  /** With a saturated generator: the backend holds at least this many requests/s. */
  atLeastRps: z.number().nullable(),
  /** The most users any step let send: the most the backend saw. */
  largestStep: z.number(),
  line: z.string(),
});
export type CapacityAnswer = z.infer<typeof CapacityAnswer>;

/** A step as records and channels hold it: older records lack the search's reasons and window, and judged whole 10 s periods. */
export const RecordedStep = CapacityStep.partial({ phase: true, predicted: true, since: true, from: true, to: true, seconds: true }).extend({
  periods: z.number().optional(),
});
export type RecordedStep = z.infer<typeof RecordedStep>;
