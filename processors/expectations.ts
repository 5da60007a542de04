// Reads the expected statuses from the request's own `expect` list (one place: the scenario), turns
// failed body checks into errors, and prints expectation failures briefly, without the VU variables
// that the expect plugin would dump. The expect plugin parses each body once; its results arrive
// here as an event, so no body is parsed twice. What counts how: src/record/responses.ts.
import type { VUContext, VUEvents } from 'artillery';
import { logLine } from '../src/common/log';
import { bodyCounters, expectedStatuses as statusesOf, failureLines, printedFailures, type ExpectResult, type ResponseVerdict } from '../src/record/responses';

/** What countResponse decided about a response, for the body checks that come after it. */
export const COUNTED = Symbol('voxanne.counted');
export type Counted = Pick<ResponseVerdict, 'unexpected' | 'notJson'>;

// Per expect list of the scenario (Artillery passes the same list with every request): parsed once.
const parsed = new WeakMap<object, number[]>();

export function expectedStatuses(req: Record<string, any>, context: VUContext): number[] {
  return statusesOf(Array.isArray(req.expect) ? req.expect : [], context.vars, parsed);
}

const printed = printedFailures(3); // per endpoint and check, per worker: enough to see what is wrong
const listening = new WeakSet<object>();

/**
 * Once per worker (its users share one event emitter): a response whose status was expected but
 * whose body failed a check is an error of kind "bad body"; each failing response counts once.
 */
export function checkBodies(events: VUEvents): void {
  const ee = events as unknown as NodeJS.EventEmitter;
  if (listening.has(ee)) return;
  listening.add(ee);
  ee.on('plugin:expect:expectations', (outcome: { name: string; results: ExpectResult[] }, _req: unknown, res: { [COUNTED]?: Counted }) => {
    const failed = outcome.results.filter((r) => !r.ok);
    if (!failed.length) return;
    for (const name of bodyCounters(outcome.name, res?.[COUNTED])) events.emit('counter', name, 1);
    for (const line of failureLines(printed, outcome.name, failed)) logLine(line);
  });
}
