// The checks before the load and their verdict (processors/preflight.ts runs them in Artillery's main
// thread, src/artillery/artillery-run.ts reads the verdict):
//  - before: /health must be ok; the /api must work too (the backend can answer /health 200 while
//    every /api request fails): up to API_SAMPLES requests, so that only an API that fails every
//    time stops the run, and a flaky one is left to the load's gates. With the run's token when it
//    has one (a rejected token stops the run here, not after a load of 401s); the last answer tells
//    how much of the rate limit is left.
import { type PreflightEvent, type RunConfig } from '../channel/channel';
import { EXIT } from '../common/errors';
import { checkHealth, refusesUs, sampleApi, sampleFailures, type ApiCheck } from '../checks/health';
import { preflightPaths } from '../catalog/contract';
import { decodeJwt } from '../common/jwt';
import { rateLimitAdvice } from '../checks/ratelimit';
import { authorizationFor } from './authorization';

/** Why the backend refused the run's token, from what the token says of itself. */
function tokenProblem(authorization: string | undefined): string {
  const claims = decodeJwt((authorization ?? '').replace(/^Bearer /, ''));
  if (!claims) return 'the token is not a JWT';
  if (typeof claims.exp === 'number' && claims.exp * 1000 <= Date.now()) return 'the token has expired';
  if (!claims.email) return 'the token has no email claim';
  const org = claims.app_metadata?.org_id;
  if (!org) return 'the token has no app_metadata.org_id claim';
  if (org === 'default') return 'the token\'s org_id is "default", which the backend refuses';
  return 'the backend rejected the token (revoked, or signed for another project)';
}

/** The preflight's verdict: go, or why no load is sent. */
export function judgePreflight(config: RunConfig, api: ApiCheck, authorization: string | undefined): Omit<PreflightEvent, 'type' | 'health' | 'api'> {
  if (refusesUs(api) && api.status === 401) {
    return {
      verdict: 'auth-rejected',
      message: `${api.path} answered 401 to the run's token: ${tokenProblem(authorization)}; fix API_TOKEN or the sign-in account`,
    };
  }
  if (refusesUs(api)) {
    const size = Math.round((authorization?.length ?? 0) / 1024);
    return {
      verdict: 'headers-rejected',
      message: `the target answered ${api.status} to the pack's request headers (Authorization header ${size} KB): use a shorter token`,
    };
  }
  if (!api.ok) return { verdict: 'api-failing' };
  if (config.spreadIps) return { verdict: 'go' };
  const left = api.rateLimit?.remaining;
  const warning = rateLimitAdvice(
    api.rateLimit,
    config.rateLimit.apiEstimate,
    config.rateLimit.profiles,
    config.rateLimit.timeScale,
    config.rateLimit.loopback,
  );
  if (!warning || config.rateLimit.confirmed) return { verdict: 'go', ...(warning && { rateLimitWarning: warning }) };
  // Against production any overrun needs a confirmation; locally, only one that leaves most of the run rate limited.
  const production = config.rateLimit.refuseAnyOverrun;
  if (production) {
    return {
      verdict: 'over-limit',
      rateLimitWarning: warning,
      message: 'against production any overrun needs a confirmation: add --yes (or VOXANNE_CONFIRM=yes) to run anyway',
    };
  }
  if (left !== undefined && left < config.rateLimit.apiEstimate / 2) {
    return {
      verdict: 'over-limit',
      rateLimitWarning: warning,
      message: 'less than half of the run is left in the rate limit, so it would measure mostly 429s: add --yes to run anyway',
    };
  }
  return { verdict: 'go', rateLimitWarning: warning };
}

/** The checks before the load and their verdict, without Artillery (the tests call it as it is). */
export async function runPreflight(target: string, config: RunConfig): Promise<PreflightEvent> {
  const health = await checkHealth(target, config.healthTimeoutMs);
  if (!health.ok) return { type: 'preflight', verdict: 'unhealthy', health };
  const authorization = config.auth.mode === 'probe' ? undefined : await authorizationFor(config.auth);
  const api = await sampleApi(target, preflightPaths(config.contract), config.healthTimeoutMs, authorization);
  return { type: 'preflight', health, api, ...judgePreflight(config, api, authorization) };
}

/** What the user reads of the preflight's verdict. */
export function preflightLines(event: PreflightEvent): string[] {
  const lines: string[] = [];
  const failures = event.api && event.api.ok && sampleFailures(event.api);
  if (failures)
    lines.push(`Preflight: ${failures} before one answered ${event.api?.status}: a flaky API, not a broken one; the load runs and its gates judge it.`);
  if (event.rateLimitWarning) lines.push(event.rateLimitWarning);
  if (event.verdict !== 'go' && event.message) lines.push(`Not starting the load: ${event.message}.`);
  return lines;
}

/** The exit code of a run the preflight stopped. */
export const preflightExitCode = (event: PreflightEvent): number =>
  event.verdict === 'unhealthy' || event.verdict === 'api-failing' ? EXIT.unhealthyAtStart : EXIT.badInput;
