// The processor of scenarios/journey.yml. Artillery loads it in every worker (users) and in the main
// thread (the before/after health checks). Keep per-request work small: it runs on the hot path.
import type { AfterResponseHookFunction, BeforeRequestHookFunction, VUContext, VUEvents } from 'artillery';
import { planVisits, type Visit } from '../src/plan/users';
import { authorizationFor } from '../src/artillery/authorization';
import { checkBodies, COUNTED, expectedStatuses, type Counted } from './expectations';
import { classifyResponse, responseCounters, transportCounters } from '../src/record/responses';
import { arrive, attachRecorder, noteRedirect, record, runIsStopping, whenAllowed } from './recorder';
import { counter } from '../src/common/metrics';
import { loadRunConfig, runConfig } from './read-run-config';
import { periodMs, requestsByName, type RequestContract } from '../src/catalog/contract';

export { preflight, checkHealthAfterLoad } from './preflight';
export { startWorkerBreaker } from './worker-breaker';

type Done = (err?: Error | null) => void;

// Users are numbered in arrival order. All arrivals happen in one worker (Artillery runs
// arrivalCount phases on the first worker), so the recorder's counter numbers them.
let visits: Visit[] | undefined;

let catalog: Map<string, RequestContract> | undefined;

/** The contract catalog by request name, from the run's configuration (once per worker). */
const contractFor = (context: VUContext): Map<string, RequestContract> => (catalog ??= requestsByName(runConfig(context).contract));

/** beforeScenario: look up this user's planned stay and auth mode. */
export function startUser(context: VUContext, events: VUEvents, done: Done): void {
  loadRunConfig(context).then(() => welcome(context, events, done), done);
}

function welcome(context: VUContext, events: VUEvents, done: Done): void {
  const c = runConfig(context);
  visits ??= c.oneJourneyEach ? [] : planVisits(c.stages);
  const index = arrive();
  const visit = visits[Math.min(index, visits.length - 1)];
  context.vars.userIndex = index;
  // No planned stay: one journey (the loop checks the stay only after each journey).
  context.vars.leaveAt = visit ? Date.now() + (visit.leave - visit.arrive) * 1000 : Date.now();
  context.vars.authenticated = c.auth.mode !== 'probe';
  attachRecorder(events as unknown as NodeJS.EventEmitter, periodMs(c.contract), Boolean(c.capacity));
  record('vusers.created');
  checkBodies(events);
  // The gates' counters exist even when nothing fails (ensure fails a check on a missing metric):
  // a 0 once per user is enough, and keeps the per-response work small.
  for (const name of [counter.requests, counter.errors, counter.rateLimited, counter.timeouts]) events.emit('counter', name, 0);
  done();
}

/** afterScenario: the user left as planned (Artillery counts it too; the recorder keeps its own copy). */
export function endUser(_context: VUContext, _events: VUEvents, done: Done): void {
  record('vusers.completed');
  done();
}

/** Loop condition: the user journeys again until the planned stay is over, or the run is ending. */
export function stillVisiting(context: VUContext, next: (again: boolean) => void): void {
  next(Date.now() < context.vars.leaveAt && !runIsStopping());
}

/** A request's `ifTrue`: once the run is stopping (or this worker's breaker stopped it), the users send nothing more and leave. */
export function sending(): boolean {
  return !runIsStopping();
}

/** The pause between journeys (about 1 s), cut short when the stay ends so users leave on time. */
export function thinkBetweenJourneys(context: VUContext, _events: VUEvents, done: Done): void {
  if (runIsStopping()) return done();
  const pauseMs = Math.min(runConfig(context).thinkMs, context.vars.leaveAt - Date.now());
  setTimeout(done, Math.max(0, pauseMs));
}

/** Adds the Bearer token to the authenticated endpoints. The token never enters VU variables. */
export const authorize: BeforeRequestHookFunction = (req, context, _events, done) => {
  authorizationFor(runConfig(context).auth).then(
    (header) => {
      if (header) req.headers = { ...req.headers, authorization: header };
      done();
    },
    (err: Error) => done(err),
  );
};

/**
 * Scenario-level beforeRequest: a request named after a catalog endpoint gets the catalog's
 * expectations and `followRedirect: false` unless it sets its own (the runner already wrote them into
 * its scripts), and bearer endpoints get the token when the run is authenticated.
 * Before that, the user waits while a capacity search does not let it send, and sends nothing more
 * once the run is ending (Artillery times a request from when it is sent, so waiting costs nothing).
 */
export const followContract: BeforeRequestHookFunction = (req, context, events, done) => {
  whenAllowed(Number(context.vars.userIndex ?? 0), () => sendByContract(req, context, events, done));
};

const sendByContract: BeforeRequestHookFunction = (req, context, events, done) => {
  const entry = contractFor(context).get(String(req.name));
  if (!entry) return done();
  const withToken = context.vars.authenticated === true;
  const params = req as typeof req & { expect?: unknown; followRedirect?: boolean };
  params.expect ??= withToken ? entry.expectWithToken : entry.expectWithoutToken;
  params.followRedirect ??= false;
  if (!entry.bearer || !withToken) return done();
  return authorize(req, context, events, done);
};

/** Counts every response for the gates, as src/record/responses.ts classifies it. This runs on every response: keep it small. */
export const countResponse: AfterResponseHookFunction = (req, res, context, events, done) => {
  const name = String(req.name);
  const status = Number(res.statusCode);
  const c = runConfig(context);
  const verdict = classifyResponse(
    { status, contentType: String(res.headers?.['content-type'] ?? ''), body: res.body },
    { expected: expectedStatuses(req, context), count429: c.count429, fallback: status === 200 ? contractFor(context).get(name)?.fallback : undefined },
  );
  (res as unknown as { [COUNTED]: Counted })[COUNTED] = verdict;
  for (const counterName of responseCounters(name, status, verdict)) events.emit('counter', counterName, 1);
  if (verdict.redirect) noteRedirect(name, status, String(res.headers?.location ?? ''));
  done();
};

/**
 * --spread-ips (loopback targets only): each request claims its own client address, so the
 * backend's per-IP rate limiter (trust proxy 1 reads the last X-Forwarded-For entry) never caps it.
 */
let spreadAddress = 0;
export const spreadClientIp: BeforeRequestHookFunction = (req, _context, _events, done) => {
  const n = spreadAddress++ % 131072; // 198.18.0.0/15, the benchmarking range
  req.headers = { ...req.headers, 'x-forwarded-for': `198.${18 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}` };
  done();
};

/** Transport errors and timeouts: they count as errors too (the user stops, as in Artillery). */
export function countError(err: Error & { code?: string }, req: Record<string, unknown>, _context: VUContext, events: VUEvents, done: Done): void {
  for (const name of transportCounters(String(req.name), err.code ?? err.name)) events.emit('counter', name, 1);
  record('vusers.failed'); // the user stops here
  done();
}
