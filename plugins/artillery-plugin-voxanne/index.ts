// Artillery plugin (main thread): the child's side of the event channel (src/channel/channel.ts).
//  - every period Artillery reports, with its raw histograms (Artillery's -o JSON drops them
//    and is not written on Ctrl-C), and the phase starts;
//  - what the workers measured that Artillery has not reported yet (processors/recorder.ts):
//    kept in tail.json while the run goes, and written as periods when the run ends early, so
//    Ctrl-C, SIGTERM, SIGHUP and the breaker lose nothing that was answered;
//  - ensure's verdicts, by gate id; how the run ended and what was still in flight;
//  - the breaker, which stops the load early when the run is clearly failing;
//  - the capacity search, which chooses each step's users from what the last steps measured;
//  - a clean ending: once the users are told to stop, the requests in flight may finish (up to a
//    limit) before the check after the load, so a slow but healthy backend reads as healthy.
import type { DDSketch } from '@artilleryio/sketches-js';
import { encodeSketch, mergeSketches } from '../../src/shared/sketches';
import { BroadcastChannel } from 'node:worker_threads';
import { judgeStep, nextStep, SECOND_MS, windowDone, type Decision, type StepResult } from '../../src/record/capacity';
import { channelDir, readRunConfig, writeEvent, writeTail, type PeriodEvent, type RunConfig } from '../../src/channel/channel';
import { checkHealth } from '../../src/checks/health';
import { logLine } from '../../src/shared/log';
import { counter, userChange } from '../../src/shared/metrics';
import { periodMs } from '../../src/catalog/contract';
import { PLAIN_PHASES_ENV } from '../../processors/read-run-config';
import { keepHistogram, RECORDER_CHANNEL, type RecorderRequest, type RedirectNote, type WorkerReport } from '../../processors/recorder';

export const LEGACY_METRICS_FORMAT = false;

interface PeriodStats {
  period: number | string;
  firstMetricAt: number;
  lastMetricAt: number;
  counters?: Record<string, number>;
  histograms?: Record<string, DDSketch>;
}

interface Script {
  config: { target?: string; variables?: Record<string, unknown>; phases?: unknown[]; http?: { timeout?: number } };
}

/** Before a capacity search's first step: the worker's first seconds run late (compiling, first connections). */
const WARM_UP_MS = 2000;

/** The longest wait for the requests in flight at the end: the request timeout, at most this. */
const DRAIN_LIMIT_MS = 15_000;

type Shutdown = (opts: { earlyStop: boolean; exitCode: number }) => Promise<void>;
type ArtilleryGlobal = {
  globalEvents?: NodeJS.EventEmitter;
  shutdown?: Shutdown;
  ext?: (e: { ext: string; method: (data: { earlyStop?: boolean; exitCode?: number }) => Promise<void> }) => void;
};
const artillery = () => (globalThis as { artillery?: ArtilleryGlobal }).artillery;

/** One period from the same period of several workers: counters add up, sketches merge exactly. */
function mergePeriods(parts: PeriodEvent[]): PeriodEvent {
  const counters: Record<string, number> = {};
  for (const p of parts) for (const [name, n] of Object.entries(p.counters)) counters[name] = (counters[name] ?? 0) + n;
  const names = new Set(parts.flatMap((p) => Object.keys(p.histograms)));
  const sketches = Object.fromEntries([...names].map((name) => [name, mergeSketches(parts.map((p) => p.histograms[name]))!]));
  return {
    type: 'period',
    period: parts[0].period,
    first: Math.min(...parts.map((p) => p.first)),
    last: Math.max(...parts.map((p) => p.last)),
    counters,
    histograms: Object.fromEntries(Object.entries(sketches).map(([n, s]) => [n, encodeSketch(s)])),
    unreported: true,
  };
}

