// The terminal summary, in the guide's (k6's) terms, printed from the run record only.
import type { RunRecord } from '../record/record';
import { gateLimitText, gateValueText } from './report/format';

const dots = (label: string) => `${label}${'.'.repeat(Math.max(2, 27 - label.length))}: `;
const ms = (n: number | undefined | null) => (n === null || n === undefined ? '-' : `${n}ms`);

const num = (n: number | null) => (n === null ? '-' : String(n >= 100 ? Math.round(n) : n));

/** A capacity search, step by step: what each step measured and how it was judged. */
function capacityTable(c: NonNullable<RunRecord['capacity']>): string[] {
  const l = c.limits;
  const out = [
    `capacity steps, in the order the search ran them (each judged on whole seconds of the workers' data; gates p99 < ${l.p99Ms} ms, errors < ${l.errorRatePct} %, timeouts <= ${l.maxTimeouts}; generator CPU < ${l.generatorCpuPct} %):`,
    '  step  why        users    req/s     p50     p95     p99  errors  timeouts   gen CPU  loop delay  secs  verdict',
  ];
  c.steps.forEach((s, i) => {
    const verdict = s.verdict === 'held' ? 'held' : s.verdict === 'broken' ? `BROKE: ${s.broken.map((b) => b.gate).join(', ')}` : 'generator limit';
    out.push(
      `  ${String(i + 1).padStart(4)}  ${(s.phase ?? '').padEnd(8)} ${String(s.users).padStart(6)} ${num(s.requestsPerSecond).padStart(8)} ${num(s.latency?.p50 ?? null).padStart(7)} ${num(s.latency?.p95 ?? null).padStart(7)} ` +
        `${num(s.latency?.p99 ?? null).padStart(7)} ${`${s.errorRatePct}%`.padStart(7)} ${String(s.timeouts).padStart(9)} ${`${num(s.cpuPct)}%`.padStart(9)} ` +
        `${`${num(s.loopDelayMs)} ms`.padStart(11)} ${String(s.seconds ?? '-').padStart(5)}  ${verdict}${s.predicted ? ` (predicted ${s.predicted.gate} breaks at ~${s.predicted.users})` : ''}`,
    );
  });
  if (!c.steps.length) out.push('  (no step was measured)');
  return out;
}

export function formatSummary(r: RunRecord): string {
  const t = r.totals;
  const l = t.latency;
  const out: string[] = [];
  out.push('', `Voxanne load test: ${r.environment} (${r.target}), profile ${r.profile.name}` + (r.timeScale !== 1 ? ` x${r.timeScale}` : ''));
  out.push(`auth: ${r.auth.description}`, '');
  if (r.outcome === 'unhealthy' || r.outcome === 'refused') {
    // Nothing was sent: no figures to show, only why.
    out.push('diagnosis:', ...r.diagnosis.map((d) => `  ${d}`), '', `${r.outcome.toUpperCase()}: ${r.reason} (exit ${r.exitCode})`);
    return out.join('\n');
  }
  out.push(
    dots('http_req_duration') +
      (l ? `avg=${ms(l.mean)} min=${ms(l.min)} med=${ms(l.p50)} max=${ms(l.max)} p(95)=${ms(l.p95)} p(99)=${ms(l.p99)}` : 'no responses'),
  );
  out.push(dots('http_req_failed') + (t.requests ? `${t.errorRatePct.toFixed(2)}% (${t.errorCount} of ${t.requests})` : 'no responses'));
  out.push(dots('http_reqs') + `${t.requests} (${t.requestsPerSecond.toFixed(1)}/s)`);
  // A capacity search's users are its steps' (the most any step let send); its waiting pool never sent all at once.
  const pool = r.capacity?.waitingPool;
  out.push(
    dots('vus_max') + `${t.maxUsers}${r.capacity ? ` (the largest step${pool ? `; a waiting pool of ${pool} users sent only as each step let it` : ''})` : ''}`,
  );
  if (r.capacity) out.push(dots('vus_steps') + r.capacity.steps.map((s) => s.users).join(' -> '));

  if (r.capacity) out.push('', ...capacityTable(r.capacity));
  else out.push('', 'gates:');
  for (const g of r.gates.filter((x) => !x.endpoint)) {
    out.push(`  ${g.passed ? 'PASS' : 'FAIL'}  ${g.title.padEnd(20)} ${gateValueText(g).padStart(10)}  ${gateLimitText(g)}`);
  }
  out.push('', 'endpoints (p95 budget: ' + (r.gates.some((g) => g.endpoint && g.strict) ? 'gate' : 'warning') + '):');
  for (const e of r.endpoints) {
    const g = r.gates.find((x) => x.endpoint === e.name);
    const mark = !g ? '    ' : g.passed ? 'ok  ' : g.strict ? 'FAIL' : 'WARN';
    const lat = e.latency ? `p50 ${e.latency.p50} / p95 ${e.latency.p95} / p99 ${e.latency.p99} ms` : 'no responses';
    out.push(
      `  ${mark}  ${`GET ${e.path}`.padEnd(30)} ${String(e.requests).padStart(6)} req ${String(e.errorCount).padStart(5)} err` +
        `${e.errors.rateLimited ? ` ${e.errors.rateLimited} rate-limited` : ''}  ${lat}  (p95 < ${e.budgetP95Ms} ms)`,
    );
  }
  if (r.diagnosis.length) out.push('', 'diagnosis:', ...r.diagnosis.map((d) => `  ${d}`));
  if (r.capacity) out.push('', r.capacity.line);
  out.push('', `${r.outcome.toUpperCase()}: ${r.reason} (exit ${r.exitCode})`);
  return out.join('\n');
}
