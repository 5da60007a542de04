// The stand-in's settings and their checks, written once: startStandIn (option names such as
// errorRate) and `npm run standin` (flags such as --error-rate) both call resolveStandInOptions.
import { isIP } from 'node:net';
import { UsageError } from '../common/errors';
import { contractFile, loadContract } from '../catalog/config';
import type { Contract } from '../catalog/contract';

export interface StandInOptions {
  /** The contract catalog's file (default: VOXANNE_CONTRACT, else config/contract.yml). */
  contract?: string;
  port?: number;
  host?: string;
  latencyScale?: number;
  extraLatencyMs?: number;
  slow?: Record<string, number>;
  errorRate?: number;
  hangRate?: number;
  resetRate?: number;
  garbageRate?: number;
  redisDown?: boolean;
  voiceApiDown?: boolean;
  /**
   * /health answers 503 from the start, or after `afterSeconds`. That clock starts when the server
   * listens, or at request number `fromRequest` (1 = the first; e.g. the first past a preflight),
   * so a fault can follow the load rather than the process.
   */
  healthDegraded?: boolean | { afterSeconds: number; fromRequest?: number };
  closeAfterSeconds?: number;
  developmentMode?: boolean;
  checkTokenExpiry?: boolean;
  /** From this request on (counted like faultsAfterRequests), every token is refused with 401 as expired or revoked. */
  revokeTokensAfterRequests?: number;
  /** The limiter's settings; each defaults to the catalog's rate limit. */
  rateLimit?: { limit?: number; windowSeconds?: number };
  /**
   * A backend of known capacity: at most `concurrency` requests are served at once, each for
   * exactly `serviceMs` (instead of the baseline latency); the rest wait in a FIFO queue. Its
   * throughput cannot exceed concurrency / serviceMs * 1000 requests per second.
   */
  capacity?: { concurrency: number; serviceMs: number };
  seed?: number;
  /** The share-based faults (hang, reset, error, garbage) start after this many requests (e.g. past a preflight). */
  faultsAfterRequests?: number;
}

export interface FaultRates {
  hang: number;
  reset: number;
  error: number;
  garbage: number;
}

/** The options with every default filled in and every value checked. */
interface ResolvedOptions {
  contract: Contract;
  host: string;
  port: number;
  latencyScale: number;
  extraLatencyMs: number;
  slow: Record<string, number>;
  rates: FaultRates;
  faultsAfterRequests: number;
  redisDown: boolean;
  voiceApiDown: boolean;
  /** Milliseconds on the degraded clock before /health degrades (Infinity = never). */
  degradedAfterMs: number;
  /** The request that starts the degraded clock (0 = the clock starts at listen). */
  degradedFromRequest: number;
  closeAfterMs?: number;
  developmentMode: boolean;
  checkTokenExpiry: boolean;
  revokeTokensAfterRequests: number;
  rateLimit: { limit: number; windowSeconds: number };
  capacity?: { concurrency: number; serviceMs: number };
  seed: number;
}

/**
 * How a check names a setting: as an option of startStandIn ('option'), or as a flag of
 * `npm run standin` with the text the user typed for each flag (so "got" quotes it as typed).
 */
type Naming = 'option' | { flags: Partial<Record<RuleName, string>> };

interface Rule {
  flag: string;
  what: string;
  ok: (v: number) => boolean;
}
const isNum = Number.isFinite;
const RULES = {
  port: { flag: 'port', what: 'an integer between 0 and 65535', ok: (v) => Number.isInteger(v) && v >= 0 && v <= 65535 },
  latencyScale: { flag: 'latency-scale', what: 'a number >= 0', ok: (v) => isNum(v) && v >= 0 },
  extraLatencyMs: { flag: 'extra-latency-ms', what: 'a number of milliseconds >= 0', ok: (v) => isNum(v) && v >= 0 },
  slow: { flag: 'slow', what: 'a number of milliseconds >= 0', ok: (v) => isNum(v) && v >= 0 },
  errorRate: { flag: 'error-rate', what: 'a number between 0 and 1', ok: (v) => isNum(v) && v >= 0 && v <= 1 },
  hangRate: { flag: 'hang-rate', what: 'a number between 0 and 1', ok: (v) => isNum(v) && v >= 0 && v <= 1 },
  resetRate: { flag: 'reset-rate', what: 'a number between 0 and 1', ok: (v) => isNum(v) && v >= 0 && v <= 1 },
  garbageRate: { flag: 'garbage-rate', what: 'a number between 0 and 1', ok: (v) => isNum(v) && v >= 0 && v <= 1 },
  'healthDegraded.afterSeconds': { flag: 'health-degraded-after', what: 'a number of seconds >= 0', ok: (v) => isNum(v) && v >= 0 },
  'healthDegraded.fromRequest': { flag: 'health-degraded-from-request', what: 'an integer >= 1', ok: (v) => Number.isInteger(v) && v >= 1 },
  closeAfterSeconds: { flag: 'close-after', what: 'a number of seconds > 0', ok: (v) => isNum(v) && v > 0 },
  'rateLimit.limit': { flag: 'rate-limit', what: 'an integer >= 1', ok: (v) => Number.isInteger(v) && v >= 1 },
  'rateLimit.windowSeconds': { flag: 'rate-window', what: 'a number of seconds > 0', ok: (v) => isNum(v) && v > 0 },
  'capacity.concurrency': { flag: 'capacity', what: 'an integer >= 1', ok: (v) => Number.isInteger(v) && v >= 1 },
  'capacity.serviceMs': { flag: 'service-ms', what: 'a number of milliseconds > 0', ok: (v) => isNum(v) && v > 0 },
  seed: { flag: 'seed', what: 'a non-negative integer', ok: (v) => Number.isInteger(v) && v >= 0 },
  faultsAfterRequests: { flag: 'faults-after-requests', what: 'an integer >= 0', ok: (v) => Number.isInteger(v) && v >= 0 },
  revokeTokensAfterRequests: { flag: 'revoke-tokens-after-requests', what: 'an integer >= 0', ok: (v) => Number.isInteger(v) && v >= 0 },
} satisfies Record<string, Rule>;
export type RuleName = keyof typeof RULES;

