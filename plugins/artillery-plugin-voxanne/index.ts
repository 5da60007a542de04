// Artillery plugin (main thread): appends every 10 s period with its raw histograms, the phase
// starts and ensure's verdicts to <run dir>/events.ndjson, and prints one progress line a period.
// Artillery's -o JSON drops histograms and is not written on Ctrl-C; this file survives both.
// With a `breaker` in its config it also stops the load early when the run is clearly failing.
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DDSketch } from '@artilleryio/sketches-js';
import { logLine } from '../../src/log';
import { artilleryMetric, counter } from '../../src/metrics';
import type { RunEvent } from '../../src/events';
import { checkHealth } from '../../src/health';

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

interface BreakerConfig {
  errorRatePct: number;
  windowSeconds: number;
  healthEverySeconds: number;
}

interface Script {
  config: { target?: string; plugins?: { voxanne?: { breaker?: BreakerConfig | null } } };
}

type ArtilleryGlobal = {
  globalEvents?: NodeJS.EventEmitter;
  shutdown?: (opts: { earlyStop: boolean; exitCode: number }) => Promise<void>;
};
const artillery = () => (globalThis as { artillery?: ArtilleryGlobal }).artillery;

export class Plugin {
  constructor(script: Script, events: NodeJS.EventEmitter) {
    const dir = process.env.VOXANNE_RUN_DIR;
    if (process.env.LOCAL_WORKER_ID !== undefined || !dir) return;
    const file = join(dir, 'events.ndjson');
    const write = (event: RunEvent) => appendFileSync(file, `${JSON.stringify(event)}\n`);
    let activeUsers = 0;
    const breaker = script.config.plugins?.voxanne?.breaker ?? null;
    const recent: Array<{ requests: number; failing: number }> = [];
    let stopping = false;
    let healthTimer: NodeJS.Timeout | undefined;

    const abort = (reason: string) => {
      if (stopping) return;
      stopping = true;
      clearInterval(healthTimer);
      write({ type: 'abort', at: Date.now(), reason });
      logLine(`Breaker: ${reason} Stopping the load.`);
      void artillery()?.shutdown?.({ earlyStop: true, exitCode: 1 });
    };

    if (breaker && script.config.target) {
      const target = script.config.target;
      // /health mid-run: cheap, not rate limited, and the first sign that the backend went down.
      events.once('phaseStarted', () => {
        healthTimer = setInterval(() => {
          void checkHealth(target, 5000).then((h) => {
            if (!h.ok && !stopping) abort(`/health went bad mid-run (${h.problem}${h.failingServices?.length ? `: ${h.failingServices.join(', ')} down` : ''}).`);
          });
        }, breaker.healthEverySeconds * 1000);
        healthTimer.unref();
      });
      events.on('done', () => clearInterval(healthTimer));
    }

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
      if (breaker) {
        // Errors and 429s both mean the load is no longer measuring anything useful.
        recent.push({ requests: counters[counter.requests] ?? 0, failing: (counters[counter.errors] ?? 0) + (counters[counter.rateLimited] ?? 0) });
        const window = recent.slice(-Math.max(1, Math.round(breaker.windowSeconds / 10)));
        const requests = window.reduce((sum, p) => sum + p.requests, 0);
        const failing = window.reduce((sum, p) => sum + p.failing, 0);
        if (window.length * 10 >= breaker.windowSeconds && requests > 0 && (failing / requests) * 100 > breaker.errorRatePct) {
          abort(`${Math.round((failing / requests) * 100)} % of requests failed or were rate limited over the last ${breaker.windowSeconds} s (limit ${breaker.errorRatePct} %).`);
        }
      }
      const requests = counters[counter.requests] ?? 0;
      const errors = counters[counter.errors] ?? 0;
      const p95 = stats.histograms?.[artilleryMetric.responseTime]?.getValueAtQuantile(0.95);
      const time = new Date(Number(stats.period)).toISOString().slice(11, 19);
      logLine(
        `${time}  users ${activeUsers}  requests ${requests}  errors ${errors}` +
          (p95 === undefined ? '' : `  p95 ${Math.round(p95)} ms`),
      );
    });

    artillery()?.globalEvents?.on('checks', (checks: Array<{ original: string; result: number; strict: boolean }>) => {
      write({ type: 'checks', checks: checks.map((c) => ({ expression: c.original, passed: c.result === 1, strict: c.strict })) });
    });
  }
}
