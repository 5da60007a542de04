// Loads the pack's data files (profiles, budgets, environments) and checks their shape, so a typo
// becomes one clear line instead of a confusing run.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { parseDurationSeconds } from '../common/duration';
import { UsageError } from '../common/errors';
import { Contract } from './contract';
import { checkPublishMetrics } from './publish-targets';

/** The pack's folder: the nearest one with a package.json (this file also runs from .build/). */
export const ROOT = (() => {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
})();
export const BUILD_DIR = join(ROOT, '.build');

const durationText = z.union([z.number().positive(), z.string().regex(/^\d+(\.\d+)?(ms|s|m|h)?$/, 'use e.g. 30s, 2m or 1h')]).transform(parseDurationSeconds);

const StageInput = z.object({ duration: durationText, target: z.number().int().min(0) });

/** A stage as the plan, the channel and the record hold it: seconds, and the users to reach. */
export const Stage = z.object({ duration: z.number().nonnegative(), target: z.number().int().min(0) });

/** The capacity search's own settings (config/profiles.yml, `search:`); see src/search/next-step.ts. */
export const CapacitySearch = z.object({
  /** Users of the first step, and the factor they grow by until throughput stops growing. */
  startUsers: z.number().int().min(1),
  growth: z.number().min(1.5),
  /** Throughput stopped growing: users grew at least this much and requests/s less than this %. */
  saturation: z.object({ usersGrowth: z.number().min(1), rpsGrowthPct: z.number().min(0) }),
  /** The bracket is narrowed until the users that broke are at most this factor of those held. */
  narrowTo: z.number().min(1.01),
  /** Bounds: the most users, and the longest load, the search may use. */
  maxUsers: z.number().int().min(1),
  maxSeconds: z.number().positive(),
  /**
   * The waiting pool (users that wait until a step lets them send) arrives in one burst this long,
   * before the first step; the phases last spareSeconds past maxSeconds (never reached).
   */
  poolSeconds: z.number().positive(),
  spareSeconds: z.number().nonnegative(),
  /** After the users change, wait this long plus the last step's p99 before measuring. */
  settleSeconds: z.number().nonnegative(),
  /** A step is measured for at least minStepSeconds and minRequests responses, at most maxStepSeconds. */
  minStepSeconds: z.number().int().min(1),
  maxStepSeconds: z.number().int().min(1),
  minRequests: z.number().int().min(1),
  /** The guide's users pause this long between journeys (for the answer in the guide's users). */
  guideThinkSeconds: z.number().nonnegative(),
  /**
   * A step that contradicts the curve is measured again before the answer rests on it: past the
   * knee, throughput this % below the knee's; throughput that grew this % faster than users; or a
   * p99 verdict that p99 per user of the steps near the gate contradicts, this % off that line.
   */
  remeasure: z.object({ rpsDipPct: z.number().min(0), superlinearPct: z.number().min(0), offLinePct: z.number().min(0) }),
});
export type CapacitySearch = z.infer<typeof CapacitySearch>;

/**
 * The profile's stages: the waiting pool arrives in one burst (Artillery's arrival timer spins a
 * core while arrivals come faster than one per 25 ms, so a short burst costs that core for
 * poolSeconds once, where a steady pace would cost most of it for the whole arrival), then stays
 * until the search's time bound. Users only send while the search lets them (processors/recorder.ts):
 * the pool is an upper bound, not the load.
 */
export function searchStages(s: CapacitySearch): Array<{ duration: number; target: number }> {
  return [
    { duration: s.poolSeconds, target: s.maxUsers },
    { duration: Math.max(1, s.maxSeconds + s.spareSeconds), target: s.maxUsers },
  ];
}

const Profile = z
  .object({
    description: z.string(),
    heavy: z.boolean().default(false),
    thinkSeconds: z.number().nonnegative().default(1),
    minRps: z.number().nonnegative().optional(),
    stages: z.array(StageInput).min(1).optional(),
    search: CapacitySearch.optional(),
  })
  .refine((p) => Boolean(p.stages) !== Boolean(p.search), { message: 'give either stages or search (a capacity search), not both' })
  .refine((p) => !p.search || p.search.maxStepSeconds >= p.search.minStepSeconds, { message: 'search.maxStepSeconds must be at least minStepSeconds' })
  .transform((p) => ({ ...p, stages: p.stages ?? searchStages(p.search!), capacity: p.search }));

