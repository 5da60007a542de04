// The Artillery scenario in scenarios/, read as data: the runner completes it for each run.
import { join, relative } from 'node:path';
import { readYaml, ROOT } from './config';
import { UsageError } from './errors';

export interface Scenario {
  config: Record<string, any>;
  before?: unknown;
  after?: unknown;
  scenarios: Array<{ name?: string; flow: unknown[]; [key: string]: unknown }>;
}

export const SCENARIO_FILE = join(ROOT, 'scenarios', 'journey.yml');

export function loadScenario(file = SCENARIO_FILE): Scenario {
  const data = readYaml(file);
  const s = data as Partial<Scenario> | null;
  if (!s || typeof s !== 'object' || typeof s.config !== 'object' || !Array.isArray(s.scenarios) || !s.scenarios.length) {
    throw new UsageError(`${relative(process.cwd(), file)} needs a config section and at least one scenario; fix the file`);
  }
  return s as Scenario;
}

/** The named requests of the scenario's flows, in order, once per name. */
export function scenarioEndpoints(s: Scenario): Array<{ name: string; path: string }> {
  const found = new Map<string, string>();
  const visit = (steps: unknown): void => {
    if (!Array.isArray(steps)) return;
    for (const step of steps as Array<Record<string, any>>) {
      const req = step.get ?? step.post ?? step.put ?? step.patch ?? step.delete;
      if (req?.name && !found.has(req.name)) found.set(req.name, String(req.url));
      if (step.loop) visit(step.loop);
    }
  };
  for (const scenario of s.scenarios) visit(scenario.flow);
  return [...found].map(([name, path]) => ({ name, path }));
}