/** The breaker's view: the last window's requests and failures, from the periods as they come. */
function breakerCheck(breaker: NonNullable<RunConfig['breaker']>, periodLengthMs: number) {
  const recent: Array<{ requests: number; failing: number }> = [];
  return (counters: Record<string, number>): string | undefined => {
    // Errors and 429s both mean the load is no longer measuring anything useful.
    recent.push({ requests: counters[counter.requests] ?? 0, failing: (counters[counter.errors] ?? 0) + (counters[counter.rateLimited] ?? 0) });
    const window = recent.slice(-Math.max(1, Math.round((breaker.windowSeconds * 1000) / periodLengthMs)));
    const requests = window.reduce((sum, p) => sum + p.requests, 0);
    const failing = window.reduce((sum, p) => sum + p.failing, 0);
    if ((window.length * periodLengthMs) / 1000 >= breaker.windowSeconds && requests > 0 && (failing / requests) * 100 > breaker.errorRatePct) {
      return `${Math.round((failing / requests) * 100)} % of requests failed or were rate limited over the last ${breaker.windowSeconds} s (limit ${breaker.errorRatePct} %).`;
    }
    return undefined;
  };
}

/**
 * The capacity search, live: sets how many users may send (the workers' users wait otherwise),
 * lets the queue settle, measures the step on whole seconds of the workers' own data until it has
 * enough responses, judges it, and chooses the next step from every step so far (src/record/capacity.ts).
 */
function capacitySearch(
  capacity: NonNullable<RunConfig['capacity']>,
  io: { allow: (users: number) => void; step: (r: StepResult) => void; done: (reason: string, timeUp: boolean) => void },
) {
  const { search, limits } = capacity;
  const seconds = new Map<number, PeriodEvent[]>();
  const arrived = new Map<number, number>();
  const reportedTo = new Map<number, number>();
  const steps: StepResult[] = [];
  let loadStart: number | undefined;
  let current: (Decision & { changedAt: number; from: number | null }) | undefined;
  let finished = false;
  let lastAllowAt = 0;

  const begin = (d: Decision, now: number) => {
    current = { ...d, changedAt: now, from: null };
    io.allow(d.users);
    lastAllowAt = now;
  };
  const finish = (reason: string, timeUp: boolean) => {
    finished = true;
    io.done(reason, timeUp);
  };
  return {
    report(w: WorkerReport) {
      for (const s of w.seconds ?? []) seconds.set(s.period, [...(seconds.get(s.period) ?? []), s]);
      if (w.arrived !== undefined) arrived.set(w.worker, w.arrived);
      reportedTo.set(w.worker, w.at - (w.at % SECOND_MS));
    },
    start(at: number) {
      loadStart ??= at;
    },
    tick(now: number) {
      if (finished || loadStart === undefined) return;
      if (!current) return begin(nextStep(steps, search, limits)!, now);
      // The workers may have missed a message sent before their first user: say it again, each second.
      if (now - lastAllowAt >= SECOND_MS) {
        io.allow(current.users);
        lastAllowAt = now;
      }
      const timeUp = now - loadStart >= search.maxSeconds * 1000;
      if (current.from === null) {
        if (timeUp) return finish(`the search's time bound (${search.maxSeconds} s) came before the step of ${current.users} users`, true);
        const users = [...arrived.values()].reduce((a, b) => a + b, 0);
        if (users < current.users) return; // the pool is still arriving
        // The queue settles within about one response time of the change.
        // The first step also waits for the worker to warm up (its first seconds run late).
        const settle = search.settleSeconds * 1000 + (steps.length ? Math.min(5000, steps[steps.length - 1].latency?.p99 ?? 0) : WARM_UP_MS);
        const from = Math.max(now, current.changedAt + settle);
        current.from = from - (from % SECOND_MS) + SECOND_MS;
        return;
      }
      const to = Math.min(...reportedTo.values());
      const whole = Math.floor((to - current.from) / SECOND_MS);
      if (whole < 1) return;
      const inWindow = [...seconds.entries()].filter(([t]) => t >= current!.from! && t < to).flatMap(([, parts]) => parts);
      const requests = inWindow.reduce((n, p) => n + (p.counters[counter.requests] ?? 0), 0);
      if (!windowDone(search, whole, requests) && !timeUp) return;
      const r = judgeStep({ ...current, since: current.changedAt, from: current.from, to: current.from + whole * SECOND_MS }, inWindow, limits);
      steps.push(r);
      io.step(r);
      for (const t of seconds.keys()) if (t < to) seconds.delete(t);
      const figures = `${r.requestsPerSecond} req/s, p99 ${r.latency?.p99 ?? '-'} ms, errors ${r.errorRatePct} %, generator CPU ${r.cpuPct ?? '-'} %`;
      const verdict = r.verdict === 'held' ? 'held' : r.verdict === 'broken' ? `BROKE ${r.broken.map((b) => b.gate).join(', ')}` : 'saturated the load generator';
      logLine(`Capacity: ${r.users} users ${verdict} (${figures}; ${r.seconds} s measured).`);
      const next = nextStep(steps, search, limits);
      if (!next) return finish('the search has its answer', false);
      if (timeUp) return finish(`the search's time bound (${search.maxSeconds} s) came`, true);
      const why = next.predicted ? ` (predicted: the ${next.predicted.gate} gate breaks at about ${next.predicted.users} users)` : '';
      logLine(`Capacity: next step ${next.users} users, ${next.phase}${why}.`);
      begin(next, now);
    },
  };
}

