// The Artillery scenario in scenarios/, read as data: the runner completes it for each run.
import { join, relative } from 'node:path';
import { readYaml, ROOT } from './config';
import { endpointNamed, expectationsFor, type Contract, type Endpoint } from './contract';
import { UsageError } from '../common/errors';

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
function scenarioEndpoints(s: Scenario): Array<{ name: string; path: string }> {
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

/**
 * The catalog's entries of the scenario's requests, in the scenario's order. A request whose name is
 * not in the catalog, or whose path is not its entry's, is refused: its expectations would be unknown.
 */
export function scenarioContract(s: Scenario, contract: Contract, file = SCENARIO_FILE): Endpoint[] {
  const shown = relative(process.cwd(), file) || file;
  return scenarioEndpoints(s).map(({ name, path }) => {
    const entry = endpointNamed(contract, name);
    if (!entry) {
      throw new UsageError(`${shown}: request "${name}" is not in the contract catalog; add it to config/contract.yml (or VOXANNE_CONTRACT's file)`);
    }
    const pathOnly = path.split('?')[0];
    if (pathOnly.toLowerCase() !== entry.path.toLowerCase()) {
      throw new UsageError(`${shown}: request "${name}" goes to ${pathOnly}, but the contract catalog has ${entry.path}; make them agree`);
    }
    return entry;
  });
}

/**
 * Fills each named request's `expect` and `followRedirect: false` from the catalog (a request that
 * sets its own keeps them). `withToken`: bearer endpoints are called with a token (else probed).
 */
export function withContractExpectations(s: Scenario, contract: Contract, withToken: boolean): Scenario {
  const visit = (steps: unknown): void => {
    if (!Array.isArray(steps)) return;
    for (const step of steps as Array<Record<string, any>>) {
      const req = step.get ?? step.post ?? step.put ?? step.patch ?? step.delete;
      const entry = req?.name && endpointNamed(contract, req.name);
      if (entry) {
        req.expect ??= expectationsFor(entry, withToken);
        req.followRedirect ??= false;
      }
      if (step.loop) visit(step.loop);
    }
  };
  for (const scenario of s.scenarios) visit(scenario.flow);
  return s;
}
