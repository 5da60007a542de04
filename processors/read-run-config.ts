// The run's configuration read on the Artillery side, once per thread. The pack writes it into the
// script (`config.variables.voxanne`, src/artillery/write-run-config.ts); a plain
// `npx artillery run scenarios/journey.yml` has none, and then it is derived (src/artillery/plain-run.ts).
import type { VUContext } from 'artillery';
import { readRunConfig, type RunConfig } from '../src/channel/channel';
import { plainRunConfig } from '../src/artillery/plain-run';

let config: RunConfig | undefined;
let pending: Promise<RunConfig> | undefined;

/** The configuration, once loadRunConfig has resolved in this thread (every user's first hook awaits it). */
export function runConfig(context: VUContext): RunConfig {
  return (config ??= readRunConfig(context.vars));
}

export function loadRunConfig(context: VUContext): Promise<RunConfig> {
  if (config) return Promise.resolve(config);
  if (context.vars.voxanne) return Promise.resolve(runConfig(context));
  pending ??= plainRunConfig(context.vars).then((c) => (config = c));
  return pending;
}
