// The breaker on a distributed worker (the bundle's `before` hook, in Artillery's main thread of
// each Fargate task or Lambda): the pack's plugin does not travel, so this watches the worker's own
// periods and /health with the same decisions (src/record/breaker.ts). When it trips, the worker's
// users send nothing more and leave; Artillery then ends the worker as usual, so its output (with the
// stop as a counter) still reaches the combined result. The preflight ran once, on the machine that
// started the workers, before any of them started.
import { hostname } from 'node:os';
import { BroadcastChannel } from 'node:worker_threads';
import type { VUContext, VUEvents } from 'artillery';
import { workerName, workerStopCounter, type BreakerTrip } from '../src/record/breaker';
import { watchBreaker } from '../src/artillery/breaker-watch';
import { periodMs } from '../src/catalog/contract';
import { logLine } from '../src/common/log';
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
    const channel = new BroadcastChannel(RECORDER_CHANNEL);
    channel.unref();
    const watch = watchBreaker({
      events,
      limits,
      periodMs: periodMs(config.contract),
      target: String(context.vars.target),
      healthTimeoutMs: config.healthTimeoutMs,
      onTrip: (t: BreakerTrip) => {
        watch.stop();
        logLine(`Breaker on worker ${worker}: ${t.reason} Stopping this worker's load.`);
        // Said again each second: a thread whose first user comes later still hears it.
        const tell = () => channel.postMessage({ stop: true, breakerCounter: workerStopCounter(t.cause, worker) } satisfies RecorderRequest);
        tell();
        setInterval(tell, 1000).unref();
      },
    });
    done();
  }, done);
}
