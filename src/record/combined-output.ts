// What a distributed run (Artillery's run-fargate / run-lambda) leaves on this machine, read for the
// record: its combined output (-o JSON) as period events, and ensure's verdicts from its log.
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { EventOf, PeriodEvent } from '../channel/channel';
import { UsageError } from '../common/errors';
import type { LatencySummary } from '../common/sketches';
import { ARTILLERY_LOG } from '../common/run-files';

/** One period of Artillery's -o JSON. */
interface OutputPeriod {
  period: string | number;
  firstMetricAt: number;
  lastMetricAt: number;
  counters?: Record<string, number>;
  summaries?: Record<string, LatencySummary>;
}

/** A combined output (-o JSON) as the record's period events: counters and Artillery's summaries, no sketches. */
export function readCombinedOutput(file: string): { periods: PeriodEvent[]; aggregate: Record<string, LatencySummary> } {
  let json: { aggregate?: OutputPeriod; intermediate?: OutputPeriod[] };
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new UsageError(`${relative(process.cwd(), file)} is not an Artillery JSON output (artillery run -o); check the file`);
  }
  if (!json.aggregate || !Array.isArray(json.intermediate)) {
    throw new UsageError(`${relative(process.cwd(), file)} has no aggregate/intermediate sections; pass the -o output of artillery run-fargate or run-lambda`);
  }
  const periods = json.intermediate.map((p) => ({
    type: 'period' as const,
    period: Number(p.period),
    first: p.firstMetricAt,
    last: p.lastMetricAt,
    counters: p.counters ?? {},
    histograms: {},
    summaries: p.summaries ?? {},
  }));
  return { periods, aggregate: json.aggregate.summaries ?? {} };
}

/**
 * ensure's verdicts as it printed them ("ok: <expression>", "fail: <expression> (optional)"), by
 * gate id: a distributed run has no plugin on this machine to send them on the channel.
 */
export function verdictsFromLog(gates: Array<{ id: string; expression: string }>, dir: string): Array<EventOf<'verdicts'>> {
  let text: string;
  try {
    text = readFileSync(join(dir, ARTILLERY_LOG), 'utf8');
  } catch {
    return [];
  }
  const idOf = new Map(gates.map((g) => [g.expression, g.id]));
  const verdicts: Record<string, boolean> = {};
  for (const [, verdict, expression] of text.matchAll(/^(ok|fail): (.+?)(?: \(optional\))?$/gm)) {
    const id = idOf.get(expression);
    if (id) verdicts[id] = verdict === 'ok';
  }
  return Object.keys(verdicts).length ? [{ type: 'verdicts', gates: verdicts }] : [];
}
