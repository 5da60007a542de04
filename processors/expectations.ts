// Reads the expected statuses from the request's own `expect` list (one place: the scenario), and
// prints expectation failures briefly, without the VU variables that the expect plugin would dump.
import type { VUContext, VUEvents } from 'artillery';
import { logLine } from '../src/log';
import { counter } from '../src/metrics';

interface ExpectResult {
  ok: boolean;
  type: string;
  expected: unknown;
  got: unknown;
}

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

export function reportFailedExpectations(events: VUEvents): void {
  const ee = events as unknown as NodeJS.EventEmitter;
  ee.on('plugin:expect:expectations', (outcome: { name: string; results: ExpectResult[] }) => {
    for (const r of outcome.results) {
      if (r.ok) continue;
      events.emit('counter', counter.expectationFailed(outcome.name), 1);
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
