// What went wrong, in the guide's words, with its "Common Issues" hints. Built from the record only.
import { refusesUs, sampleFailures, type ApiCheck, type HealthResult } from '../checks/health';
import { isLoopback } from '../plan/options';
import { describePolicy } from '../checks/ratelimit';
import type { RunRecord } from './record';

function healthHints(h: HealthResult, target: string): string[] {
  const curl = `curl ${target}/health`;
  switch (h.problem) {
    case 'refused':
      return [
        `Connection refused at ${target}: nothing is listening there.`,
        // The backend's own port only helps when the target is this machine.
        isLoopback(target)
          ? 'Verify the backend is running (npm run dev in the backend, port 3001), check firewall settings,'
          : 'Verify the backend is running there, check firewall settings,',
        `and verify the URL: ${curl}`,
      ];
    case 'timeout':
    case 'unreachable':
      return [
        `No answer from ${target} (${h.detail}).`,
        `Check the host name and the network, and that the backend is up: ${curl}`,
        // A sleeping hosted service, never a backend on this machine.
        ...(isLoopback(target) ? [] : ['A service on Render that was idle can take a minute to wake up; try again.']),
      ];
    case 'redirect':
      return [
        `/health answered ${h.status}, a ${h.detail}; redirects are not followed (that would check another server).`,
        `Is BASE_URL the backend itself (http:// vs https://, the host name)? curl -I ${target}/health`,
      ];
    case 'redirect-loop': // records made before redirects stopped being followed
      return [
        `Redirect loop at ${target}/health: it kept redirecting (${h.detail}).`,
        `Check BASE_URL (http:// vs https://, a trailing host name) and the proxy's redirect rules: curl -IL ${target}/health`,
      ];
    case 'degraded': {
      const failing = h.failingServices ?? [];
      const database = failing.some((s) => s === 'database' || s === 'supabase');
      return [
        `/health answered ${h.status} degraded: ${failing.length ? failing.join(', ') : 'a service'} down.`,
        database
          ? 'Verify database connectivity (Supabase) and the backend logs before load testing.'
          : 'Check the backend logs for the failing service before load testing.',
      ];
    }
    case 'http-error':
      return [`/health answered HTTP ${h.status}: ${h.detail}`, `Check the backend logs and the URL: ${curl}`];
    case 'wrong-body':
      return [`/health answered 200 without status "ok": ${h.detail}`, 'Is BASE_URL the Voxanne backend (not the front end or a proxy page)?'];
    default:
      return [];
  }
}

/** "rate limited: N requests, policy 1000 per hour: the limiter, not overload; ..." */
function rateLimitLine(r: RunRecord): string | undefined {
  const rl = r.rateLimit;
  if (!rl.limited) return undefined;
  const state = rl.atStart;
  // Without the limiter's headers at the start, neither its policy nor its window is known: say so, not a guess.
  const policy = state?.limit ? `, policy ${describePolicy(state)}` : ' (its policy unknown: the backend sent no RateLimit headers at the start)';
  const window = state?.resetAt ? ` Its window resets at ${state.resetAt.slice(11, 16)} UTC and` : state?.limit ? ' Its window is fixed and' : ' It';
  return (
    `rate limited: ${rl.limited} requests${policy}. This is the backend's rate limiter, not overload` +
    `${rl.countedAsErrors ? ' (counted as errors: --count-429)' : ' (left out of the error rate)'}.${window}` +
    ` is shared by every client behind this address, so an earlier run may have used it up.`
  );
}

const REDIS_HINT =
  'When Redis is down the backend answers every /api request 500 "Connection is closed." until it restarts; check Redis and restart the backend.';

/**
 * What the preflight's /api requests showed. Only an API that failed every one stopped the run; the
 * Redis hint needs its evidence: every answer a 500 while /health was ok, or a body saying the
 * connection is closed.
 */
