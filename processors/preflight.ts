// The checks before and after the load, run once in Artillery's main thread (its before/after hooks).
// Artillery keeps no metrics of these hooks, so the results go to files in the run folder.
//  - before: /health must be ok; one cheap /api request must work too (the backend can answer
//    /health 200 while every /api request fails) and tells how much of the rate limit is left.
//  - after: /health again.
import type { VUContext, VUEvents } from 'artillery';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkApi, checkHealth, type ApiCheck, type HealthResult } from '../src/health';
import { logLine } from '../src/log';
import { rateLimitAdvice } from '../src/ratelimit';

type Done = (err?: Error | null) => void;
type ArtilleryShutdown = { shutdown?: (opts: { exitCode: number }) => Promise<void> };

export type PreflightVerdict = 'go' | 'unhealthy' | 'api-failing' | 'over-limit';

export interface Preflight {
  verdict: PreflightVerdict;
  health: HealthResult;
  api?: ApiCheck;
  /** The advice printed when the run would not fit in what is left of the rate limit. */
  rateLimitWarning?: string;
}

const timeoutMs = () => Number(process.env.VOXANNE_HEALTH_TIMEOUT_MS ?? 5000);

function save(file: string, data: object): void {
  const dir = process.env.VOXANNE_RUN_DIR;
  if (dir) writeFileSync(join(dir, file), JSON.stringify(data));
}

let stopped = false;

async function stopBeforeLoad(exitCode: number): Promise<void> {
  stopped = true;
  await (globalThis.artillery as unknown as ArtilleryShutdown).shutdown?.({ exitCode });
}

export function preflight(context: VUContext, _events: VUEvents, done: Done): void {
  const v = context.vars;
  const target = String(v.target);
  (async () => {
    const health = await checkHealth(target, timeoutMs());
    if (!health.ok) {
      save('preflight.json', { verdict: 'unhealthy', health } satisfies Preflight);
      return stopBeforeLoad(3);
    }
    const api = await checkApi(target, timeoutMs());
    if (!api.ok) {
      save('preflight.json', { verdict: 'api-failing', health, api } satisfies Preflight);
      return stopBeforeLoad(3);
    }
    const warning = v.spreadIps ? undefined : rateLimitAdvice(api.rateLimit, Number(v.apiEstimate), String(v.profileEstimates), Number(v.timeScale));
    if (warning) logLine(warning);
    if (warning && v.refuseOverLimit) {
      logLine('Refusing to start against production: add --yes (or VOXANNE_CONFIRM=yes) to run anyway.');
      save('preflight.json', { verdict: 'over-limit', health, api, rateLimitWarning: warning } satisfies Preflight);
      return stopBeforeLoad(2);
    }
    save('preflight.json', { verdict: 'go', health, api, rateLimitWarning: warning } satisfies Preflight);
    done();
  })().catch(done);
}

export function checkHealthAfterLoad(context: VUContext, _events: VUEvents, done: Done): void {
  if (stopped) return done();
  checkHealth(String(context.vars.target), timeoutMs()).then((result) => {
    save('health-end.json', result);
    done();
  }, done);
}