/** The flag of `npm run standin` for a setting, e.g. --error-rate for errorRate. */
const flagOf = (rule: RuleName): string => `--${RULES[rule].flag}`;

/** The line that says what is wrong with a setting and what it takes. */
function describeBadValue(rule: RuleName, naming: Naming, value: unknown): string {
  if (naming === 'option') return `${rule} must be ${RULES[rule].what} (got ${String(value)})`;
  return `${flagOf(rule)} must be ${RULES[rule].what} (got "${naming.flags[rule] ?? String(value)}")`;
}

function checked(rule: RuleName, value: number | undefined, naming: Naming, fallback: number): number;
function checked(rule: RuleName, value: number | undefined, naming: Naming, fallback?: number): number | undefined;
function checked(rule: RuleName, value: number | undefined, naming: Naming, fallback?: number): number | undefined {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !RULES[rule].ok(value)) throw new UsageError(describeBadValue(rule, naming, value));
  return value;
}

/** The address to bind, or a UsageError: the stand-in must never be reachable from outside the machine. */
function loopbackHost(host: string): string {
  if (host === 'localhost') return '127.0.0.1'; // avoid resolving to ::1 on some machines
  const loopback = (isIP(host) === 4 && host.startsWith('127.')) || (isIP(host) === 6 && host === '::1');
  if (!loopback) throw new UsageError(`host "${host}" is not a loopback address; use 127.0.0.1, ::1 or localhost`);
  return host;
}

export function resolveStandInOptions(o: StandInOptions, naming: Naming = 'option'): ResolvedOptions {
  const contract = loadContract(o.contract ?? contractFile());
  const names = contract.endpoints.map((e) => e.name);
  const slow: Record<string, number> = {};
  for (const [name, ms] of Object.entries(o.slow ?? {})) {
    if (!names.includes(name)) {
      throw new UsageError(`${naming === 'option' ? 'slow' : '--slow'}: unknown request name "${name}"; use one of ${names.join(', ')}`);
    }
    slow[name] = checked('slow', ms, naming, 0);
  }
  const rates: FaultRates = {
    hang: checked('hangRate', o.hangRate, naming, 0),
    reset: checked('resetRate', o.resetRate, naming, 0),
    error: checked('errorRate', o.errorRate, naming, 0),
    garbage: checked('garbageRate', o.garbageRate, naming, 0),
  };
  const sum = rates.hang + rates.reset + rates.error + rates.garbage;
  if (sum > 1 + 1e-9) {
    const names = (['hangRate', 'resetRate', 'errorRate', 'garbageRate'] as const).map((r) => (naming === 'option' ? r : flagOf(r)));
    throw new UsageError(`${names.slice(0, -1).join(', ')} and ${names.at(-1)} add up to ${sum}; keep the sum at most 1`);
  }
  const rateLimit = o.rateLimit ?? {};
  const degraded = o.healthDegraded ?? false;
  const capacity = o.capacity && {
    concurrency: checked('capacity.concurrency', o.capacity.concurrency, naming, 1),
    serviceMs: checked('capacity.serviceMs', o.capacity.serviceMs, naming, 1),
  };
  const closeAfter = checked('closeAfterSeconds', o.closeAfterSeconds, naming);
  return {
    contract,
    host: loopbackHost(o.host ?? '127.0.0.1'),
    port: checked('port', o.port, naming, 0),
    latencyScale: checked('latencyScale', o.latencyScale, naming, 1),
    extraLatencyMs: checked('extraLatencyMs', o.extraLatencyMs, naming, 0),
    slow,
    rates,
    faultsAfterRequests: checked('faultsAfterRequests', o.faultsAfterRequests, naming, 0),
    redisDown: o.redisDown === true,
    voiceApiDown: o.voiceApiDown === true,
    degradedAfterMs: degraded === false ? Infinity : degraded === true ? 0 : checked('healthDegraded.afterSeconds', degraded.afterSeconds, naming, 0) * 1000,
    degradedFromRequest: typeof degraded === 'object' ? checked('healthDegraded.fromRequest', degraded.fromRequest, naming, 0) : 0,
    closeAfterMs: closeAfter === undefined ? undefined : closeAfter * 1000,
    developmentMode: o.developmentMode === true,
    checkTokenExpiry: o.checkTokenExpiry === true,
    revokeTokensAfterRequests: checked('revokeTokensAfterRequests', o.revokeTokensAfterRequests, naming, 0),
    rateLimit: {
      limit: checked('rateLimit.limit', rateLimit.limit, naming, contract.rateLimit.requests),
      windowSeconds: checked('rateLimit.windowSeconds', rateLimit.windowSeconds, naming, contract.rateLimit.windowSeconds),
    },
    capacity,
    seed: checked('seed', o.seed, naming, Math.floor(Math.random() * 2 ** 32)),
  };
}
