// The breaker on a distributed worker (the bundle's `before` hook, in Artillery's main thread of
// each Fargate task or Lambda): the pack's plugin does not travel, so this watches the worker's own
// periods and /health with the same decisions (src/record/breaker.ts). When it trips, the worker's
// users send nothing more and leave; Artillery then ends the worker as usual, so its output (with the
// stop as a counter) still reaches the combined result. The preflight ran once, on the machine that
// started the workers, before any of them started.
import { hostname } from 'node:os';
import { BroadcastChannel } from 'node:worker_threads';
import type { VUContext, VUEvents } from 'artillery';
import { afterHealth, afterPeriod, breakerStart, workerName, workerStopCounter, type BreakerTrip } from '../src/record/breaker';
import { periodMs } from '../src/catalog/contract';
import { logLine } from '../src/shared/log';
import { checkHealth } from '../src/checks/health';
import { RECORDER_CHANNEL, type RecorderRequest } from '../src/channel/recorder';
import { loadRunConfig } from './read-run-config';

type Done = (err?: Error | null) => void;
type GlobalEvents = { globalEvents?: NodeJS.EventEmitter };

/** Artillery's worker id on Fargate and Lambda (WORKER_ID); elsewhere the machine and process. */
export const workerId = (): string => workerName(process.env.WORKER_ID ?? `${hostname()}-${process.pid}`);

export function startWorkerBreaker(context: VUContext, _events: VUEvents, done: Done): void {
  loadRunConfig(context).then((config) => {
    const limits = config.breaker;
    const events = (globalThis as { artillery?: GlobalEvents }).artillery?.globalEvents;
    if (!limits || !events) return done();
    const worker = workerId();
    const target = String(context.vars.target);
    const channel = new BroadcastChannel(RECORDER_CHANNEL);
    channel.unref();
    let state = breakerStart();
    let tripped: BreakerTrip | undefined;
    let timer: NodeJS.Timeout | undefined;
    const trip = (t: BreakerTrip) => {
      if (tripped) return;
      tripped = t;
      clearInterval(timer);
      logLine(`Breaker on worker ${worker}: ${t.reason} Stopping this worker's load.`);
      // Said again each second: a thread whose first user comes later still hears it.
      const tell = () => channel.postMessage({ stop: true, breakerCounter: workerStopCounter(t.cause, worker) } satisfies RecorderRequest);
      tell();
      setInterval(tell, 1000).unref();
    };
    events.on('stats', (stats: { counters?: Record<string, number> }) => {
      if (tripped) return;
      const next = afterPeriod(state, stats.counters ?? {}, limits, periodMs(config.contract));
      state = next.state;
      if (next.trip) trip(next.trip);
    });
    events.once('phaseStarted', () => {
      timer = setInterval(() => {
        void checkHealth(target, config.healthTimeoutMs).then((h) => {
          const t = afterHealth(h);
          if (t) trip(t);
        });
      }, limits.healthEverySeconds * 1000);
      timer.unref();
    });
    done();
  }, done);
}
