// How each response counts, decided once (the processors only wire these to Artillery's events):
// an error is a status outside the request's expected set (a redirect too: redirects are not
// followed), or a body that is not JSON; a 429 counts apart (the rate limiter, not overload) and as
// an error only with --count-429; a 200 that is the endpoint's declared fallback counts apart too;
// an expected status whose body failed its checks is an error of kind "bad body". These functions
// run on every response: keep them small.
import { counter } from '../common/metrics';

/** A response as the processor sees it: what the classification reads of it. */
export interface RawResponse {
  status: number;
  /** The content-type header, '' when absent. */
  contentType: string;
  body: unknown;
}

export interface ResponseVerdict {
  /** The status was outside the expected set (an error, or a 429). */
  unexpected: boolean;
  /** Not JSON by its content type (an error). */
  notJson: boolean;
  /** Counts in the error rate. */
  error: boolean;
  rateLimited: boolean;
  redirect: boolean;
  /** A 200 that is the endpoint's declared fallback (see config/contract.yml). */
  fallback: boolean;
}

const JSON_TYPE = /json/i;

export function classifyResponse(res: RawResponse, o: { expected: readonly number[]; count429: boolean; fallback?: string }): ResponseVerdict {
  const status = res.status;
  const rateLimited = status === 429;
  const unexpected = !o.expected.includes(status);
  const notJson = !unexpected && !JSON_TYPE.test(res.contentType);
  return {
    unexpected,
    notJson,
    error: (unexpected && (!rateLimited || o.count429)) || notJson,
    rateLimited,
    redirect: status >= 300 && status < 400,
    fallback: status === 200 && o.fallback !== undefined && isFallback(res.body, o.fallback),
  };
}

/** The counters a classified response adds 1 to. */
export function responseCounters(name: string, status: number, v: ResponseVerdict): string[] {
  const out: string[] = [counter.requests];
  if (v.error) out.push(counter.errors);
  if (v.rateLimited) out.push(counter.rateLimited);
  if (v.unexpected) out.push(counter.unexpected(name, status));
  if (v.notJson) out.push(counter.notJson(name));
  if (v.fallback) out.push(counter.fallback(name));
  return out;
}

/** The body is the fallback's JSON, whatever its whitespace (checked only on short bodies). */
export function isFallback(body: unknown, fallback: string): boolean {
  const text = String(body ?? '');
  return text.length <= fallback.length * 4 && text.replace(/\s+/g, '') === fallback;
}

/** Transport errors and timeouts (no response): the counters they add 1 to; they count as errors. */
export function transportCounters(name: string, code: string): string[] {
  const timeout = /TIMEDOUT|TIMEOUT/i.test(code);
  return timeout
    ? [counter.requests, counter.errors, counter.timeouts, counter.timeoutOf(name)]
    : [counter.requests, counter.errors, counter.transportOf(name, code)];
}

/**
 * The counters a response whose body checks failed adds 1 to: the failed checks once per response,
 * and a "bad body" error when nothing else already counted it (its status expected, its body JSON).
 */
export function bodyCounters(name: string, v: Pick<ResponseVerdict, 'unexpected' | 'notJson'> | undefined): string[] {
  return v && !v.unexpected && !v.notJson ? [counter.expectationFailed(name), counter.errors, counter.badBody(name)] : [counter.expectationFailed(name)];
}

const TEMPLATE = /\{\{\s*(\w+)\s*\}\}/g;

/**
 * The statuses a request expects, from its own `expect` list (200 when it names none); a status
 * taken from the user's variables (`{{ name }}`) is filled in. `cache` keeps each literal list's
 * answer (Artillery passes the same list with every request); templated lists differ between users.
 */
export function expectedStatuses(checks: ReadonlyArray<Record<string, unknown>>, vars: Record<string, unknown>, cache: WeakMap<object, number[]>): number[] {
  const known = cache.get(checks);
  if (known) return known;
  const specs = [checks.find((c) => 'statusCode' in c)?.statusCode ?? 200].flat().map(String);
  const statuses = specs.map((s) => Number(s.replace(TEMPLATE, (_, v: string) => String(vars[v]))));
  if (!specs.some((s) => s.includes('{{'))) cache.set(checks, statuses);
  return statuses;
}

/** An expectation that failed, as the expect plugin reports it. */
export interface ExpectResult {
  ok: boolean;
  type: string;
  expected: unknown;
  got: unknown;
}

/** How many failures of each endpoint's check were printed (per worker). */
export interface PrintedFailures {
  counts: Map<string, number>;
  /** The most printed per endpoint and check: enough to see what is wrong. */
  limit: number;
}

export const printedFailures = (limit: number): PrintedFailures => ({ counts: new Map(), limit });

/** The lines to print for a response's failed checks: each check's first `limit` failures, briefly. */
export function failureLines(s: PrintedFailures, name: string, failed: ExpectResult[]): string[] {
  const lines: string[] = [];
  for (const r of failed) {
    const key = `${name} ${r.type}`;
    const count = (s.counts.get(key) ?? 0) + 1;
    s.counts.set(key, count);
    if (count > s.limit) continue;
    const more = count === s.limit ? ' (further failures of this check are counted, not printed)' : '';
    lines.push(`expectation failed: ${name} ${r.type}: expected ${brief(r.expected)}, got ${brief(r.got)}${more}`);
  }
  return lines;
}

/** A value as at most 80 characters of text. */
export function brief(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
