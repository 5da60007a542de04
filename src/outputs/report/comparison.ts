// How this run compares with the previous run of its kind (same environment, target, profile and
// time scale: anything else would compare unlike loads): each gate and
// each endpoint's p95, p99 and error rate, as a Change (better, worse or about the same) and a
// count of each. Pure functions over two run records; html.ts only draws the result.
import type { EndpointSummary, Gate, RunRecord } from '../../record/record';
import type { LatencySummary } from '../../common/sketches';
import { change, gateDirection, measuredRequests, type Change, type Trend } from './format';

interface GateComparison {
  gate: Gate;
  before: Gate | undefined;
  change: Change | null;
}

interface EndpointComparison {
  e: EndpointSummary;
  before: EndpointSummary | undefined;
  p95: Change | null;
  p99: Change | null;
  err: Change | null;
}

export interface Comparison {
  gates: GateComparison[];
  endpoints: EndpointComparison[];
  /** How many figures got better, worse or stayed about the same (endpoint p95s are counted through their gates). */
  counts: Record<Trend, number>;
}

/** What makes two runs comparable: the same environment, target URL, profile and time scale. */
function kindOf(r: RunRecord): { environment: string; target: string; profile: string; timeScale: number } {
  return { environment: r.environment, target: r.target.replace(/\/+$/, ''), profile: r.profile.name, timeScale: r.timeScale };
}

/** An earlier run left out of the comparison, and how it differs. */
export interface Unlike {
  run: RunRecord;
  differs: Array<'time scale' | 'target'>;
}

/** One string per kind of run, for grouping (the index's trends). */
export const kindKey = (r: RunRecord): string => JSON.stringify(kindOf(r));

/**
 * How `other` differs from `r` when it is the same environment and profile but not the same kind:
 * its time scale, its target, or both; undefined when it is the same kind or differs in more.
 */
export function unlikeBy(r: RunRecord, other: RunRecord): Array<'time scale' | 'target'> | undefined {
  const a = kindOf(r);
  const b = kindOf(other);
  if (a.environment !== b.environment || a.profile !== b.profile) return undefined;
  const differs = [...(a.timeScale !== b.timeScale ? (['time scale'] as const) : []), ...(a.target !== b.target ? (['target'] as const) : [])];
  return differs.length ? differs : undefined;
}

/** Parts of the record added after its first version: older run.json files lack them. */
export const rateLimitOf = (r: RunRecord) => (r as Partial<RunRecord>).rateLimit ?? null;
export const count429 = (r: RunRecord) => rateLimitOf(r)?.countedAsErrors ?? true;

/** An endpoint's error rate (%), over the requests the error rate is taken over (see measuredRequests); null when there were none. */
export function endpointErrorPct(r: RunRecord, e: EndpointSummary | undefined): number | null {
  if (!e) return null;
  const n = measuredRequests(e.requests, e.errors, count429(r));
  return n > 0 ? (e.errorCount / n) * 100 : null;
}

/** The smaller of two runs' sample counts behind a percentile. */
export const samples = (a: LatencySummary | null | undefined, b: LatencySummary | null | undefined): number | undefined =>
  a && b ? Math.min(a.count, b.count) : undefined;

function gateSamples(r: RunRecord, p: RunRecord, g: Gate): number | undefined {
  if (g.unit !== 'ms') return undefined;
  if (!g.endpoint) return samples(r.totals.latency, p.totals.latency);
  return samples(r.endpoints.find((e) => e.name === g.endpoint)?.latency, p.endpoints.find((e) => e.name === g.endpoint)?.latency);
}

/** `r` (this run) against `p` (the previous one). */
export function compare(r: RunRecord, p: RunRecord): Comparison {
  const counts: Record<Trend, number> = { better: 0, worse: 0, same: 0 };
  const count = (c: Change | null) => {
    if (c) counts[c.trend]++;
    return c;
  };
  const gates = r.gates.map((gate) => {
    const before = p.gates.find((g) => g.id === gate.id);
    return { gate, before, change: count(change(before?.value, gate.value, gate.unit, gateDirection(gate), gateSamples(r, p, gate))) };
  });
  const endpoints = r.endpoints.map((e) => {
    const before = p.endpoints.find((x) => x.name === e.name);
    return {
      e,
      before,
      // p95 changes are already counted through the endpoint budget gates.
      p95: change(before?.latency?.p95, e.latency?.p95, 'ms', 'lower', samples(before?.latency, e.latency)),
      p99: count(change(before?.latency?.p99, e.latency?.p99, 'ms', 'lower', samples(before?.latency, e.latency))),
      err: count(change(endpointErrorPct(p, before), endpointErrorPct(r, e), '%', 'lower')),
    };
  });
  return { gates, endpoints, counts };
}

type Verdict = 'pass' | 'fail' | 'warning';
const verdictOf = (g: Gate): Verdict => (g.passed ? 'pass' : g.strict ? 'fail' : 'warning');

/** Gates whose verdict changed since the previous run (a gate new in this run has none to change). */
export function verdictFlips(cmp: Comparison): Array<{ gate: Gate; from: Verdict; to: Verdict }> {
  return cmp.gates.flatMap(({ gate, before }) =>
    before && verdictOf(before) !== verdictOf(gate) ? [{ gate, from: verdictOf(before), to: verdictOf(gate) }] : [],
  );
}
