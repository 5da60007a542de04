// The workers' flight recorder. Artillery sends a worker's metrics to its main thread only when a
// period (config/contract.yml's periodSeconds) closes, so a run that ends early (Ctrl-C, SIGTERM, the breaker, a killed process)
// would lose the open period. Every worker therefore keeps its own copy of the counters and
// latency histograms of its recent periods, exactly as Artillery buckets them, and posts them to
// the main thread (plugins/artillery-plugin-voxanne) every second and whenever it is asked.
import { BroadcastChannel, threadId } from 'node:worker_threads';
import { RECORDER_CHANNEL, RecorderRequest, type RedirectNote, type WorkerReport } from '../src/channel/recorder';
import { addInto, asEvent, keptHistogram, newSketch, type Bucket } from '../src/record/buckets';
import { counter } from '../src/common/metrics';
import { watchGenerator } from '../src/artillery/generator-watch';

// Artillery reports a period within about one period of its end: keep a generous margin.
const KEEP_PERIODS = 4;
let periodLengthMs = 0; // set by attachRecorder from the run's contract catalog
const POST_EVERY_MS = 1000;

const buckets = new Map<number, Bucket>();
// A capacity search judges steps on whole seconds: the same data, bucketed by second (only then).
const seconds = new Map<number, Bucket>();
let perSecond = false;
let arrived = 0;
// Users numbered below this may send; the others wait (a capacity search sets it; others never do).
let allowedUsers = Infinity;
let waiting: Array<{ index: number; go: () => void }> = [];
const attached = new WeakSet<object>();
let userEvents: NodeJS.EventEmitter | undefined;
let breakerCounted = false;
let sent = 0;
let settled = 0;
let changed = false;
let channel: BroadcastChannel | undefined;
let stopping = false;

/** True once the main thread said the run is ending: users leave instead of starting new journeys. */
export const runIsStopping = (): boolean => stopping;

// The bucket of the latest measurement and the end of its span: most measurements go into it.
let current: Bucket | undefined;
let currentEnd = 0;

function bucketIn(map: Map<number, Bucket>, lengthMs: number, now: number): Bucket {
  const period = now - (now % lengthMs);
  let b = map.get(period);
  if (!b) {
    b = { period, first: now, last: now, counters: {}, histograms: {} };
    map.set(period, b);
    if (map === buckets) for (const old of buckets.keys()) if (old < now - KEEP_PERIODS * periodLengthMs) buckets.delete(old);
  }
  b.last = now;
  return b;
}

/**
 * The bucket a measurement goes into now: the period's; in a capacity search the second's only (its
 * seconds are folded into their periods once, when reported: one bucket per event on the hot path).
 * A bucket leaves its map only once its span is over, so the cached one is still its map's.
 */
function bucketAt(now: number): Bucket {
  changed = true;
  if (current && now >= current.period && now < currentEnd) {
    current.last = now;
    current.event = undefined;
    return current;
  }
  const lengthMs = perSecond ? 1000 : periodLengthMs;
  current = bucketIn(perSecond ? seconds : buckets, lengthMs, now);
  currentEnd = current.period + lengthMs;
  current.event = undefined;
  return current;
}

/** A second that closed goes into its period, once. */
function fold(second: Bucket): void {
  const period = second.period - (second.period % periodLengthMs);
  if (!buckets.has(period)) bucketIn(buckets, periodLengthMs, second.first);
  addInto(buckets.get(period)!, second);
}

function count(name: string, value: number): void {
  const b = bucketAt(Date.now());
  b.counters[name] = (b.counters[name] ?? 0) + value;
}

/** Counts something Artillery counts outside the users' events (users created, completed, failed). */
export function record(name: string, value = 1): void {
  count(name, value);
}

/** A user arrived in this worker: its number, in arrival order. */
export function arrive(): number {
  return arrived++;
}

/** Calls `go` once user number `index` may send: at once, or when the search lets it in. Never once the run is stopping. */
export function whenAllowed(index: number, go: () => void): void {
  if (stopping) return; // the run is ending: the user sends nothing more (the plugin waits for those in flight)
  if (index < allowedUsers) return go();
  waiting.push({ index, go });
}

function allowUsers(users: number): void {
  allowedUsers = users;
  const now = waiting.filter((w) => w.index < users);
  waiting = waiting.filter((w) => w.index >= users);
  for (const w of now) w.go();
}

function report(): WorkerReport {
  const at = Date.now();
  if (!perSecond) return { worker: threadId, at, inFlight: Math.max(0, sent - settled), periods: [...buckets.values()].map(asEvent) };
  const closed = [...seconds.values()].filter((b) => b.period + 1000 <= at);
  for (const b of closed) {
    seconds.delete(b.period);
    fold(b);
  }
  // The periods with the seconds still open added to copies, so a report always holds everything measured.
  const open = [...seconds.values()];
  const periods = new Map([...buckets].map(([k, b]) => [k, b]));
  for (const b of open) {
    const period = b.period - (b.period % periodLengthMs);
    const base = periods.get(period);
    periods.set(
      period,
      addInto(
        base && base === buckets.get(period)
          ? addInto({ ...base, counters: {}, histograms: {} }, base)
          : (base ?? { period, first: b.first, last: b.last, counters: {}, histograms: {} }),
        b,
      ),
    );
  }
  return {
    worker: threadId,
    at,
    inFlight: Math.max(0, sent - settled),
    periods: [...periods.values()].sort((a, b) => a.period - b.period).map(asEvent),
    seconds: closed.map(asEvent),
    arrived,
  };
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
export function attachRecorder(events: NodeJS.EventEmitter, periodMs: number, capacitySearch = false): void {
  periodLengthMs = periodMs;
  if (capacitySearch && !perSecond) {
    perSecond = true;
    current = undefined;
    // Until the search says how many users may send, none does.
    if (allowedUsers === Infinity) allowedUsers = 0;
  }
  if (attached.has(events)) return;
  attached.add(events);
  userEvents = events;
  events.on('counter', (name: string, value: number) => {
    count(name, value);
    if (name === 'http.requests') sent += value;
    else if (name === counter.requests) settled += value;
  });
  events.on('histogram', (name: string, value: number) => {
    if (!keptHistogram(name)) return;
    (bucketAt(Date.now()).histograms[name] ??= newSketch()).accept(value);
  });
  if (!channel) {
    channel = new BroadcastChannel(RECORDER_CHANNEL);
    channel.unref();
    channel.onmessage = (message) => {
      // The other workers' reports travel on the same channel: only the main thread's requests are for this one.
      const parsed = RecorderRequest.safeParse((message as { data: unknown }).data);
      if (!parsed.success) return;
      const request = parsed.data;
      if (request.stop) stopping = true;
      if (request.breakerCounter && !breakerCounted) {
        // Artillery's metrics come from the users' events: the stop lands in this period of the output.
        breakerCounted = true;
        userEvents?.emit('counter', request.breakerCounter, 1);
      }
      if (request.users !== undefined && !request.stop) return allowUsers(request.users);
      post();
    };
    setInterval(() => changed && post(), POST_EVERY_MS).unref();
    watchGenerator(events);
  }
}
