// What the stand-in does besides the contract: seeded draws of latency and of the share-based
// faults (hang, reset, 500, garbage), and the queue of a backend with a known capacity.
import type { Endpoint } from '../catalog/contract';
import type { FaultRates } from './options';

type Baseline = Endpoint['baseline'];

/** mulberry32: a tiny seeded PRNG, so a run with --seed draws the same latencies and faults. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The latency (ms) at quantile u (0..1) of a piecewise-linear distribution through the baseline's
 * p50/p95/p99, so that uniform draws reproduce the baseline percentiles.
 */
export function latencyQuantileMs(b: Baseline, u: number): number {
  const points: Array<[number, number]> = [
    [0, b.p50 / 3],
    [0.5, b.p50],
    [0.95, b.p95],
    [0.99, b.p99],
    [1, b.p99 * 1.2],
  ];
  const q = Math.min(1, Math.max(0, u));
  for (let i = 1; i < points.length; i++) {
    const [u0, v0] = points[i - 1];
    const [u1, v1] = points[i];
    if (q <= u1) return v0 + ((v1 - v0) * (q - u0)) / (u1 - u0);
  }
  return points[points.length - 1][1];
}

export type Fault = 'none' | 'hang' | 'reset' | 'error' | 'garbage';

/** One draw per request, so each rate is exactly its share of requests. */
export function drawFault(rates: FaultRates, u: number): Fault {
  let edge = rates.hang;
  if (u < edge) return 'hang';
  if (u < (edge += rates.reset)) return 'reset';
  if (u < (edge += rates.error)) return 'error';
  if (u < edge + rates.garbage) return 'garbage';
  return 'none';
}

/** What a proxy in front of a crashed app answers: 200 with an HTML page. */
export const GARBAGE_REPLY = { status: 200, headers: { 'content-type': 'text/html' }, body: '<html>upstream error</html>' };

/**
 * A server with `concurrency` workers, each busy for `serviceMs` per request; the rest wait in
 * arrival order. Its throughput is at most concurrency / serviceMs requests per millisecond.
 */
export class ServiceQueue {
  private busy = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  /** The most requests that ever waited at once. */
  maxQueued = 0;

  constructor(
    readonly concurrency: number,
    readonly serviceMs: number,
  ) {}

  /** Calls `done` once the request has been served: after its wait in the queue and its service time. */
  serve(done: () => void): void {
    this.waiting.push(done);
    this.maxQueued = Math.max(this.maxQueued, this.waiting.length - Math.max(0, this.concurrency - this.busy));
    this.next();
  }

  private next(): void {
    while (this.busy < this.concurrency && this.waiting.length) {
      const done = this.waiting.shift() as () => void;
      this.busy++;
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.busy--;
        done();
        this.next();
      }, this.serviceMs);
      this.timers.add(timer);
    }
  }

  /** Drops every waiting and in-service request (the server is closing). */
  clear(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.waiting.length = 0;
    this.busy = 0;
  }
}
