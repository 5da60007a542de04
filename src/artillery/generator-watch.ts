// The load generator watches itself in every worker (processors/recorder.ts starts it): its thread's
// CPU and its event loop's delay, each second, as histograms a capacity search judges steps by.
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { generatorMetric } from '../common/metrics';

const SECOND_MS = 1000;
/** The event-loop delay monitor's resolution (ms): its samples include it. */
const RESOLUTION_MS = 10;
/** Linux counts CPU time in clock ticks of 10 ms. */
const TICK_MS = 10;

/** A thread's CPU time (ms) from its /proc stat line: utime + stime (fields 14 and 15, after the name). */
export function cpuMsOfStat(stat: string): number {
  const fields = stat.split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

/** CPU used over a wall-clock interval, as % of one core (at most 100). */
export const cpuPct = (cpuMs: number, wallMs: number): number => Math.min(100, (cpuMs / Math.max(1, wallMs)) * 100);

/** The worst event-loop delay (ms) from the monitor's max (ns): what is above its resolution. */
export const loopDelayMs = (maxNs: number, resolutionMs: number): number => Math.max(0, maxNs / 1e6 - resolutionMs);

/**
 * This thread's CPU time in ms. On Linux from /proc/thread-self (the worker's own thread: in a
 * worker, process.cpuUsage() counts every thread of the process); elsewhere the process's.
 */
function threadCpuMs(): number {
  try {
    return cpuMsOfStat(readFileSync('/proc/thread-self/stat', 'utf8'));
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
export function watchGenerator(events: NodeJS.EventEmitter): void {
  const delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  delay.enable();
  let cpu = threadCpuMs();
  let at = performance.now();
  setInterval(() => {
    const nowCpu = threadCpuMs();
    const now = performance.now();
    events.emit('histogram', generatorMetric.cpuPct, cpuPct(nowCpu - cpu, now - at));
    events.emit('histogram', generatorMetric.loopDelayMs, loopDelayMs(delay.max, RESOLUTION_MS));
    delay.reset();
    cpu = nowCpu;
    at = now;
  }, SECOND_MS).unref();
}
