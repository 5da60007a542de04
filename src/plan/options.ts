// Command-line options and environment variables of a run, checked before anything is sent.
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { UsageError } from '../common/errors';
import { refuseNpmSwallowedFlags } from './npm-flags';
import { reportsFolder } from './run-folder';
import { liveWanted } from './live-wanted';

/** A run's options, resolved: the shape the plan and plan.json hold. */
export const RunOptions = z.object({
  env: z.string(),
  profile: z.string(),
  timeScale: z.number().positive(),
  strict: z.boolean(),
  timeoutSeconds: z.number().positive(),
  baseUrl: z.string().optional(),
  reportsDir: z.string(),
  dryRun: z.boolean(),
  yes: z.boolean(),
  verbose: z.boolean(),
  allowHttp: z.boolean(),
  count429: z.boolean(),
  spreadIps: z.boolean(),
  /** Stop the load early when it is clearly failing; undefined = the environment's default. */
  breaker: z.boolean().optional(),
  scenarioFile: z.string().optional(),
  /** Where the load generators run: this machine, or Artillery's own distributed runners. */
  platform: z.enum(['local', 'fargate', 'lambda']),
  count: z.number(),
  region: z.string(),
  /** Build the record from a combined Artillery output already made, instead of running. */
  fromOutput: z.string().optional(),
  /** Serve the report live on 127.0.0.1 while the run goes (src/live/); the port, when one was asked for. */
  live: z.boolean().optional(),
  livePort: z.number().int().optional(),
  /** How long /health and the /api preflight may take (VOXANNE_HEALTH_TIMEOUT_MS); older plans: the default. */
  healthTimeoutMs: z.number().positive().optional(),
});
export type RunOptions = z.infer<typeof RunOptions>;

/** /health and the preflight's /api requests must answer within this, unless VOXANNE_HEALTH_TIMEOUT_MS says otherwise. */
export const DEFAULT_HEALTH_TIMEOUT_MS = 5000;

const USAGE = `usage: npm run test:local|test:prod -- [options]
  --profile NAME      standard (default), conservative, aggressive, spike, smoke, soak, capacity (or PROFILE=NAME)
  --time-scale F      multiply every stage's duration by F, e.g. 0.1 for a 42 s rehearsal (or TIME_SCALE=F)
  --strict            per-endpoint p95 budgets fail the run instead of warning
  --timeout S         per-request timeout in seconds (default 10)
  --base-url URL      target (or BASE_URL=URL); defaults come from environments/<env>.yml
  --reports DIR       where run folders go (default reports/, or REPORTS_DIR)
  --dry-run           print the plan and exit without sending a request
  --yes               confirm a heavy profile or a rate-limit overrun against production (or VOXANNE_CONFIRM=yes)
  --allow-http        let the prod environment use a plain http:// URL
  --count-429         count rate-limited answers (429) as errors in the error-rate gate
  --spread-ips        loopback targets only: a new X-Forwarded-For address per request, to measure past the rate limit
  --breaker on|off    stop early when >50 % of the last 30 s failed or /health goes bad (default: on for prod)
  --scenario FILE     another Artillery scenario instead of scenarios/journey.yml
  --env NAME|FILE     local, prod, or an environment YAML file
  --platform P        local (default), fargate or lambda: run through Artillery's distributed runners
  --count N           load generators for fargate/lambda (default 1); each runs the whole profile
  --region R          AWS region for fargate/lambda (default us-east-1)
  --from-output FILE  with --platform: build the record and report from a combined Artillery output (-o JSON)
  --live              watch the report fill in, in a browser, on a URL on 127.0.0.1 (or VOXANNE_LIVE=1, which
                      is ignored in CI and without a terminal; --live always starts it)
  --live-port N       the live view's port (default: a free one); implies --live
  --verbose           also show Artillery's own output`;

function positiveNumber(flag: string, text: string | undefined, fallback: number, max = Infinity): number {
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || value > max) {
    throw new UsageError(`${flag} must be a number above 0${max < Infinity ? ` and at most ${max}` : ''} (got "${text}")`);
  }
  return value;
}

function platformOf(text: string | undefined): RunOptions['platform'] {
  if (text === undefined || text === 'local' || text === 'fargate' || text === 'lambda') return text ?? 'local';
  throw new UsageError(`--platform takes local, fargate or lambda (got "${text}")`);
}

function checkRegion(text: string): string {
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(text)) throw new UsageError(`--region "${text}" is not an AWS region; use e.g. eu-west-1`);
  return text;
}

function onOff(flag: string, text: string | undefined): boolean | undefined {
  if (text === undefined) return undefined;
  if (text === 'on' || text === 'off') return text === 'on';
  throw new UsageError(`${flag} takes on or off (got "${text}")`);
}

