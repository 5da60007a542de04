// The terminal summary, in the guide's (k6's) terms, printed from the run record only.
import type { RunRecord } from './record';
import { gateLimitText, gateValueText } from './report/format';

const dots = (label: string) => `${label}${'.'.repeat(Math.max(2, 27 - label.length))}: `;
const ms = (n: number | undefined | null) => (n === null || n === undefined ? '-' : `${n}ms`);


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
  out.push(dots('vus_max') + `${t.maxUsers}`);

  out.push('', 'gates:');
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
  out.push('', `${r.outcome.toUpperCase()}: ${r.reason} (exit ${r.exitCode})`);
  return out.join('\n');
}
