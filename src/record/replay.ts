// A run folder keeps what its record is made from: the resolved plan (plan.json), how Artillery
// ended (end.json), and the event channel (events.ndjson, tail.json). So any run folder, recorded
// or real, can be replayed into its record without starting Artillery: the record is a pure
// function of these (src/record/assemble.ts). Both files are read back through the schemas below.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { assembleRecord } from './assemble';
import type { ArtilleryEnd } from '../channel/channel';
import { readEvents, readTail } from '../channel/channel';
import { Budgets, CapacitySearch, Environment, Stage } from '../catalog/config';
import { Contract, type Endpoint } from '../catalog/contract';
import { readCombinedOutput, verdictsFromLog } from './combined-output';
import { gatesForPlan } from './gates';
import { AuthMode } from '../plan/auth';
import { RunOptions } from '../plan/options';
import type { RunRecord } from './record';
import type { RunPlan } from '../plan/resolve';
import { redactor } from '../common/secrets';
import { END_FILE, OUTPUT_FILE, PLAN_FILE } from '../common/run-files';

/**
 * The resolved plan as plan.json holds it. Typed as a RunPlan, so a field added to the plan must be
 * added here too (the type check says so). The plan holds no secret: tokens and passwords stay in
 * the environment; only the auth mode and its secret-free description are planned.
 */
export const PlanFile: z.ZodType<RunPlan> = z
  .object({
    opts: RunOptions,
    environment: Environment.extend({ name: z.string() }),
    profile: z
      .object({
        name: z.string(),
        description: z.string(),
        heavy: z.boolean(),
        thinkSeconds: z.number().nonnegative(),
        minRps: z.number().optional(),
        stages: z.array(Stage),
        search: CapacitySearch.optional(),
        capacity: CapacitySearch.optional(),
      })
      // JSON drops a key whose value is undefined; the plan always has `capacity`, set or not.
      .transform((p) => ({ ...p, capacity: p.capacity })),
    budgets: Budgets,
    contract: Contract,
    /** The scenario's requests by name, in its order: their entries are the contract's. */
    endpoints: z.array(z.string()),
    scenario: z.object({
      config: z.record(z.string(), z.any()),
      before: z.unknown().optional(),
      after: z.unknown().optional(),
      scenarios: z.array(z.looseObject({ name: z.string().optional(), flow: z.array(z.unknown()) })),
    }),
    target: z.string(),
    auth: z.object({
      mode: AuthMode,
      devOrgId: z.string(),
      devEmail: z.string(),
      description: z.string(),
      warning: z.string().optional(),
    }),
    stages: z.array(Stage),
    loadSeconds: z.number(),
    estimate: z.object({ journeys: z.number(), perEndpoint: z.record(z.string(), z.number()), api: z.number(), total: z.number() }),
    profileEstimates: z.array(z.object({ name: z.string(), api: z.number() })),
    breaker: z.boolean(),
    packVersion: z.string(),
  })
  .superRefine((p, ctx) => {
    for (const [i, name] of p.endpoints.entries()) {
      if (!p.contract.endpoints.some((e) => e.name === name))
        ctx.addIssue({ code: 'custom', message: `${name} is not in the plan's contract`, path: ['endpoints', i] });
    }
  })
  .transform((p) => ({ ...p, endpoints: p.endpoints.map((name) => p.contract.endpoints.find((e) => e.name === name) as Endpoint) }));

/** How Artillery ended (ArtilleryEnd without the tail, which tail.json keeps), and the run's id. */
export const EndFile = z.object({
  id: z.string(),
  code: z.number().nullable(),
  killedBy: z.string().nullable(),
  stoppedBy: z.string().nullable(),
  startedAt: z.iso.datetime(),
  endedAt: z.iso.datetime(),
  startError: z.string().optional(),
});
export type EndFile = z.infer<typeof EndFile>;

