// reports/history.ndjson: one line per run, for trends and scheduled runs.
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunRecord } from '../record/record';

/** One line per run in reports/history.ndjson, for trends and scheduled runs. */
export function appendHistory(record: RunRecord, reportsDir: string): void {
  const t = record.totals;
  const line = {
    time: record.startedAt,
    id: record.id,
    environment: record.environment,
    profile: record.profile.name,
    target: record.target,
    outcome: record.outcome,
    exitCode: record.exitCode,
    requests: t.requests,
    p95Ms: t.latency?.p95 ?? null,
    p99Ms: t.latency?.p99 ?? null,
    errorRatePct: t.requests ? Math.round(t.errorRatePct * 100) / 100 : null,
    requestsPerSecond: Math.round(t.requestsPerSecond * 100) / 100,
    rateLimited: record.rateLimit.limited,
    failedGates: record.gates.filter((g) => g.strict && !g.passed).map((g) => g.id),
  };
  appendFileSync(join(reportsDir, 'history.ndjson'), `${JSON.stringify(line)}\n`);
}
