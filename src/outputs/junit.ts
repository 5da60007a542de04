// junit.xml: the run as one JUnit test suite, for CI test tabs (GitLab, Jenkins, GitHub reporters).
// One testcase per gate and per endpoint budget, one per health check (/health before and after,
// the /api check before) and one for the verdict (so an interrupted or crashed run is red too).
// Testcase names are stable across runs (no values in them) so CI can track their history.
//
// A failed budget that is only a warning (not --strict) is a *passing* testcase with a
// "WARNING: ..." line in its system-out: it was measured and did not fail the run, so it must not
// turn CI red, and `skipped` would claim it was never checked (CI shows skipped tests as "not run").
// Every gate testcase carries its value, limit and ensure expression in system-out, so the figures
// are readable from CI without opening the HTML report.
import { sampleFailures, type ApiCheck, type HealthResult } from '../checks/health';
import type { Gate, RunRecord } from '../record/record';
import { fmtNum, gateLimitText, gateValueText, redactTokens } from './report/format';

/** XML text/attribute escaping; characters XML 1.0 forbids are dropped. */
function xmlEsc(value: unknown): string {
  return (
    redactTokens(String(value ?? ''))
      // eslint-disable-next-line no-control-regex -- dropping the control characters XML forbids
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&apos;')
  );
}

const value = (g: Gate) => gateValueText(g, (n) => fmtNum(n, 2).replace(/,/g, ''));
const limit = (g: Gate) => gateLimitText(g);

interface Case {
  classname: string;
  name: string;
  failure?: { message: string; type: string; text: string };
  skipped?: string;
  out?: string;
}

function gateCase(g: Gate): Case {
  const classname = g.endpoint ? 'voxanne.budgets' : 'voxanne.gates';
  const name = g.endpoint ? `${g.endpoint} p95 within ${g.limit} ms budget` : g.title;
  const figures = `${g.title}: ${value(g)} (limit ${limit(g)}; ensure: ${g.expression})`;
  if (g.passed) return { classname, name, out: figures };
  if (g.strict) {
    return {
      classname,
      name,
      failure: { type: g.endpoint ? 'budget' : 'gate', message: `${g.title} ${value(g)}, limit ${limit(g)}`, text: figures },
    };
  }
  return { classname, name, out: `WARNING: ${g.title} ${value(g)} is over its ${g.limit} ms budget (a warning; --strict makes it fail the run).\n${figures}` };
}

function healthCase(label: 'start' | 'end', h: HealthResult | null): Case {
  const name = label === 'start' ? 'health before the load' : 'health after the load';
  if (!h)
    return {
      classname: 'voxanne.health',
      name,
      skipped:
        label === 'start' ? 'the run ended before /health was checked' : '/health was not checked after the load (no load was sent, or the run was cut short)',
    };
  const figures = `GET /health: ${h.status !== undefined ? `HTTP ${h.status}` : 'no answer'}${h.latencyMs !== undefined ? ` in ${h.latencyMs} ms` : ''}${
    h.failingServices?.length ? `; failing services: ${h.failingServices.join(', ')}` : ''
  }${h.detail ? `; ${h.detail}` : ''}`;
  if (h.ok) return { classname: 'voxanne.health', name, out: figures };
  return { classname: 'voxanne.health', name, failure: { type: 'health', message: `/health not ok (${h.problem ?? 'unknown'})`, text: figures } };
}

function apiCase(a: ApiCheck | null | undefined): Case {
  const name = 'api check before the load';
  if (!a) return { classname: 'voxanne.health', name, skipped: 'no /api request was made before the load' };
  const figures = `GET ${a.path}: ${a.status !== undefined ? `HTTP ${a.status}` : 'no answer'}${a.latencyMs !== undefined ? ` in ${a.latencyMs} ms` : ''}${a.detail ? `; ${a.detail}` : ''}${sampleFailures(a) ? `; ${sampleFailures(a)}` : ''}`;
  if (a.ok) return { classname: 'voxanne.health', name, out: figures };
  return {
    classname: 'voxanne.health',
    name,
    failure: { type: 'health', message: `the API failed while /health answered (${a.status ?? a.detail ?? 'no answer'})`, text: figures },
  };
}