function apiCheckHints(api: ApiCheck | null | undefined, healthOk: boolean): string[] {
  if (!api || refusesUs(api)) return []; // a refused token or oversized headers are said by the verdict
  const failures = api.failures ?? (api.ok ? [] : [{ status: api.status, detail: api.detail }]);
  if (!failures.length) return [];
  const connectionClosed = failures.some((f) => /connection is closed/i.test(f.detail ?? ''));
  const every500 = !api.ok && healthOk && failures.every((f) => f.status === 500);
  const redis = connectionClosed || every500 ? [REDIS_HINT] : [];
  const counted = sampleFailures(api);
  if (api.ok) {
    return [
      `The preflight's /api check: ${counted} before one answered ${api.status}: a flaky API, not a broken one; the load ran and its gates judged it.`,
      ...redis,
    ];
  }
  const last = `${api.path} answered ${api.status ?? api.detail}${api.detail && api.status ? `: ${api.detail}` : ''}`;
  const redirect = failures.some((f) => /^redirect to /.test(f.detail ?? ''));
  return [
    `API failing while /health is OK: ${last}${counted && api.sent && api.sent > 1 ? `; ${counted}` : ''}.`,
    ...redis,
    ...(redirect ? ['Redirects are not followed (that would measure another server): is BASE_URL the backend itself?'] : []),
    ...(!redis.length && !redirect ? ['Check the backend logs for what fails under /api.'] : []),
  ];
}

export function diagnose(r: RunRecord): string[] {
  const lines: string[] = [];
  if (r.health.start && !r.health.start.ok) lines.push(...healthHints(r.health.start, r.target));
  lines.push(...apiCheckHints(r.apiCheck, Boolean(r.health.start?.ok)));
  if (r.rateLimit.warning) lines.push(r.rateLimit.warning);
  if (r.auth.warning) lines.push(r.auth.warning);
  const limited = rateLimitLine(r);
  if (limited) lines.push(limited);
  if (r.rateLimit.spreadIps) {
    lines.push('--spread-ips was used: every request claimed its own client address, so the per-IP rate limiter did not cap this run (loopback only).');
  }
  if (r.abort) lines.push(`Aborted by the breaker: ${r.abort.reason}`);
  if (r.outcome === 'unhealthy' || r.outcome === 'refused') return lines; // no load: nothing else to say
  lines.push(...endingLines(r));
  if (r.health.end && !r.health.end.ok) {
    lines.push('/health failed after the load: the backend did not survive it.', ...healthHints(r.health.end, r.target));
  }
  const t = r.totals;
  if (t.requests === 0) return [...lines, noResponses(r)]; // no figures: no percentages of nothing
  const gate = (id: string) => r.gates.find((g) => g.id === id);
  if (gate('error-rate')?.passed === false) {
    const e = t.errors;
    const worst = [...r.endpoints].sort((a, b) => b.errorCount - a.errorCount)[0];
    lines.push(
      `High error rate (${t.errorRatePct.toFixed(1)} %): ${e.http5xx} server errors, ${e.http4xx} client errors, ` +
        `${e.rateLimited} rate limited, ${e.timeout} timeouts, ${e.transport} connection errors, ` +
        `${e.otherStatus} other unexpected statuses, ${e.notJson + e.badBody} bodies that failed their checks` +
        (worst?.errorCount ? `; most on ${worst.path}.` : '.'),
      ...errorHints(e),
    );
  }
  if (gate('p99')?.passed === false && t.latency) {
    const slow = r.endpoints.filter((e) => e.latency && e.latency.p99 >= (gate('p99')?.limit ?? Infinity)).map((e) => e.path);
    lines.push(
      `High response times (p99 ${t.latency?.p99} ms)${slow.length ? `, slowest: ${slow.join(', ')}` : ''}.`,
      'Check database query performance, review Sentry for slow endpoints, consider adding database indexes.',
    );
  }
  if (t.errors.timeout > 0) {
    const where = r.endpoints.filter((e) => e.errors.timeout).map((e) => `${e.path} (${e.errors.timeout})`);
    // An endpoint's known slowness explains only its own timeouts.
    const slow = r.endpoints.filter((e) => e.errors.timeout && e.fallback?.slowness).map((e) => ` ${e.path} ${e.fallback!.slowness}.`);
    lines.push(`Timeouts: ${where.join(', ')}.${slow.join('')}`);
  }
  if (t.errors.notJson > 0) {
    const where = r.endpoints.filter((e) => e.errors.notJson).map((e) => `${e.path} (${e.errors.notJson})`);
    lines.push(`Bodies that are not JSON: ${where.join(', ')}; a proxy or error page answered instead of the backend.`);
  }
  if (t.errors.badBody > 0) {
    const where = r.endpoints.filter((e) => e.errors.badBody).map((e) => `${e.path} (${e.errors.badBody})`);
    lines.push(`Bodies that failed their checks (the expected status, but the wrong shape or broken JSON): ${where.join(', ')}.`);
  }
  for (const redirect of r.redirects) {
    const path = r.endpoints.find((e) => e.name === redirect.endpoint)?.path ?? redirect.endpoint;
    lines.push(
      `${path} answered ${redirect.status} redirecting to ${redirect.location || '(no Location header)'}; redirects are not followed ` +
        '(that would measure another server): is BASE_URL the backend itself?',
    );
  }
  if (t.errors.transport > 0) {
    lines.push(`${t.errors.transport} connection errors (reset or refused mid-run): the backend or its proxy dropped connections, or the backend went down.`);
  }
  const authRejected = r.endpoints.reduce((n, e) => n + (e.codes['401'] ?? 0), 0);
  if ((r.auth.mode === 'token' || r.auth.mode === 'sign-in') && authRejected > 0) {
    const first = r.periods.find((p) => (p.codes['401'] ?? 0) > 0);
    lines.push(
      `The token was rejected ${authRejected} times (401)` +
        (first ? ` from ${new Date(first.start).toISOString().slice(11, 19)} UTC on` : '') +
        ': it expired or was revoked mid-run, or lacks the email / app_metadata.org_id claims. ' +
        (r.auth.mode === 'token' ? 'For long runs use the sign-in variables, which renew the token.' : 'Check the account in Supabase.'),
    );
  }
  if (t.crashedUsers > 0) lines.push(`${t.crashedUsers} users stopped on a connection error or timeout before their planned end.`);
  for (const e of r.endpoints.filter((x) => x.fallbackAnswers > 0)) {
    lines.push(`${e.path} answered ${e.fallback?.body ?? 'its fallback'} ${e.fallbackAnswers} times: ${e.fallback?.meaning ?? 'something behind it failed'}.`);
  }
  for (const g of r.gates.filter((x) => x.endpoint && !x.passed && x.value !== null)) {
    lines.push(`${g.endpoint} p95 ${g.value} ms is over its ${g.limit} ms budget${g.strict ? '' : ' (warning)'}.`);
  }
  return lines;
}