export const Budgets = z.object({
  gates: z.object({
    p99Ms: z.number().positive(),
    errorRatePct: z.number().positive(),
    minRps: z.number().nonnegative(),
    maxTimeouts: z.number().int().min(0),
    maxCrashedUsers: z.number().int().min(0),
    maxRateLimitedPct: z.number().min(0),
    minLoadSharePct: z.number().min(0).max(100),
    minLoadSeconds: z.number().nonnegative(),
  }),
  breaker: z.object({
    errorRatePct: z.number().positive(),
    windowSeconds: z.number().positive(),
    healthEverySeconds: z.number().positive(),
  }),
  generator: z.object({ cpuPct: z.number().positive(), loopDelayMs: z.number().positive(), loopBusyCpuPct: z.number().min(0) }),
});

export const Environment = z.object({
  description: z.string(),
  baseUrl: z.string().url(),
  /** What the authenticated endpoints do without API_TOKEN or a sign-in: a development token, or 401 probes. */
  authFallback: z.enum(['dev-token', 'probe']),
  production: z.boolean().default(false),
  /** A capacity search (--profile capacity) may push this backend until it breaks; always allowed on loopback. */
  allowCapacity: z.boolean().default(false),
  /** Artillery's `config.plugins.publish-metrics` list; credentials only as "{{ $env.NAME }}". */
  publishMetrics: z.array(z.looseObject({ type: z.string() })).optional(),
});

export type Stage = z.infer<typeof Stage>;
export type Profile = z.infer<typeof Profile> & { name: string };
export type Budgets = z.infer<typeof Budgets>;
export type Environment = z.infer<typeof Environment> & { name: string };

/** A YAML file's data; unreadable or malformed files become one clear line. */
export function readYaml(file: string): unknown {
  const shown = relative(process.cwd(), file) || file;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new UsageError(`cannot read ${shown}; check that the file exists`);
  }
  try {
    return parse(text);
  } catch (err) {
    const reason = (err as Error).message.split('\n')[0].replace(/:\s*$/, '');
    throw new UsageError(`${shown} is not valid YAML (${reason}); fix the file`);
  }
}

function validate<T extends z.ZodTypeAny>(schema: T, data: unknown, file: string): z.infer<T> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue.path.join('.') || 'top level';
  throw new UsageError(`${relative(process.cwd(), file)}: ${where}: ${issue.message}; fix the file`);
}

/** The profiles' file: VOXANNE_PROFILES when set (a benchmark's own profiles), else config/profiles.yml. */
export function loadProfiles(file = resolve(process.env.VOXANNE_PROFILES || join(ROOT, 'config', 'profiles.yml'))): Record<string, Profile> {
  const raw = validate(z.record(z.string(), Profile), readYaml(file), file);
  return Object.fromEntries(Object.entries(raw).map(([name, p]) => [name, { ...p, name }]));
}

export function loadProfile(name: string): Profile {
  const profiles = loadProfiles();
  const profile = profiles[name];
  if (!profile) {
    throw new UsageError(`unknown profile "${name}"; choose one of: ${Object.keys(profiles).join(', ')}`);
  }
  return profile;
}

export function loadBudgets(file = join(ROOT, 'config', 'budgets.yml')): Budgets {
  return validate(Budgets, readYaml(file), file);
}

/** The contract catalog's file: VOXANNE_CONTRACT when set, else config/contract.yml. */
export function contractFile(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.VOXANNE_CONTRACT || join(ROOT, 'config', 'contract.yml'));
}

/** The backend's contract catalog (see config/contract.yml). */
export function loadContract(file = contractFile()): Contract {
  return validate(Contract, readYaml(file), file);
}

/** An environment by name (environments/<name>.yml) or by the path of a YAML file. */
export function loadEnvironment(name: string, dir = join(ROOT, 'environments')): Environment {
  if (/\.ya?ml$/.test(name)) {
    const file = resolve(name);
    return { ...readEnvironment(file), name: basename(name).replace(/\.ya?ml$/, '') };
  }
  const known = readdirSync(dir)
    .filter((f) => f.endsWith('.yml'))
    .map((f) => f.slice(0, -4))
    .sort();
  if (!known.includes(name)) {
    throw new UsageError(`unknown environment "${name}"; choose one of: ${known.join(', ')}`);
  }
  const file = join(dir, `${name}.yml`);
  return { ...readEnvironment(file), name };
}

function readEnvironment(file: string): z.infer<typeof Environment> {
  const environment = validate(Environment, readYaml(file), file);
  checkPublishMetrics(environment.publishMetrics ?? [], relative(process.cwd(), file));
  return environment;
}
