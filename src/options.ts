// Command-line options and environment variables of a run, checked before anything is sent.
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { ROOT } from './config';
import { UsageError } from './errors';

export interface RunOptions {
  env: string;
  profile: string;
  timeScale: number;
  strict: boolean;
  timeoutSeconds: number;
  baseUrl?: string;
  reportsDir: string;
  dryRun: boolean;
  yes: boolean;
  verbose: boolean;
}

export const USAGE = `usage: npm run test:local|test:prod -- [options]
  --profile NAME      standard (default), conservative, aggressive, spike, smoke, soak (or PROFILE=NAME)
  --time-scale F      multiply every stage's duration by F, e.g. 0.1 for a 42 s rehearsal (or TIME_SCALE=F)
  --strict            per-endpoint p95 budgets fail the run instead of warning
  --timeout S         per-request timeout in seconds (default 10)
  --base-url URL      target (or BASE_URL=URL); defaults come from environments/<env>.yml
  --reports DIR       where run folders go (default reports/, or REPORTS_DIR)
  --dry-run           print the plan and exit without sending a request
  --yes               confirm a heavy profile against production (or VOXANNE_CONFIRM=yes)
  --verbose           also show Artillery's own output`;

function positiveNumber(flag: string, text: string | undefined, fallback: number, max = Infinity): number {
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || value > max) {
    throw new UsageError(`${flag} must be a number above 0${max < Infinity ? ` and at most ${max}` : ''} (got "${text}")`);
  }
  return value;
}

export function parseRunOptions(argv: string[], env: NodeJS.ProcessEnv = process.env): RunOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
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
        help: { type: 'boolean', default: false },
      },
    });
  } catch (err) {
    throw new UsageError(`${(err as Error).message.split('\n')[0].replace(/\.$/, '')}; see --help`);
  }
  const v = parsed.values;
  if (v.help) throw Object.assign(new UsageError(USAGE), { exitCode: 0 });
  return {
    env: v.env ?? 'local',
    profile: v.profile ?? env.PROFILE ?? 'standard',
    timeScale: positiveNumber('--time-scale', v['time-scale'] ?? env.TIME_SCALE, 1, 100),
    strict: v.strict,
    timeoutSeconds: positiveNumber('--timeout', v.timeout, 10, 600),
    baseUrl: v['base-url'] ?? env.BASE_URL,
    reportsDir: v.reports ?? env.REPORTS_DIR ?? join(ROOT, 'reports'),
    dryRun: v['dry-run'],
    yes: v.yes || env.VOXANNE_CONFIRM === 'yes',
    verbose: v.verbose,
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