/** The guide's hints for a high error rate, each for the kind of error it explains. */
function errorHints(e: RunRecord['totals']['errors']): string[] {
  const hints: string[] = [];
  if (e.http5xx) hints.push('Server errors: check the backend logs for exceptions and verify database connectivity.');
  if (e.timeout || e.transport) hints.push('Timeouts and dropped connections: check whether the server is memory/CPU constrained.');
  if (e.http4xx) hints.push('Client errors: check BASE_URL, the paths and the token.');
  return hints;
}

/** How the run ended, when that limits what the record can say. */
function endingLines(r: RunRecord): string[] {
  const lines: string[] = [];
  const e = r.ending;
  if (e.unknownSeconds > 0) {
    lines.push(`Artillery was killed: the last ${e.unknownSeconds} s of load are unknown (the record keeps what the workers had measured until then).`);
  }
  if (e.inFlight > 0) lines.push(`${e.inFlight} requests were still in flight when the users were stopped: sent, never answered, not counted.`);
  if (e.unreportedPeriods > 0 && r.outcome !== 'passed') {
    lines.push(`${e.unreportedPeriods} period(s) at the end come from the workers' own record: Artillery stopped before reporting them.`);
  }
  return lines;
}

/** What to say when no response was recorded at all, and why. */
function noResponses(r: RunRecord): string {
  if (r.outcome === 'interrupted' && !r.loadStartedAt) return 'No responses were recorded: the run was stopped before the load started.';
  if (r.outcome === 'interrupted') return 'No responses were recorded: the run was stopped before the first answer came back.';
  if (r.outcome === 'crashed') return `No responses were recorded: ${r.reason}`;
  if (r.outcome === 'aborted') return 'No responses were recorded before the breaker stopped the load.';
  return 'No responses were recorded: the target answered nothing during the load (check that it is up and that BASE_URL is right).';
}
