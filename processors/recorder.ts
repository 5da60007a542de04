// The workers' flight recorder. Artillery sends a worker's metrics to its main thread only when a
// period (config/contract.yml's periodSeconds) closes, so a run that ends early (Ctrl-C, SIGTERM, the breaker, a killed process)
// would lose the open period. Every worker therefore keeps its own copy of the counters and
// latency histograms of its recent periods, exactly as Artillery buckets them, and posts them to
// the main thread (plugins/artillery-plugin-voxanne) every second and whenever it is asked.
import { DDSketch } from '@artilleryio/sketches-js';
import { encodeSketch } from '../src/record/record';
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { BroadcastChannel, threadId } from 'node:worker_threads';
import { generatorMetric } from '../src/record/capacity';
import type { PeriodEvent } from '../src/artillery/channel';
import { artilleryMetric, counter } from '../src/shared/metrics';

export const RECORDER_CHANNEL = 'voxanne-recorder';
// Artillery reports a period within about one period of its end: keep a generous margin.
const KEEP_PERIODS = 4;
let periodLengthMs = 0; // set by attachRecorder from the run's contract catalog
const POST_EVERY_MS = 1000;

/** A worker's report: its recent periods, and requests sent but not answered yet. */
export interface WorkerReport {
  worker: number;
  at: number;
  inFlight: number;
  periods: PeriodEvent[];
}

/** A request answered with a redirect (the first per endpoint and worker): where it pointed. */
export interface RedirectNote {
  redirect: { endpoint: string; status: number; location: string };
}

/** The main thread asks for a report now, and tells the users to stop when the run is ending early. */
export interface RecorderRequest {
  stop: boolean;
}

export const keepHistogram = (name: string): boolean =>
  name === artilleryMetric.responseTime || name.startsWith(artilleryMetric.endpointHistogramPrefix) || name.startsWith(generatorMetric.prefix);

/**
 * This thread's CPU time in ms. On Linux from /proc/thread-self (the worker's own thread: in a
 * worker, process.cpuUsage() counts every thread of the process); elsewhere the process's.
 */
function threadCpuMs(): number {
  try {
    const fields = readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, in clock ticks of 10 ms
  } catch {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  }
}

/**
 * The generator watches itself: every second, this worker's CPU (% of one core) and the worst
 * event-loop delay, as histograms in the period like any other metric. A capacity search reads
 * them to tell a saturated generator from a saturated backend.
 */
function watchGenerator(events: NodeJS.EventEmitter): void {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  let cpu = threadCpuMs();
  let at = performance.now();
  setInterval(() => {
    const nowCpu = threadCpuMs();
    const now = performance.now();
    events.emit('histogram', generatorMetric.cpuPct, Math.min(100, ((nowCpu - cpu) / Math.max(1, now - at)) * 100));
    // The histogram's samples include its 10 ms resolution: what is above it is the delay.
    events.emit('histogram', generatorMetric.loopDelayMs, Math.max(0, delay.max / 1e6 - 10));
    delay.reset();
    cpu = nowCpu;
    at = now;
  }, 1000).unref();
}

interface Bucket {
  period: number;
  first: number;
  last: number;
  counters: Record<string, number>;
  histograms: Record<string, DDSketch>;
}

const buckets = new Map<number, Bucket>();
const attached = new WeakSet<object>();
let sent = 0;
let settled = 0;
let changed = false;
let channel: BroadcastChannel | undefined;
let stopping = false;

/** True once the main thread said the run is ending: users leave instead of starting new journeys. */
export const runIsStopping = (): boolean => stopping;

function bucketAt(now: number): Bucket {
  const period = now - (now % periodLengthMs);
  let b = buckets.get(period);
  if (!b) {
    b = { period, first: now, last: now, counters: {}, histograms: {} };
    buckets.set(period, b);
    for (const old of buckets.keys()) if (old < now - KEEP_PERIODS * periodLengthMs) buckets.delete(old);
  }
  b.last = now;
  changed = true;
  return b;
}

/** Counts something Artillery counts outside the users' events (users created, completed, failed). */
export function record(name: string, value = 1): void {
  const b = bucketAt(Date.now());
  b.counters[name] = (b.counters[name] ?? 0) + value;
}

function report(): WorkerReport {
  const periods = [...buckets.values()].map(
    (b): PeriodEvent => ({
      type: 'period',
      period: b.period,
      first: b.first,
      last: b.last,
      counters: { ...b.counters },
      histograms: Object.fromEntries(Object.entries(b.histograms).map(([n, s]) => [n, encodeSketch(s)])),
    }),
  );
  return { worker: threadId, at: Date.now(), inFlight: Math.max(0, sent - settled), periods };
}

const redirected = new Set<string>();

export function noteRedirect(endpoint: string, status: number, location: string): void {
  if (redirected.has(endpoint)) return;
  redirected.add(endpoint);
  channel?.postMessage({ redirect: { endpoint, status, location } } satisfies RedirectNote);
}

function post(): void {
  changed = false;
  channel?.postMessage(report());
}

/**
 * Listens to a worker's user events (one emitter, shared by all its users): every counter and kept
 * histogram goes into the current period, as Artillery's own metrics do. Once per emitter.
 */
export function attachRecorder(events: NodeJS.EventEmitter, periodMs: number): void {
  periodLengthMs = periodMs;
  if (attached.has(events)) return;
  attached.add(events);
  events.on('counter', (name: string, value: number) => {
    const b = bucketAt(Date.now());
    b.counters[name] = (b.counters[name] ?? 0) + value;
    if (name === 'http.requests') sent += value;
    else if (name === counter.requests) settled += value;
  });
  events.on('histogram', (name: string, value: number) => {
    if (!keepHistogram(name)) return;
    const b = bucketAt(Date.now());
    (b.histograms[name] ??= new DDSketch({ relativeAccuracy: 0.01 })).accept(value);
  });
  if (!channel) {
    channel = new BroadcastChannel(RECORDER_CHANNEL);
    channel.unref();
    channel.onmessage = (message) => {
      if ((message as { data: RecorderRequest }).data.stop) stopping = true;
      post();
    };
    setInterval(() => changed && post(), POST_EVERY_MS).unref();
    watchGenerator(events);
  }
}