export class Plugin {
  constructor(script: Script, events: NodeJS.EventEmitter) {
    if (process.env.LOCAL_WORKER_ID !== undefined) return; // workers record through processors/recorder.ts
    let config: RunConfig;
    try {
      config = readRunConfig(script.config.variables);
    } catch {
      // A script without the pack's configuration (plain Artillery): nothing to record. Its phases go
      // to the processor, which makes users follow the profile's stays only with the profile's phases.
      process.env[PLAIN_PHASES_ENV] = JSON.stringify(script.config.phases ?? []);
      return;
    }
    const dir = channelDir(); // none under plain `npx artillery run`: the checks still work, nothing is recorded
    const delivered = new Set<number>();
    const workers = new Map<number, WorkerReport>();
    let users = 0;
    let stopping = false;
    let loadStart: number | undefined;
    let healthTimer: NodeJS.Timeout | undefined;

    const unreported = (): PeriodEvent[] => {
      const byPeriod = new Map<number, PeriodEvent[]>();
      for (const w of workers.values()) {
        for (const p of w.periods) if (!delivered.has(p.period)) byPeriod.set(p.period, [...(byPeriod.get(p.period) ?? []), p]);
      }
      return [...byPeriod.values()].map(mergePeriods).sort((a, b) => a.period - b.period);
    };
    const inFlight = () => [...workers.values()].reduce((n, w) => n + w.inFlight, 0);
    const saveTail = () => dir && writeTail(dir, { at: Date.now(), periods: unreported(), inFlight: inFlight() });

    const recorder = new BroadcastChannel(RECORDER_CHANNEL);
    recorder.unref();
    const redirects = new Set<string>();
    recorder.onmessage = (message) => {
      const data = (message as { data: WorkerReport | RedirectNote }).data;
      if ('redirect' in data) {
        if (!redirects.has(data.redirect.endpoint)) writeEvent(dir, { type: 'redirect', ...data.redirect });
        redirects.add(data.redirect.endpoint);
        return;
      }
      workers.set(data.worker, data);
      search?.report(data);
      saveTail();
    };
    /** Asks every worker for its report now; resolves after `ms` (replies arrive within a few ms). */
    const collect = (stop: boolean, ms: number) => {
      recorder.postMessage({ stop } satisfies RecorderRequest);
      return new Promise((resolve) => setTimeout(resolve, ms));
    };

    const abort = (reason: string) => {
      if (stopping) return;
      stopping = true;
      clearInterval(healthTimer);
      writeEvent(dir, { type: 'abort', at: Date.now(), reason });
      logLine(`Breaker: ${reason} Stopping the load.`);
      void artillery()?.shutdown?.({ earlyStop: true, exitCode: 1 });
    };

    // Artillery handles SIGINT and SIGTERM itself; SIGHUP (a closed terminal) would end it unrecorded.
    process.on('SIGHUP', () => void artillery()?.shutdown?.({ earlyStop: true, exitCode: 129 }));

    // Every ending goes through here, before Artillery stops its workers.
    artillery()?.ext?.({
      ext: 'beforeExit',
      method: async (data) => {
        stopping = true;
        clearInterval(healthTimer);
        clearInterval(searchTimer);
        let drainMs: number | undefined;
        if (data.earlyStop) {
          // The users send nothing more; those in flight may finish (up to the request timeout, at
          // most DRAIN_LIMIT_MS), so the check after the load does not queue behind them.
          const began = Date.now();
          const limit = Math.min(DRAIN_LIMIT_MS, (script.config.http?.timeout ?? 10) * 1000 + 500);
          await collect(true, 200);
          if (inFlight() > 0) logLine(`Waiting for ${inFlight()} requests in flight to finish (at most ${Math.round(limit / 1000)} s).`);
          while (inFlight() > 0 && Date.now() - began < limit) await collect(false, 200);
          drainMs = Date.now() - began;
        }
        for (const period of unreported()) writeEvent(dir, period);
        writeEvent(dir, { type: 'end', at: Date.now(), exitCode: data.exitCode ?? 0, earlyStop: Boolean(data.earlyStop), inFlight: inFlight(), ...(drainMs !== undefined && { drainMs }) });
        saveTail();
      },
    });

    // The capacity search ends the load itself once it has its answer (a successful run, exit 0).
    const search = config.capacity
      ? capacitySearch(config.capacity, {
          allow: (n) => recorder.postMessage({ stop: false, users: n } satisfies RecorderRequest),
          step: (step) => writeEvent(dir, { type: 'capacity-step', at: Date.now(), step }),
          done: (reason, timeUp) => {
            if (stopping) return;
            stopping = true;
            writeEvent(dir, { type: 'capacity-stop', at: Date.now(), reason, timeUp });
            logLine(`Capacity: stopping the load: ${reason}.`);
            void artillery()?.shutdown?.({ earlyStop: true, exitCode: 0 });
          },
        })
      : undefined;
    const searchTimer = search ? setInterval(() => !stopping && search.tick(Date.now()), 250) : undefined;
    searchTimer?.unref();

    const breaker = config.breaker;
    const tripped = breaker ? breakerCheck(breaker, periodMs(config.contract)) : undefined;
    if (breaker && script.config.target) {
      const target = script.config.target;
      // /health mid-run: cheap, not rate limited, and the first sign that the backend went down.
      events.once('phaseStarted', () => {
        healthTimer = setInterval(() => {
          void checkHealth(target, config.healthTimeoutMs).then((h) => {
            if (!h.ok && !stopping) abort(`/health went bad mid-run (${h.problem}${h.failingServices?.length ? `: ${h.failingServices.join(', ')} down` : ''}).`);
          });
        }, breaker.healthEverySeconds * 1000);
        healthTimer.unref();
      });
    }

    events.on('phaseStarted', (phase: { index?: number; name?: string; startTime?: number }) => {
      loadStart ??= phase.startTime ?? Date.now();
      search?.start(loadStart);
      writeEvent(dir, { type: 'phase', index: phase.index ?? 0, name: phase.name ?? '', at: phase.startTime ?? Date.now() });
    });

    events.on('stats', (stats: PeriodStats) => {
      const period = Number(stats.period);
      const counters = stats.counters ?? {};
      const histograms: Record<string, string> = {};
      for (const [name, sketch] of Object.entries(stats.histograms ?? {})) if (keepHistogram(name)) histograms[name] = encodeSketch(sketch);
      delivered.add(period);
      const event: PeriodEvent = { type: 'period', period, first: stats.firstMetricAt, last: stats.lastMetricAt, counters, histograms };
      writeEvent(dir, event);
      saveTail();
      const reason = tripped?.(counters);
      if (reason) abort(reason);
      users += userChange(counters);
      const p95 = stats.histograms?.['http.response_time']?.getValueAtQuantile(0.95);
      logLine(
        `${new Date(period).toISOString().slice(11, 19)}  users ${users}  requests ${counters[counter.requests] ?? 0}  errors ${counters[counter.errors] ?? 0}` +
          (p95 === undefined ? '' : `  p95 ${Math.round(p95)} ms`),
      );
    });

    // ensure's verdicts come back by expression: the configuration says which gate each one is.
    const gateOf = new Map(config.gates.map((g) => [g.expression, g.id]));
    artillery()?.globalEvents?.on('checks', (checks: Array<{ original: string; result: number }>) => {
      const gates: Record<string, boolean> = {};
      for (const c of checks) {
        const id = gateOf.get(c.original);
        if (id) gates[id] = c.result === 1;
      }
      writeEvent(dir, { type: 'verdicts', gates });
    });
  }
}
