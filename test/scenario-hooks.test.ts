// Artillery binds the scenario's hooks to the processor's exports by name: a renamed export would
// break runs silently. Every hook scenarios/journey.yml names must be a function processors/journey.ts exports.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';

const ROOT = join(__dirname, '..');
/** Keys whose value names a processor function (Artillery 2: scenario and request hooks, function steps, loops). */
const HOOK_KEYS = new Set(['beforeScenario', 'afterScenario', 'beforeRequest', 'afterResponse', 'onError', 'function', 'whileTrue']);

/** Every [key, name] under a hook key, anywhere in the document. */
function hookNames(node: unknown, found: Array<[string, string]> = []): Array<[string, string]> {
  if (Array.isArray(node)) {
    for (const item of node) hookNames(item, found);
  } else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (HOOK_KEYS.has(key)) {
        for (const name of [value].flat()) found.push([key, String(name)]);
      } else {
        hookNames(value, found);
      }
    }
  }
  return found;
}

test('every hook the scenario names is a function the processor exports', () => {
  const scenario = parse(readFileSync(join(ROOT, 'scenarios', 'journey.yml'), 'utf8'));
  const processor = require('../processors/journey') as Record<string, unknown>;
  const hooks = hookNames(scenario);
  // The scenario's own hooks, and the before/after flows' steps, are all found.
  for (const key of ['beforeScenario', 'afterResponse', 'onError', 'beforeRequest', 'function', 'whileTrue']) {
    assert.ok(hooks.some(([k]) => k === key), `no ${key} found: is the scenario still parsed right?`);
  }
  assert.ok(hooks.some(([, name]) => name === 'preflight') && hooks.some(([, name]) => name === 'checkHealthAfterLoad'));
  const missing = hooks.filter(([, name]) => typeof processor[name] !== 'function').map(([key, name]) => `${key}: ${name}`);
  assert.deepEqual(missing, [], 'hooks the processor does not export as functions');
});

test('the check catches a hook the processor lacks', () => {
  const hooks = hookNames({ scenarios: [{ beforeScenario: 'renamedAway', flow: [{ loop: [{ function: 'x' }], whileTrue: 'y' }] }] });
  assert.deepEqual(hooks, [['beforeScenario', 'renamedAway'], ['function', 'x'], ['whileTrue', 'y']]);
});
