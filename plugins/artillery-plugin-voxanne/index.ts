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
import { BroadcastChannel } from 'node:worker_threads';
import { watchBreaker } from '../../src/artillery/breaker-watch';
import { searchReport, searchStart, searchState, searchTick, type SearchAction } from '../../src/search/driver';
import { channelDir, readRunConfig, writeEvent, writeTail, type RunConfig } from '../../src/channel/channel';
import { RECORDER_CHANNEL, WorkerMessage, type RecorderRequest } from '../../src/channel/recorder';
import * as wp from '../../src/record/worker-periods';
import { logLine } from '../../src/common/log';
import { artilleryMetric, userChange } from '../../src/common/metrics';
import { periodMs } from '../../src/catalog/contract';
import { judgeByPhasesThatRan, PLAIN_PHASES_ENV } from '../../src/artillery/plain-run';

export const LEGACY_METRICS_FORMAT = false;

interface Script {
  config: { target?: string; variables?: Record<string, unknown>; phases?: unknown[]; http?: { timeout?: number } };
}

/** How often the capacity search looks at what the workers reported. */
const SEARCH_TICK_MS = 250;

/** The longest wait for the requests in flight at the end: the request timeout and a margin, at most this. */
const DRAIN_LIMIT_MS = 15_000;
const DRAIN_MARGIN_MS = 500;
/** How often the workers are asked for their report while the requests in flight drain. */
const DRAIN_POLL_MS = 200;
const P95 = 0.95;
/** What a process ended by SIGHUP exits with (128 + its number), as Artillery does for SIGINT and SIGTERM. */
const SIGHUP_EXIT = 129;

type Shutdown = (opts: { earlyStop: boolean; exitCode: number }) => Promise<void>;
type ArtilleryGlobal = {
  globalEvents?: NodeJS.EventEmitter;
  shutdown?: Shutdown;
  ext?: (e: { ext: string; method: (data: { earlyStop?: boolean; exitCode?: number }) => Promise<void> }) => void;
};
const artillery = () => (globalThis as { artillery?: ArtilleryGlobal }).artillery;

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
      judgeByPhasesThatRan(script.config);
      return;
    }
    const dir = channelDir(); // none under plain `npx artillery run`: the checks still work, nothing is recorded
    const periods = wp.workerPeriods();
    let users = 0;
    let stopping = false;
    let loadStart: number | undefined;

    const inFlight = () => wp.inFlight(periods);
    const saveTail = () => dir && writeTail(dir, { at: Date.now(), periods: wp.unreported(periods), inFlight: inFlight() });

    const recorder = new BroadcastChannel(RECORDER_CHANNEL);
    recorder.unref();
    recorder.onmessage = (message) => {
      const parsed = WorkerMessage.safeParse((message as { data: unknown }).data);
      if (!parsed.success) return; // not a worker's: a request another thread sent on the same channel
      const data = parsed.data;
      if ('redirect' in data) {
        if (wp.firstRedirect(periods, data)) writeEvent(dir, { type: 'redirect', ...data.redirect });
        return;
      }
      wp.noteReport(periods, data);
      if (search) searchReport(search, data);
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
      breaker?.stop();
      writeEvent(dir, { type: 'abort', at: Date.now(), reason });
      logLine(`Breaker: ${reason} Stopping the load.`);
      void artillery()?.shutdown?.({ earlyStop: true, exitCode: 1 });
    };

    // Artillery handles SIGINT and SIGTERM itself; SIGHUP (a closed terminal) would end it unrecorded.
    process.on('SIGHUP', () => void artillery()?.shutdown?.({ earlyStop: true, exitCode: SIGHUP_EXIT }));

    // Every ending goes through here, before Artillery stops its workers.
    artillery()?.ext?.({
      ext: 'beforeExit',
      method: async (data) => {
        stopping = true;
        breaker?.stop();
        clearInterval(searchTimer);
        let drainMs: number | undefined;
        if (data.earlyStop) {
          // The users send nothing more; those in flight may finish (up to the request timeout, at
          // most DRAIN_LIMIT_MS), so the check after the load does not queue behind them.
          const began = Date.now();
          const limit = wp.drainLimitMs(script.config.http?.timeout, DRAIN_LIMIT_MS, DRAIN_MARGIN_MS);
          await collect(true, DRAIN_POLL_MS);
          if (inFlight() > 0) logLine(`Waiting for ${inFlight()} requests in flight to finish (at most ${Math.round(limit / 1000)} s).`);
          while (inFlight() > 0 && Date.now() - began < limit) await collect(false, DRAIN_POLL_MS);
          drainMs = Date.now() - began;
        }
        for (const period of wp.unreported(periods)) writeEvent(dir, period);
        writeEvent(dir, {
          type: 'end',
          at: Date.now(),
          exitCode: data.exitCode ?? 0,
          earlyStop: Boolean(data.earlyStop),
          inFlight: inFlight(),
          ...(drainMs !== undefined && { drainMs }),
        });
        saveTail();
      },
    });

    // The capacity search (src/search/driver.ts) ends the load itself once it has its answer (a successful run, exit 0).
    const search = config.capacity ? searchState(config.capacity) : undefined;
    const act = (a: SearchAction) => {
      if (a.type === 'allow') recorder.postMessage({ stop: false, users: a.users } satisfies RecorderRequest);
      else if (a.type === 'step') writeEvent(dir, { type: 'capacity-step', at: Date.now(), step: a.step });
      else if (a.type === 'log') logLine(a.line);
      else if (!stopping) {
        stopping = true;
        writeEvent(dir, { type: 'capacity-stop', at: Date.now(), reason: a.reason, timeUp: a.timeUp });
        logLine(`Capacity: stopping the load: ${a.reason}.`);
        void artillery()?.shutdown?.({ earlyStop: true, exitCode: 0 });
      }
    };
    const searchTimer = search ? setInterval(() => !stopping && searchTick(search, Date.now()).forEach(act), SEARCH_TICK_MS) : undefined;
    searchTimer?.unref();

    events.on('phaseStarted', (phase: { index?: number; name?: string; startTime?: number }) => {
      loadStart ??= phase.startTime ?? Date.now();
      if (search) searchStart(search, loadStart);
      writeEvent(dir, { type: 'phase', index: phase.index ?? 0, name: phase.name ?? '', at: phase.startTime ?? Date.now() });
    });

    events.on('stats', (stats: wp.PeriodStats) => {
      const event = wp.delivered(periods, stats);
      const counters = event.counters;
      writeEvent(dir, event);
      saveTail();
      users += userChange(counters);
      logLine(wp.periodLine(event.period, users, counters, stats.histograms?.[artilleryMetric.responseTime]?.getValueAtQuantile(P95)));
    });

    // After the period's own listener above: a trip's abort follows the period that tripped it on the channel.
    const breaker =
      config.breaker &&
      watchBreaker({
        events,
        limits: config.breaker,
        periodMs: periodMs(config.contract),
        target: script.config.target,
        healthTimeoutMs: config.healthTimeoutMs,
        onTrip: (t) => abort(t.reason),
      });

    artillery()?.globalEvents?.on('checks', (checks: Array<{ original: string; result: number }>) => {
      writeEvent(dir, { type: 'verdicts', gates: wp.verdictsByGate(config.gates, checks) });
    });
  }
}
