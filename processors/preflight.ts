// The checks before and after the load, run once in Artillery's main thread (its before/after hooks);
// what they check and decide: src/artillery/preflight.ts. Artillery keeps no metrics of these hooks,
// so the results go on the event channel.
import type { VUContext, VUEvents } from 'artillery';
import { channelDir, writeEvent, type PreflightEvent, type RunConfig } from '../src/channel/channel';
import { EXIT, UsageError } from '../src/common/errors';
import { checkHealth } from '../src/checks/health';
import { logLine } from '../src/common/log';
import { preflightExitCode, preflightLines, runPreflight } from '../src/artillery/preflight';
import { loadRunConfig, runConfig } from './read-run-config';

type Done = (err?: Error | null) => void;
type ArtilleryShutdown = { shutdown?: (opts: { exitCode: number }) => Promise<void> };

let stopped = false;

const shutdown = async (exitCode: number) => {
  stopped = true;
  await (globalThis.artillery as unknown as ArtilleryShutdown).shutdown?.({ exitCode });
};

export function preflight(context: VUContext, _events: VUEvents, done: Done): void {
  const target = String(context.vars.target);
  const stopBeforeLoad = async (event: PreflightEvent, exitCode: number) => {
    writeEvent(channelDir(), event);
    await shutdown(exitCode);
  };
  (async () => {
    let config: RunConfig;
    try {
      config = await loadRunConfig(context);
    } catch (err) {
      // Plain `npx artillery run` with bad input (e.g. an unknown profile): the pack's one line, exit 2.
      if (!(err instanceof UsageError)) throw err;
      logLine(`error: ${err.message}`);
      return shutdown(EXIT.badInput);
    }
    const event = await runPreflight(target, config);
    preflightLines(event).forEach((line) => logLine(line));
    if (event.verdict === 'go') {
      writeEvent(channelDir(), event);
      return done();
    }
    return stopBeforeLoad(event, preflightExitCode(event));
  })().catch(done);
}

export function checkHealthAfterLoad(context: VUContext, _events: VUEvents, done: Done): void {
  if (stopped) return done();
  const config = runConfig(context);
  checkHealth(String(context.vars.target), config.healthTimeoutMs).then((result) => {
    writeEvent(channelDir(), { type: 'health-end', result });
    done();
  }, done);
}