/** JSON with every string passed through the redactor: the last line of defence, as for artillery.log. */
function redactedJson(value: unknown): string {
  const redact = redactor();
  return JSON.stringify(value, (_key, v) => (typeof v === 'string' ? redact(v) : v));
}

/** plan.json's text: the plan, with the scenario's endpoints by name (the contract holds their entries). */
export const planFileText = (plan: RunPlan): string => redactedJson({ ...plan, endpoints: plan.endpoints.map((e) => e.name) });

/** Written before Artillery starts, so even a run that never ends keeps its plan. */
export function writePlanFile(dir: string, plan: RunPlan): void {
  writeFileSync(join(dir, PLAN_FILE), planFileText(plan));
}

export function writeEndFile(dir: string, id: string, end: ArtilleryEnd): void {
  const saved: EndFile = {
    id,
    code: end.code,
    killedBy: end.killedBy,
    stoppedBy: end.stoppedBy,
    startedAt: end.startedAt.toISOString(),
    endedAt: end.endedAt.toISOString(),
    ...(end.startError !== undefined && { startError: end.startError }),
  };
  writeFileSync(join(dir, END_FILE), redactedJson(saved));
}

function readJson<T>(dir: string, file: string, schema: z.ZodType<T>): T {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  } catch (err) {
    throw new Error(
      (err as NodeJS.ErrnoException).code === 'ENOENT' ? `no ${file} in ${dir}` : `unreadable ${file} (${(err as Error).message.split('\n')[0]})`,
      { cause: err },
    );
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${file}: ${issue.path.join('.') || 'top level'}: ${issue.message}`);
  }
  return parsed.data;
}

export const readPlanFile = (dir: string): RunPlan => readJson(dir, PLAN_FILE, PlanFile);

/** end.json as the ArtilleryEnd the run saw, with the workers' last snapshot from tail.json. */
export function readEndFile(dir: string): { id: string; end: ArtilleryEnd } {
  const saved = readJson(dir, END_FILE, EndFile);
  return {
    id: saved.id,
    end: {
      code: saved.code,
      killedBy: saved.killedBy as NodeJS.Signals | null,
      stoppedBy: saved.stoppedBy as NodeJS.Signals | null,
      startedAt: new Date(saved.startedAt),
      endedAt: new Date(saved.endedAt),
      startError: saved.startError,
      tail: readTail(dir),
    },
  };
}

/**
 * The record from a run folder's files and how Artillery ended: what the run itself writes to
 * run.json, and what a replay gives. A distributed run adds ensure's verdicts from artillery.log and
 * the periods of Artillery's combined output.
 */
/**
 * The record a run folder makes, with every string through the redactor: a secret that reached an
 * event (a redirect's address, a server's echo) never reaches run.json, the report, JUnit or the terminal.
 */
export function recordFromFolder(plan: RunPlan, id: string, dir: string, end: ArtilleryEnd): RunRecord {
  return JSON.parse(redactedJson(assembleFromFolder(plan, id, dir, end))) as RunRecord;
}

function assembleFromFolder(plan: RunPlan, id: string, dir: string, end: ArtilleryEnd): RunRecord {
  const events = readEvents(dir);
  if (plan.opts.platform === 'local') return assembleRecord(plan, id, events, end);
  // The preflight (run once, from here) can stop a distributed run before any worker started.
  const refused = events.some((e) => e.type === 'preflight' && e.verdict !== 'go');
  const combined = refused ? { periods: [], aggregate: {} } : readCombinedOutput(join(dir, OUTPUT_FILE));
  return assembleRecord(plan, id, [...events, ...verdictsFromLog(gatesForPlan(plan), dir)], end, combined);
}

/** Replays a run folder (plan.json, end.json, the channel) into the record the run wrote. */
export function replayRunFolder(dir: string): RunRecord {
  if (!existsSync(dir)) throw new Error(`no run folder at ${dir}`);
  const plan = readPlanFile(dir);
  const { id, end } = readEndFile(dir);
  return recordFromFolder(plan, id, dir, end);
}
