// The contract between the pack and its Artillery run, in both directions:
//  - down: one configuration value (`config.variables.voxanne` of the script), read by the processor
//    in every worker and by the plugin and hooks in Artillery's main thread; it holds no path, so a
//    run folder's script.yml runs again with plain `npx artillery run`;
//  - up: one event channel, <run dir>/events.ndjson, appended to by Artillery's main thread, plus
//    tail.json, the snapshot of what the workers measured that Artillery has not reported yet
//    (rewritten every second, so a killed Artillery loses at most the last couple of seconds).
// Both sides check what they read with the schemas below.
import { appendFileSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { Contract } from '../catalog/contract';
import { CapacitySearch, Stage } from '../catalog/config';
import { CapacityLimits } from '../plan/capacity';
import { AuthMode } from '../plan/auth';
import { ApiCheck, HealthResult } from '../checks/health';
import { RecordedStep } from './capacity-step';
import { LatencySummary } from '../common/sketches';
import { EVENTS_FILE, TAIL_FILE } from '../common/run-files';

export const RunConfig = z.object({
  stages: z.array(Stage).min(1),
  /** Pause between two journeys of one user. */
  thinkMs: z.number().nonnegative(),
  count429: z.boolean(),
  spreadIps: z.boolean(),
  auth: z.object({
    mode: AuthMode,
    devOrgId: z.string(),
    devEmail: z.string(),
  }),
  rateLimit: z.object({
    /** /api requests this run is expected to send. */
    apiEstimate: z.number().nonnegative(),
    /** The same for every profile at time scale 1, for advice on what would fit. */
    profiles: z.array(z.object({ name: z.string(), api: z.number() })),
    timeScale: z.number().positive(),
    /** Go ahead even when what is left of the rate limit cannot cover the run (--yes). */
    confirmed: z.boolean(),
    /** A shared production backend: any overrun needs the confirmation, not only a large one. */
    refuseAnyOverrun: z.boolean(),
    /** The target is on this machine, so --spread-ips is a way out. */
    loopback: z.boolean(),
  }),
  /** The gates ensure enforces, so its verdicts can be reported by gate id. */
  gates: z.array(z.object({ id: z.string(), expression: z.string(), strict: z.boolean() })),
  breaker: z.object({ errorRatePct: z.number(), windowSeconds: z.number(), healthEverySeconds: z.number() }).nullable(),
  healthTimeoutMs: z.number().positive(),
  /** The backend's contract catalog: the requests' expectations, fallbacks and the period length. */
  contract: Contract,
  /**
   * Plain Artillery with phases of the user's own (not the profile's): each user makes one journey,
   * as Artillery's users do, and the run ends with its last phase.
   */
  oneJourneyEach: z.boolean().optional(),
  /** A capacity search: how it searches, and the limits each step is judged by. */
  capacity: z.object({ search: CapacitySearch, limits: CapacityLimits }).optional(),
});
export type RunConfig = z.infer<typeof RunConfig>;

/** The configuration value of a script's variables, checked; throws with the first problem. */
export function readRunConfig(vars: Record<string, unknown> | undefined): RunConfig {
  const parsed = RunConfig.safeParse(vars?.voxanne);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`config.variables.voxanne: ${issue.path.join('.') || 'missing'}: ${issue.message}`);
  }
  return parsed.data;
}

export const PeriodEvent = z.object({
  type: z.literal('period'),
  /** Start of the period (config/contract.yml's periodSeconds), epoch ms. */
  period: z.number(),
  first: z.number(),
  last: z.number(),
  counters: z.record(z.string(), z.number()),
  /** DDSketch protobuf, base64, per kept histogram name. */
  histograms: z.record(z.string(), z.string()),
  /** Artillery's own summaries, when no sketches were kept (a combined output from Fargate/Lambda). */
  summaries: z.record(z.string(), LatencySummary.passthrough()).optional(),
  /** Measured by the workers but never reported by Artillery (the run ended first). */
  unreported: z.boolean().optional(),
});
export type PeriodEvent = z.infer<typeof PeriodEvent>;

const PreflightVerdict = z.enum(['go', 'unhealthy', 'api-failing', 'auth-rejected', 'headers-rejected', 'over-limit']);