/** The run's options, as parseArgs reads them. */
const OPTIONS = {
  env: { type: 'string' },
  profile: { type: 'string' },
  'time-scale': { type: 'string' },
  strict: { type: 'boolean', default: false },
  timeout: { type: 'string' },
  'base-url': { type: 'string' },
  reports: { type: 'string' },
  'dry-run': { type: 'boolean', default: false },
  yes: { type: 'boolean', default: false },
  verbose: { type: 'boolean', default: false },
  'allow-http': { type: 'boolean', default: false },
  'count-429': { type: 'boolean', default: false },
  'spread-ips': { type: 'boolean', default: false },
  breaker: { type: 'string' },
  scenario: { type: 'string' },
  platform: { type: 'string' },
  count: { type: 'string' },
  region: { type: 'string' },
  'from-output': { type: 'string' },
  live: { type: 'boolean', default: false },
  'live-port': { type: 'string' },
  help: { type: 'boolean', default: false },
} as const;

/**
 * A negative number after an option ("--time-scale -1") looks like an option to parseArgs, which
 * then prints three lines; joined as "--time-scale=-1" it reaches the usual one-line check.
 */
function joinNegativeValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].startsWith('--') ? argv[i].slice(2) : '';
    const spec = (OPTIONS as Record<string, { type: string }>)[name];
    if (spec?.type === 'string' && /^-\d|^-\.\d/.test(argv[i + 1] ?? '')) out.push(`${argv[i]}=${argv[++i]}`);
    else out.push(argv[i]);
  }
  return out;
}

export function parseRunOptions(argv: string[], env: NodeJS.ProcessEnv = process.env, tty = Boolean(process.stdout.isTTY)): RunOptions {
  refuseNpmSwallowedFlags(OPTIONS, env);
  let parsed;
  try {
    parsed = parseArgs({
      args: joinNegativeValues(argv),
      strict: true,
      allowPositionals: false,
      options: OPTIONS,
    });
  } catch (err) {
    const e = err as Error & { code?: string };
    const option = /'(-[^']+)'/.exec(e.message)?.[1];
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option) throw new UsageError(`unknown option ${option}; see --help for the options`);
    throw new UsageError(`${e.message.split('. ')[0].replace(/\.$/, '')}; see --help`);
  }
  const v = parsed.values;
  if (v.help) throw Object.assign(new UsageError(USAGE), { exitCode: 0 });
  const livePort = v['live-port'] === undefined ? undefined : Math.round(positiveNumber('--live-port', v['live-port'], 0, 65535));
  const live = liveWanted({ flag: v.live || livePort !== undefined, env, tty });
  return {
    env: v.env ?? 'local',
    profile: v.profile ?? env.PROFILE ?? 'standard',
    timeScale: positiveNumber('--time-scale', v['time-scale'] ?? env.TIME_SCALE, 1, 100),
    strict: v.strict,
    timeoutSeconds: positiveNumber('--timeout', v.timeout, 10, 600),
    baseUrl: v['base-url'] ?? env.BASE_URL,
    reportsDir: reportsFolder(v.reports, env),
    dryRun: v['dry-run'],
    yes: v.yes || env.VOXANNE_CONFIRM === 'yes',
    verbose: v.verbose,
    allowHttp: v['allow-http'],
    count429: v['count-429'],
    spreadIps: v['spread-ips'],
    breaker: onOff('--breaker', v.breaker),
    scenarioFile: v.scenario,
    platform: platformOf(v.platform),
    count: Math.round(positiveNumber('--count', v.count, 1, 1000)),
    region: checkRegion(v.region ?? 'us-east-1'),
    fromOutput: v['from-output'],
    ...(live && { live }),
    ...(livePort !== undefined && { livePort }),
    healthTimeoutMs: positiveNumber('VOXANNE_HEALTH_TIMEOUT_MS', env.VOXANNE_HEALTH_TIMEOUT_MS, DEFAULT_HEALTH_TIMEOUT_MS, 600_000),
  };
}

/** The target URL: a plain http(s) origin, with no credentials in it. */
export function checkBaseUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`BASE_URL "${text}" is not a URL; use e.g. http://localhost:3001`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`BASE_URL must start with http:// or https:// (got "${url.protocol}")`);
  }
  if (url.username || url.password) throw new UsageError('BASE_URL must not carry credentials; use API_TOKEN');
  if (url.pathname !== '/' || url.search) {
    throw new UsageError(`BASE_URL must be the backend's origin only, without a path (got "${text}")`);
  }
  return url.origin;
}

/** Loopback hosts: the only targets that may get traffic the real backend's limiter would refuse. */
export function isLoopback(url: string): boolean {
  const host = new URL(url).hostname;
  return host === 'localhost' || host === '[::1]' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
