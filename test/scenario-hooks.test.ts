// Artillery binds the scenario's hooks to the processor's exports by name: a renamed export would
// break runs silently. Every hook scenarios/journey.yml names must be a function processors/journey.ts exports.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';

const ROOT = join(__dirname, '..');
/**
 * Keys whose value names a processor function (Artillery 2: scenario and request hooks, function
 * steps, loops, a request's ifTrue; an ifTrue that names no function is read as an expression, and
 * a name it does not know skips the request silently).
 */
const HOOK_KEYS = new Set(['beforeScenario', 'afterScenario', 'beforeRequest', 'afterResponse', 'onError', 'function', 'whileTrue', 'ifTrue']);

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

/** The hooks a scenario names that the processor does not export as functions, as "key: name". */
const missingHooks = (scenario: unknown, processor: Record<string, unknown>): string[] =>
  hookNames(scenario)
    .filter(([, name]) => typeof processor[name] !== 'function')
    .map(([key, name]) => `${key}: ${name}`);

const scenario = () => parse(readFileSync(join(ROOT, 'scenarios', 'journey.yml'), 'utf8')) as unknown;
const processor = () => require('../processors/journey') as Record<string, unknown>;

test('every hook the scenario names is a function the processor exports', () => {
  const hooks = hookNames(scenario());
  // The scenario's own hooks, and the before/after flows' steps, are all found.
  for (const key of ['beforeScenario', 'afterResponse', 'onError', 'beforeRequest', 'function', 'whileTrue', 'ifTrue']) {
    assert.ok(
      hooks.some(([k]) => k === key),
      `no ${key} found: is the scenario still parsed right?`,
    );
  }
  assert.ok(hooks.some(([, name]) => name === 'preflight') && hooks.some(([, name]) => name === 'checkHealthAfterLoad'));
  assert.deepEqual(missingHooks(scenario(), processor()), [], 'hooks the processor does not export as functions');
});

test('the check names a hook the processor lost, and one the scenario misspells', () => {
  // The processor without one of its exports (a rename), and the scenario with a misspelt name.
  const { checkHealthAfterLoad: _gone, ...renamed } = processor();
  assert.deepEqual(missingHooks(scenario(), renamed), ['function: checkHealthAfterLoad']);
  const misspelt = parse(readFileSync(join(ROOT, 'scenarios', 'journey.yml'), 'utf8').replace('afterResponse: countResponse', 'afterResponse: countResponses'));
  assert.deepEqual(missingHooks(misspelt, processor()), ['afterResponse: countResponses']);
  // A name that is exported but is no function counts as missing too.
  assert.deepEqual(missingHooks({ flow: [{ function: 'PLAIN_PHASES' }] }, { PLAIN_PHASES: 'a string' }), ['function: PLAIN_PHASES']);
});