function verdictCase(r: RunRecord): Case {
  const name = 'run verdict';
  const text = `${r.outcome.toUpperCase()}: ${r.reason} (exit ${r.exitCode})`;
  if (r.exitCode === 0) return { classname: 'voxanne.run', name, out: text };
  return { classname: 'voxanne.run', name, failure: { type: r.outcome, message: r.reason, text } };
}

export function renderJUnit(record: RunRecord): string {
  const r = record;
  const cases: Case[] = [
    ...r.gates.filter((g) => !g.endpoint).map(gateCase),
    ...r.gates.filter((g) => g.endpoint).map(gateCase),
    healthCase('start', r.health.start),
    apiCase((r as Partial<RunRecord>).apiCheck),
    healthCase('end', r.health.end),
    verdictCase(r),
  ];
  const failures = cases.filter((c) => c.failure).length;
  const skipped = cases.filter((c) => c.skipped !== undefined).length;
  const seconds = Math.max(0, (Date.parse(r.endedAt) - Date.parse(r.startedAt)) / 1000) || 0;
  const props: Array<[string, unknown]> = [
    ['run.id', r.id],
    ['environment', r.environment],
    ['profile', r.profile.name],
    ['target', r.target],
    ['time.scale', r.timeScale],
    ['auth', r.auth.description],
    ['outcome', r.outcome],
    ['exit.code', r.exitCode],
    ['requests', r.totals.requests],
    ['error.rate.pct', r.totals.requests ? Number(r.totals.errorRatePct.toFixed(3)) : ''],
    ['p95.ms', r.totals.latency?.p95 ?? ''],
    ['p99.ms', r.totals.latency?.p99 ?? ''],
    ['users.max', r.totals.maxUsers],
    // A capacity search: its users step by step, and what held and broke (its waiting pool named as such).
    ...capacityProps(r),
  ];
  const out: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuite name="${xmlEsc(`voxanne load test: ${r.environment} ${r.profile.name}`)}" tests="${cases.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${seconds.toFixed(3)}" timestamp="${xmlEsc(r.startedAt.replace(/\.\d+Z$|Z$/, ''))}" hostname="${xmlEsc(safeHost(r.target))}">`,
    '  <properties>',
    ...props.map(([n, v]) => `    <property name="${xmlEsc(n)}" value="${xmlEsc(v)}"/>`),
    '  </properties>',
  ];
  for (const c of cases) {
    const head = `  <testcase classname="${xmlEsc(c.classname)}" name="${xmlEsc(c.name)}" time="0"`;
    const body: string[] = [];
    if (c.failure) body.push(`    <failure message="${xmlEsc(c.failure.message)}" type="${xmlEsc(c.failure.type)}">${xmlEsc(c.failure.text)}</failure>`);
    if (c.skipped !== undefined) body.push(`    <skipped message="${xmlEsc(c.skipped)}"/>`);
    if (c.out) body.push(`    <system-out>${xmlEsc(c.out)}</system-out>`);
    out.push(body.length ? `${head}>\n${body.join('\n')}\n  </testcase>` : `${head}/>`);
  }
  out.push('</testsuite>', '');
  return out.join('\n');
}

function safeHost(target: string): string {
  try {
    return new URL(target).host;
  } catch {
    return 'unknown';
  }
}

function capacityProps(r: RunRecord): Array<[string, unknown]> {
  const c = r.capacity;
  if (!c) return [];
  const at = (i: number | null) => (i === null ? '' : (c.steps[i]?.users ?? ''));
  return [
    ['capacity.result', c.result],
    ['capacity.users.steps', c.steps.map((s) => s.users).join(',')],
    ['capacity.users.held', at(c.held)],
    ['capacity.users.broke', c.result === 'generator-limit' ? '' : at(c.stoppedAt)],
    ['capacity.rps.knee', c.knee?.requestsPerSecond ?? ''],
    ['capacity.waiting.pool', c.waitingPool ?? ''],
  ];
}
