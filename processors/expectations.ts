// Reads the expected statuses from the request's own `expect` list (one place: the scenario), turns
// failed body checks into errors, and prints expectation failures briefly, without the VU variables
// that the expect plugin would dump. The expect plugin parses each body once; its results arrive
// here as an event, so no body is parsed twice.
import type { VUContext, VUEvents } from 'artillery';
import { logLine } from '../src/shared/log';
import { counter } from '../src/shared/metrics';

interface ExpectResult {
  ok: boolean;
  type: string;
  expected: unknown;
  got: unknown;
}

/** What countResponse decided about a response, for the body checks that come after it. */
export interface Counted {
  /** The status was outside the expected set (already an error, or a 429). */
  unexpected: boolean;
  /** Not JSON by its content type (already an error). */
  notJson: boolean;
}
export const COUNTED = Symbol('voxanne.counted');

// Per expect list of the scenario (Artillery passes the same list with every request): parsed once.
const parsed = new WeakMap<object, number[]>();
const TEMPLATE = /\{\{\s*(\w+)\s*\}\}/g;

export function expectedStatuses(req: Record<string, any>, context: VUContext): number[] {
  const checks: Array<Record<string, unknown>> = Array.isArray(req.expect) ? req.expect : [];
  const known = parsed.get(checks);
  if (known) return known;
  const specs = [checks.find((c) => 'statusCode' in c)?.statusCode ?? 200].flat().map(String);
  const statuses = specs.map((s) => Number(s.replace(TEMPLATE, (_, v) => context.vars[v])));
  // A status taken from the user's variables can differ between users: only literal lists are kept.
  if (!specs.some((s) => s.includes('{{'))) parsed.set(checks, statuses);
  return statuses;
}

const printed = new Map<string, number>();
const PRINT_LIMIT = 3; // per endpoint and check, per worker: enough to see what is wrong
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
    events.emit('counter', counter.expectationFailed(outcome.name), 1);
    const counted = res?.[COUNTED];
    if (counted && !counted.unexpected && !counted.notJson) {
      events.emit('counter', counter.errors, 1);
      events.emit('counter', counter.badBody(outcome.name), 1);
    }
    for (const r of failed) {
      const key = `${outcome.name} ${r.type}`;
      const count = (printed.get(key) ?? 0) + 1;
      printed.set(key, count);
      if (count <= PRINT_LIMIT) {
        const more = count === PRINT_LIMIT ? ' (further failures of this check are counted, not printed)' : '';
        logLine(`expectation failed: ${outcome.name} ${r.type}: expected ${brief(r.expected)}, got ${brief(r.got)}${more}`);
      }
    }
  });
}

function brief(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