export const RunEvent = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('preflight'),
    verdict: PreflightVerdict,
    health: HealthResult,
    api: ApiCheck.optional(),
    /** Why the run was stopped before the load, or the rate-limit advice, in one line. */
    message: z.string().optional(),
    rateLimitWarning: z.string().optional(),
  }),
  z.object({ type: z.literal('phase'), index: z.number(), name: z.string(), at: z.number() }),
  PeriodEvent,
  /** ensure's verdicts, by gate id. */
  z.object({ type: z.literal('verdicts'), gates: z.record(z.string(), z.boolean()) }),
  z.object({ type: z.literal('health-end'), result: HealthResult }),
  /** The breaker stopped the load early. */
  z.object({ type: z.literal('abort'), at: z.number(), reason: z.string() }),
  /** The capacity search judged a step (in the order it ran them). */
  z.object({ type: z.literal('capacity-step'), at: z.number(), step: RecordedStep }),
  /** The capacity search has its answer (or reached its time bound) and stopped the load. */
  z.object({ type: z.literal('capacity-stop'), at: z.number(), reason: z.string(), timeUp: z.boolean() }),
  /** A request answered with a redirect, which the pack does not follow (first one per endpoint). */
  z.object({ type: z.literal('redirect'), endpoint: z.string(), status: z.number(), location: z.string() }),
  /**
   * Artillery's main thread is ending: `exitCode` is what it will exit with (130, 143 and 129 for
   * SIGINT, SIGTERM and SIGHUP), `inFlight` the requests sent but not answered when the workers stopped
   * (given up after `drainMs` of waiting for them, see the plugin).
   */
  z.object({ type: z.literal('end'), at: z.number(), exitCode: z.number(), earlyStop: z.boolean(), inFlight: z.number(), drainMs: z.number().optional() }),
]);
export type RunEvent = z.infer<typeof RunEvent>;
export type EventOf<T extends RunEvent['type']> = Extract<RunEvent, { type: T }>;
export type PreflightEvent = EventOf<'preflight'>;

/**
 * The run folder the pack started Artillery for (VOXANNE_RUN_DIR), where the channel lives; none
 * when the script runs under plain `npx artillery run`, or on Fargate/Lambda workers.
 */
export const RUN_DIR_ENV = 'VOXANNE_RUN_DIR';
export function channelDir(): string | undefined {
  const dir = process.env[RUN_DIR_ENV];
  return dir && existsSync(dir) ? dir : undefined;
}

/** Appends one event to the channel; without a run folder, nothing is written. */
export function writeEvent(dir: string | undefined, event: RunEvent): void {
  if (dir) appendFileSync(join(dir, EVENTS_FILE), `${JSON.stringify(event)}\n`);
}

/** The channel's events, in order; a line cut short by a killed process, or not in the schema, is skipped. */
export function readEvents(dir: string): RunEvent[] {
  const file = join(dir, EVENTS_FILE);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .flatMap((line) => {
      try {
        const parsed = RunEvent.safeParse(JSON.parse(line));
        return parsed.success ? [parsed.data] : [];
      } catch {
        return [];
      }
    });
}

/** What the workers measured that Artillery had not reported, as of `at`. */
export const TailSnapshot = z.object({
  at: z.number(),
  periods: z.array(PeriodEvent),
  inFlight: z.number(),
});
export type TailSnapshot = z.infer<typeof TailSnapshot>;

/** Replaces tail.json in one step (write, then rename), so a kill never leaves half a file. */
export function writeTail(dir: string | undefined, tail: TailSnapshot): void {
  if (!dir) return;
  const file = join(dir, TAIL_FILE);
  writeFileSync(`${file}.tmp`, JSON.stringify(tail));
  renameSync(`${file}.tmp`, file);
}

export function readTail(dir: string): TailSnapshot | undefined {
  try {
    const parsed = TailSnapshot.safeParse(JSON.parse(readFileSync(join(dir, TAIL_FILE), 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** How the Artillery process ended, as the pack saw it. */
export interface ArtilleryEnd {
  code: number | null;
  /** The signal that ended the Artillery process itself (e.g. SIGKILL), if one did. */
  killedBy: NodeJS.Signals | null;
  /** The signal the pack was stopped with (SIGINT, SIGTERM, SIGHUP), if any. */
  stoppedBy: NodeJS.Signals | null;
  startedAt: Date;
  endedAt: Date;
  /** Artillery's own last error line, when it failed to start. */
  startError?: string;
  /** What the workers had measured that Artillery never reported (tail.json), for a killed run. */
  tail?: TailSnapshot;
}
