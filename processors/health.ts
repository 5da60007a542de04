// The before/after health checks, run once in Artillery's main thread. Artillery keeps no metrics of
// these hooks, so the results go to files in the run folder, where the runner reads them.
import type { VUContext, VUEvents } from 'artillery';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkHealth, type HealthResult } from '../src/health';

type Done = (err?: Error | null) => void;
type ArtilleryShutdown = { shutdown?: (opts: { exitCode: number }) => Promise<void> };

const timeoutMs = () => Number(process.env.VOXANNE_HEALTH_TIMEOUT_MS ?? 5000);

function save(file: string, result: HealthResult): void {
  const dir = process.env.VOXANNE_RUN_DIR;
  if (dir) writeFileSync(join(dir, file), JSON.stringify(result));
}

let startFailed = false;

export function checkHealthBeforeLoad(context: VUContext, _events: VUEvents, done: Done): void {
  checkHealth(String(context.vars.target), timeoutMs()).then(async (result) => {
    save('health-start.json', result);
    if (result.ok) return done();
    // No load against an unhealthy target: end the run before the first phase.
    startFailed = true;
    await (globalThis.artillery as unknown as ArtilleryShutdown).shutdown?.({ exitCode: 3 });
  }, done);
}

export function checkHealthAfterLoad(context: VUContext, _events: VUEvents, done: Done): void {
  if (startFailed) return done();
  checkHealth(String(context.vars.target), timeoutMs()).then((result) => {
    save('health-end.json', result);
    done();
  }, done);
}
