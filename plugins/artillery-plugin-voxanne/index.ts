// Artillery plugin (main thread): appends every 10 s period with its raw histograms, the phase
// starts and ensure's verdicts to <run dir>/events.ndjson, and prints one progress line a period.
// Artillery's -o JSON drops histograms and is not written on Ctrl-C; this file survives both.
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DDSketch } from '@artilleryio/sketches-js';
import { logLine } from '../../src/log';
import { artilleryMetric, counter } from '../../src/metrics';
import type { RunEvent } from '../../src/events';

export const LEGACY_METRICS_FORMAT = false;

interface PeriodStats {
  period: number;
  firstMetricAt: number;
  lastMetricAt: number;
  counters?: Record<string, number>;
  histograms?: Record<string, DDSketch>;
}

const keepHistogram = (name: string) =>
  name === artilleryMetric.responseTime || name.startsWith(artilleryMetric.endpointHistogramPrefix);

export class Plugin {
  constructor(_script: unknown, events: NodeJS.EventEmitter) {
    const dir = process.env.VOXANNE_RUN_DIR;
    if (process.env.LOCAL_WORKER_ID !== undefined || !dir) return;
    const file = join(dir, 'events.ndjson');
    const write = (event: RunEvent) => appendFileSync(file, `${JSON.stringify(event)}\n`);
    let activeUsers = 0;

    events.on('phaseStarted', (phase: { index?: number; name?: string; startTime?: number }) => {
      write({ type: 'phase', index: phase.index ?? 0, name: phase.name ?? '', at: phase.startTime ?? Date.now() });
    });

    events.on('stats', (stats: PeriodStats) => {
      const counters = stats.counters ?? {};
      const histograms: Record<string, string> = {};
      for (const [name, sketch] of Object.entries(stats.histograms ?? {})) {
        if (keepHistogram(name)) histograms[name] = Buffer.from(sketch.toProto()).toString('base64');
      }
      activeUsers += (counters['vusers.created'] ?? 0) - (counters['vusers.completed'] ?? 0) - (counters['vusers.failed'] ?? 0);
      write({ type: 'period', period: Number(stats.period), first: stats.firstMetricAt, last: stats.lastMetricAt, counters, histograms });
      const requests = counters[counter.requests] ?? 0;
      const errors = counters[counter.errors] ?? 0;
      const p95 = stats.histograms?.[artilleryMetric.responseTime]?.getValueAtQuantile(0.95);
      const time = new Date(Number(stats.period)).toISOString().slice(11, 19);
      logLine(
        `${time}  users ${activeUsers}  requests ${requests}  errors ${errors}` +
          (p95 === undefined ? '' : `  p95 ${Math.round(p95)} ms`),
      );
    });

    const globalEvents = (globalThis as { artillery?: { globalEvents?: NodeJS.EventEmitter } }).artillery?.globalEvents;
    globalEvents?.on('checks', (checks: Array<{ original: string; result: number; strict: boolean }>) => {
      write({ type: 'checks', checks: checks.map((c) => ({ expression: c.original, passed: c.result === 1, strict: c.strict })) });
    });
  }
}
