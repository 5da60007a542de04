// The pack's decisions on recorded real runs (test/fixtures/runs/, `npm run record-fixtures`),
// without starting Artillery: each recording is replayed into its record (src/record/replay.ts), and what a
// user sees is checked against what the channel's events say happened: the verdict and exit code,
// the gates, the diagnosis, the JUnit testcases, the report, the comparison of two runs, the index,
// the alert and the pushed metrics, and the terminal summary.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { PeriodEvent, RunEvent } from '../src/channel/channel';
import { errorTotal, type Gate, type RunRecord } from '../src/record/record';
import { compare, verdictFlips } from '../src/outputs/report/comparison';
import { fmtInt, fmtNum } from '../src/outputs/report/format';
import { renderReport } from '../src/outputs/report/html';
import { renderIndex } from '../src/outputs/report/index-page';
import { renderJUnit } from '../src/outputs/junit';
import { readTail } from '../src/channel/channel';
import { ALERT_OUTCOMES, alertMessage } from '../src/outputs/alert';
import { readCombinedOutput } from '../src/record/combined-output';
import { resultsExposition } from '../src/outputs/publish';
import { readEndFile, readPlanFile, recordFromFolder, replayRunFolder } from '../src/record/replay';
import { formatSummary } from '../src/outputs/summary';
import { API_SAMPLES } from '../src/checks/health';
import { FIXTURES, SITUATIONS_FILE } from './record-fixtures';

const situations = (JSON.parse(readFileSync(SITUATIONS_FILE, 'utf8')) as { situations: Record<string, { exitCode: number }> }).situations;

interface Recording {
  name: string;
  record: RunRecord;
  events: RunEvent[];
  /** The periods the record is made of: those Artillery reported, then the workers' own (unreported, or in tail.json); a distributed run's from Artillery's output. */
  periods: PeriodEvent[];
  html: string;
  junit: JUnitCase[];
  summary: string;
}

interface JUnitCase {
  name: string;
  failure?: string;
  skipped?: string;
  out?: string;
}

const unescape = (s: string) =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');

/** The testcases of junit.xml: name, failure message, skip reason, system-out. */
function junitCases(xml: string): JUnitCase[] {
  const attr = (body: string, re: RegExp) => {
    const m = re.exec(body);
    return m ? unescape(m[1]) : undefined;
  };
  return [...xml.matchAll(/<testcase classname="[^"]*" name="([^"]*)" time="0"(?:\/>|>([\s\S]*?)<\/testcase>)/g)].map(([, name, body = '']) => ({
    name: unescape(name),
    failure: attr(body, /<failure message="([^"]*)"/),
    skipped: attr(body, /<skipped message="([^"]*)"/),
    out: attr(body, /<system-out>([\s\S]*?)<\/system-out>/),
  }));
}

/** The text of the element holding `attr` (tags stripped, spaces squeezed). */
function textOf(html: string, attr: string): string {
  const at = html.indexOf(attr);
  assert.ok(at >= 0, `${attr} in the page`);
  const start = html.lastIndexOf('<', at);
  const tag = /^<(\w+)/.exec(html.slice(start))?.[1] as string;
  const re = new RegExp(`<(/?)${tag}\\b[^>]*>`, 'g');
  re.lastIndex = start;
  let depth = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(html))) {
    depth += m[1] ? -1 : 1;
    if (depth === 0) break;
  }
  return unescape(
    html
      .slice(start, re.lastIndex)
      .replace(/<[^>]+>/g, ' ')
      .replace(/&#39;/g, "'"),
  )
    .replace(/\s+/g, ' ')
    .trim();
}

const cache = new Map<string, Recording>();
function recording(name: string, previous: RunRecord | null = null): Recording {
  const hit = cache.get(name);
  if (hit && !previous) return hit;
  const dir = join(FIXTURES, name);
  const record = replayRunFolder(dir);
  const channel = join(dir, 'events.ndjson');
  const events = existsSync(channel)
    ? readFileSync(channel, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as RunEvent)
    : [];
  const reported =
    record.platform.name === 'local' ? events.filter((e): e is PeriodEvent => e.type === 'period') : readCombinedOutput(join(dir, 'artillery.json')).periods;
  const seen = new Set(reported.filter((p) => !p.unreported).map((p) => p.period));
  const ended = events.some((e) => e.type === 'end');
  const extra = [...reported.filter((p) => p.unreported), ...(ended ? [] : (readTail(dir)?.periods ?? []))].filter((p) => !seen.has(p.period));
  const periods = [...reported.filter((p) => !p.unreported), ...extra.filter((p, i) => extra.findIndex((q) => q.period === p.period) === i)];
  const r: Recording = {
    name,
    record,
    events,
    periods,
    html: renderReport(record, previous),
    junit: junitCases(renderJUnit(record)),
    summary: formatSummary(record),
  };
  if (!previous) cache.set(name, r);
  return r;
}

/** A counter summed over the recording's periods, as the channel carried it. */
const sum = (rec: Recording, key: string) => rec.periods.reduce((n, p) => n + (p.counters[key] ?? 0), 0);
const gate = (r: RunRecord, id: string): Gate => {
  const g = r.gates.find((x) => x.id === id);
  assert.ok(g, `gate ${id}`);
  return g;
};
const round2 = (n: number) => Math.round(n * 100) / 100;
const failedCases = (rec: Recording) =>
  rec.junit
    .filter((c) => c.failure !== undefined)
    .map((c) => c.name)
    .sort();
const verdictText = (rec: Recording) => textOf(rec.html, 'class="verdict');

/** What every recording shows, whatever happened: consistent verdicts everywhere a user looks. */
describe('every recording: one verdict, told the same everywhere', () => {
  for (const name of Object.keys(situations)) {
    test(name, () => {
      const rec = recording(name);
      const r = rec.record;
      assert.equal(r.exitCode, situations[name].exitCode, 'the exit code the process ended with');
      // The report's headline, the JUnit verdict and the last line of the summary say the same.
      assert.match(rec.html, new RegExp(`data-outcome="${r.outcome}"`));
      assert.ok(verdictText(rec).includes(`exit ${r.exitCode}`), verdictText(rec));
      assert.ok(rec.summary.endsWith(`${r.outcome.toUpperCase()}: ${r.reason} (exit ${r.exitCode})`));
      const verdict = rec.junit.find((c) => c.name === 'run verdict');
      assert.equal(verdict?.failure === undefined, r.exitCode === 0, 'JUnit fails the verdict exactly when the exit code does');
      // Every strict gate that failed is a JUnit failure; a passing run has none.
      for (const g of r.gates.filter((x) => !x.endpoint)) assert.equal(rec.junit.find((c) => c.name === g.title)?.failure !== undefined, !g.passed, g.id);
      // The report: its title and sections, in order, and its key figures from the record.
      assert.ok(
        rec.html.includes(
          `<title>${{ passed: 'Passed', failed: 'Failed', aborted: 'Aborted', interrupted: 'Interrupted', unhealthy: 'Unhealthy', refused: 'Refused', crashed: 'Crashed' }[r.outcome]}: ${r.environment} ${r.profile.name}, `,
        ),
      );
      const sections = [...rec.html.matchAll(/<section id="([^"]+)"/g)].map((m) => m[1]);
      assert.deepEqual(sections, [
        ...(r.capacity ? ['capacity'] : []),
        'diagnosis',
        'health',
        ...(r.capacity ? [] : ['gates']),
        'endpoints',
        'charts',
        'compare',
        'settings',
      ]);
      assert.equal(textOf(rec.html, 'data-kpi="Requests"'), fmtInt(r.totals.requests));
      for (const e of r.endpoints)
        assert.ok(textOf(rec.html, `data-endpoint="${e.name}"`).startsWith(`GET ${e.path} ${e.name} ${fmtInt(e.requests)} `), e.name);
      // The record's request count is what the workers counted on the channel (reported periods, then the tail).
      assert.equal(r.totals.requests, sum(rec, 'voxanne.requests'));
      assert.doesNotMatch([r.reason, ...r.diagnosis, rec.summary].join('\n'), /NaN|undefined|Infinity|null ms/);
    });
  }
});

describe('a healthy backend', () => {
  test('passes every gate with the figures the events show; nothing to diagnose', () => {
    const rec = recording('healthy');
    const r = rec.record;
    assert.equal(r.outcome, 'passed');
    assert.equal(r.reason, 'Every gate passed and /health was ok before and after the load.');
    assert.ok(r.gates.filter((g) => g.strict).every((g) => g.passed));
    assert.equal(r.totals.errorCount, 0);
    assert.equal(sum(rec, 'voxanne.errors'), 0);
    assert.ok(r.totals.requests >= gate(r, 'enough-load').limit, 'enough load to judge');
    // ensure judged the same gates on Artillery's side.
    const verdicts = rec.events.find((e) => e.type === 'verdicts');
    assert.ok(verdicts && Object.values(verdicts.gates).every(Boolean));
    assert.equal(r.health.start?.ok, true);
    assert.equal(r.health.end?.ok, true);
    assert.match(rec.html, /Nothing to flag: no gate failed/);
    assert.match(verdictText(rec), /^✓ Passed exit 0 Every gate passed/);
    assert.equal(textOf(rec.html, 'data-kpi="Requests"'), fmtInt(r.totals.requests));
    assert.deepEqual(failedCases(rec), []);
    assert.equal(rec.junit.length, r.gates.length + 4, 'gates + /health twice + API check + verdict');
    assert.match(rec.summary, /^http_reqs\.+: \d+ \([\d.]+\/s\)$/m);
    assert.match(rec.summary, /^ {2}PASS {2}HTTP error rate +0 % +< 5 %$/m);
  });
});

describe('failing gates', () => {
  test('30 % server errors: the error-rate gate fails at the rate the events show', () => {
    const rec = recording('errors');
    const r = rec.record;
    const errors = sum(rec, 'voxanne.errors');
    const rate = (errors / (sum(rec, 'voxanne.requests') - sum(rec, 'voxanne.rate_limited'))) * 100;
    assert.ok(rate >= 5, `${rate} %`);
    const g = gate(r, 'error-rate');
    assert.equal(g.passed, false);
    assert.equal(g.value, round2(rate), 'the gate shows the rate the events give, to 2 decimals');
    assert.equal(r.totals.errors.http5xx, errors, 'every error a 500');
    assert.equal(r.outcome, 'failed');
    assert.equal(r.reason, 'Gate failed: HTTP error rate.');
    // ensure, on Artillery's side, failed the same gate.
    const verdicts = rec.events.find((e) => e.type === 'verdicts');
    assert.equal(verdicts?.type === 'verdicts' && verdicts.gates['error-rate'], false);
    assert.match(r.diagnosis[0], new RegExp(`^High error rate \\(${rate.toFixed(1)} %\\): ${errors} server errors, 0 client errors`));
    assert.deepEqual(failedCases(rec), ['HTTP error rate', 'run verdict']);
    assert.equal(rec.junit.find((c) => c.name === 'HTTP error rate')?.failure, `HTTP error rate ${fmtNum(rate, 2).replace(/,/g, '')} %, limit < 5 %`);
    assert.match(rec.html, /<tr class="row-fail" data-gate="error-rate">/);
    assert.equal(textOf(rec.html, 'data-kpi="Error rate"'), `${rate.toFixed(2)} %`);
    assert.match(rec.html, /What went wrong/);
    assert.match(rec.summary, new RegExp(`^http_req_failed\\.+: ${rate.toFixed(2)}% \\(${errors} of ${r.totals.requests}\\)$`, 'm'));
    assert.match(rec.summary, /^ {2}FAIL {2}HTTP error rate /m);
  });

  test('a slow endpoint: the p99 gate fails on that endpoint; its budget is a warning, not a failure', () => {
    const rec = recording('slow');
    const r = rec.record;
    const p99 = gate(r, 'p99');
    assert.equal(p99.passed, false);
    assert.equal(p99.value, r.totals.latency?.p99);
    assert.ok(p99.value >= 1000);
    const assistants = r.endpoints.find((e) => e.name === 'assistants');
    assert.ok(assistants?.latency && assistants.latency.p50 >= 1300, 'the stand-in held assistants 1.3 s');
    assert.equal(r.reason, 'Gate failed: p99 response time.');
    assert.ok(
      r.diagnosis.some((d) => d.startsWith(`High response times (p99 ${r.totals.latency?.p99} ms), slowest: /api/assistants`)),
      r.diagnosis.join('\n'),
    );
    const budget = r.gates.find((g) => g.endpoint === 'assistants');
    assert.equal(budget?.passed, false);
    assert.equal(budget?.strict, false);
    assert.ok(r.diagnosis.includes(`assistants p95 ${budget?.value} ms is over its 500 ms budget (warning).`));
    const warning = rec.junit.find((c) => c.name === 'assistants p95 within 500 ms budget');
    assert.equal(warning?.failure, undefined, 'a warning is not a failed testcase');
    assert.match(warning?.out ?? '', /^WARNING: assistants p95 /);
    assert.deepEqual(failedCases(rec), ['p99 response time', 'run verdict']);
    assert.match(rec.summary, /^ {2}FAIL {2}p99 response time /m);
    assert.match(rec.summary, /slowest: \/api\/assistants/);
    assert.match(rec.summary, /^ {2}WARN {2}GET \/api\/assistants /m);
  });

  test('the same run under --strict (its plan changed, its events not): the budget over its limit fails the run', () => {
    const dir = join(FIXTURES, 'slow');
    const plan = readPlanFile(dir);
    const { id, end } = readEndFile(dir);
    assert.equal(plan.opts.strict, false);
    const r = recordFromFolder({ ...plan, opts: { ...plan.opts, strict: true } }, id, dir, end);
    const over = r.gates.filter((g) => g.endpoint && !g.passed);
    assert.ok(over.some((g) => g.endpoint === 'assistants'));
    assert.ok(over.every((g) => g.strict));
    assert.equal(r.reason, `Gate failed: ${['p99 response time', ...over.map((g) => g.title)].join(', ')}.`);
    assert.ok(
      r.diagnosis.some((d) => /^assistants p95 [\d.]+ ms is over its 500 ms budget\.$/.test(d)),
      'no longer a warning',
    );
    const junit = junitCases(renderJUnit(r));
    assert.match(junit.find((c) => c.name === 'assistants p95 within 500 ms budget')?.failure ?? '', /^assistants p95 [\d.]+ ms, limit < 500 ms$/);
    assert.match(formatSummary(r), /^ {2}FAIL {2}GET \/api\/assistants /m);
  });

  test('--strict with one endpoint over its budget (over-budget): that budget alone fails the run', () => {
    const rec = recording('over-budget');
    const r = rec.record;
    assert.equal(readPlanFile(join(FIXTURES, 'over-budget')).opts.strict, true);
    assert.ok(
      r.gates.filter((g) => !g.endpoint).every((g) => g.passed),
      'every whole-run gate passed',
    );
    const over = r.gates.filter((g) => g.endpoint && !g.passed);
    assert.deepEqual(
      over.map((g) => g.endpoint),
      ['webhook_health'],
    );
    const [g] = over;
    assert.equal(g.strict, true);
    assert.equal(g.value, r.endpoints.find((e) => e.name === 'webhook_health')?.latency?.p95);
    assert.ok(g.value >= g.limit);
    assert.equal(r.outcome, 'failed');
    assert.equal(r.exitCode, 1);
    assert.equal(r.reason, `Gate failed: ${g.title}.`);
    assert.deepEqual(failedCases(rec), ['run verdict', `${g.title} within ${g.limit} ms budget`]);
    assert.match(rec.summary, /^endpoints \(p95 budget: gate\):$/m);
    assert.match(rec.summary, /^ {2}FAIL {2}GET \/api\/vapi\/webhook\/health /m);
    assert.match(rec.summary, /^ {2}PASS {2}p99 response time /m);
  });

  test('hanging requests: the timeouts gate fails with the count the events show, and says where', () => {
    const rec = recording('timeouts');
    const r = rec.record;
    const timeouts = sum(rec, 'voxanne.timeouts');
    assert.ok(timeouts > 0);
    const g = gate(r, 'timeouts');
    assert.equal(g.value, timeouts);
    assert.equal(g.passed, false);
    assert.equal(r.totals.errors.timeout, timeouts);
    assert.equal(r.outcome, 'failed');
    assert.match(r.reason, /^Gate failed: .*Timeouts/);
    const line = r.diagnosis.find((d) => d.startsWith('Timeouts: '));
    assert.ok(line, r.diagnosis.join('\n'));
    for (const e of r.endpoints.filter((x) => x.errors.timeout)) assert.ok(line.includes(`${e.path} (${e.errors.timeout})`), line);
    assert.ok(failedCases(rec).includes('Timeouts'));
    assert.match(rec.summary, /^ {2}FAIL {2}Timeouts /m);
    assert.ok(rec.summary.includes(line), 'the diagnosis line printed');
  });

  test('far fewer requests than planned (too-short): "too short to judge", not a pass', () => {
    const rec = recording('too-short');
    const r = rec.record;
    const g = gate(r, 'enough-load');
    assert.equal(g.value, sum(rec, 'voxanne.requests'));
    assert.ok(g.value < g.limit);
    assert.equal(g.passed, false);
    assert.equal(r.outcome, 'failed');
    assert.equal(r.exitCode, 1);
    const plan = readPlanFile(join(FIXTURES, 'too-short'));
    assert.match(
      r.reason,
      new RegExp(
        `^Too short to judge: ${g.value} requests in \\d+ s of load, against ~${plan.estimate.total} planned over ${plan.loadSeconds} s \\(at least ${g.limit} needed\\)\\.$`,
      ),
    );
    assert.match(rec.summary, /^ {2}FAIL {2}Enough load to judge /m);
  });

  test('resets and bodies that are not JSON (broken-bodies): each counted by its kind, as the events say', () => {
    const rec = recording('broken-bodies');
    const r = rec.record;
    const notJson = Object.entries(
      rec.periods.reduce<Record<string, number>>(
        (t, p) => ({ ...t, ...Object.fromEntries(Object.entries(p.counters).map(([k, v]) => [k, (t[k] ?? 0) + v])) }),
        {},
      ),
    )
      .filter(([k]) => k.startsWith('voxanne.not_json.'))
      .reduce((n, [, v]) => n + v, 0);
    assert.ok(notJson > 0);
    assert.equal(r.totals.errors.notJson, notJson);
    assert.equal(r.totals.errors.transport, sum(rec, 'errors.ECONNRESET'));
    assert.ok(r.totals.errors.transport > 0);
    assert.equal(r.outcome, 'failed');
    assert.equal(r.exitCode, 1);
    assert.ok(rec.summary.includes('Bodies that are not JSON: '), rec.summary);
  });

  test('the rate limiter: 429s are their own gate and stay out of the error rate', () => {
    const rec = recording('rate-limit');
    const r = rec.record;
    const limited = sum(rec, 'voxanne.rate_limited');
    assert.ok(limited > 0);
    assert.equal(r.rateLimit.limited, limited);
    const g = gate(r, 'rate-limited');
    assert.equal(g.passed, false);
    assert.equal(g.value, round2((limited / r.totals.requests) * 100));
    assert.equal(r.totals.errorCount, errorTotal(r.totals.errors, false), '429s left out of the error count');
    assert.equal(gate(r, 'error-rate').passed, true);
    // The preflight saw the limit would not cover the run, and said so before the load.
    const preflight = rec.events.find((e) => e.type === 'preflight');
    assert.ok(preflight?.type === 'preflight' && preflight.verdict === 'go' && preflight.rateLimitWarning);
    assert.equal(r.rateLimit.warning, preflight.rateLimitWarning);
    assert.ok(rec.events.indexOf(preflight) < rec.events.findIndex((e) => e.type === 'phase'), 'warned before the load');
    assert.match(preflight.rateLimitWarning, /Would fit: .*--time-scale/);
    const policy = r.rateLimit.atStart?.limit;
    assert.ok(policy && preflight.rateLimitWarning.includes(`of ${policy} per hour are left`));
    assert.ok(
      r.diagnosis.some((d) =>
        d.startsWith(
          `rate limited: ${limited} requests, policy ${policy} per hour. This is the backend's rate limiter, not overload (left out of the error rate). Its window resets at `,
        ),
      ),
      r.diagnosis.join('\n'),
    );
    assert.ok(r.endpoints.find((e) => e.name === 'assistants')!.errors.rateLimited > 0);
    assert.deepEqual(failedCases(rec), ['Rate limited', 'run verdict']);
    assert.match(rec.summary, /^ {2}FAIL {2}Rate limited /m);
    assert.match(rec.summary, /^ {2}PASS {2}HTTP error rate +0 % /m);
  });

  test('over the limit with --yes and --count-429 (over-limit-confirmed): the load goes, its 429s count in the error rate', () => {
    const rec = recording('over-limit-confirmed');
    const r = rec.record;
    const preflight = rec.events.find((e) => e.type === 'preflight');
    assert.ok(preflight?.type === 'preflight' && preflight.verdict === 'go' && preflight.rateLimitWarning, 'warned, and went all the same');
    assert.ok(r.rateLimit.atStart?.remaining !== undefined && r.rateLimit.atStart.remaining < r.rateLimit.predictedApiRequests / 2, 'less than half fitted');
    assert.ok(r.totals.requests > 0 && r.totals.requests === sum(rec, 'voxanne.requests'), 'the load was sent');
    const limited = sum(rec, 'voxanne.rate_limited');
    assert.ok(limited > 0);
    assert.equal(r.rateLimit.countedAsErrors, true);
    assert.equal(r.totals.errorCount, errorTotal(r.totals.errors, true), '429s in the error count');
    const g = gate(r, 'error-rate');
    // The workers count a 429 among the errors; --count-429 keeps it in the rate's numerator and denominator.
    assert.equal(g.value, round2((sum(rec, 'voxanne.errors') / sum(rec, 'voxanne.requests')) * 100));
    assert.equal(g.passed, false);
    assert.ok(!r.gates.some((x) => x.id === 'rate-limited'), 'no gate of their own');
    assert.match(rec.summary, /^ {2}FAIL {2}HTTP error rate /m);
    assert.doesNotMatch(rec.summary, /Rate limited {2}/);
    assert.match(rec.summary, /\(counted as errors: --count-429\)/);
  });
});

describe('the backend around the load', () => {
  test('/health fails after the load: exit 4, whatever the gates said', () => {
    const rec = recording('degraded-at-end');
    const r = rec.record;
    const after = rec.events.find((e) => e.type === 'health-end');
    assert.ok(after?.type === 'health-end' && !after.result.ok);
    assert.equal(r.outcome, 'failed');
    assert.equal(r.exitCode, 4);
    assert.equal(r.reason, `/health failed after the load (${after.result.problem}).`);
    assert.equal(r.health.start?.ok, true);
    assert.equal(r.health.end?.problem, 'degraded');
    // The demo's fault waited for the end of the load it really ran: the load itself went well.
    assert.ok(r.totals.requests > 0 && r.totals.errorRatePct < 5, `${r.totals.requests} requests, ${r.totals.errorRatePct} % errors`);
    assert.ok(r.diagnosis.includes('/health failed after the load: the backend did not survive it.'));
    assert.match(rec.summary, /\/health failed after the load/);
    assert.ok(failedCases(rec).includes('health after the load'));
    assert.match(textOf(rec.html, 'id="health"'), /after/i);
  });

  test('the voice API down: the fallback body is counted and flagged, though every gate passes', () => {
    const rec = recording('voice-api-down');
    const r = rec.record;
    const fallbacks = sum(rec, 'voxanne.fallback.assistants');
    assert.ok(fallbacks > 0);
    const e = r.endpoints.find((x) => x.name === 'assistants');
    assert.equal(e?.fallbackAnswers, fallbacks);
    assert.ok(r.diagnosis.includes(`/api/assistants answered {"assistants":[]} ${fallbacks} times: ${e?.fallback?.meaning}.`), r.diagnosis.join('\n'));
    assert.ok(rec.summary.includes(`/api/assistants answered {"assistants":[]} ${fallbacks} times`));
    assert.ok(rec.html.includes(`${fallbacks} times`));
  });

  const before = [
    ['target-down', 'refused', /^Connection refused at http:\/\/127\.0\.0\.1:\d+: nothing is listening there\.$/, /Verify the backend is running/],
    ['health-degraded', 'degraded', /^\/health answered 503 degraded: .+ down\.$/, /degraded: database down/],
  ] as const;
  for (const [name, problem, hint, printed] of before) {
    test(`unhealthy before the load (${name}): exit 3, no load sent, no figures`, () => {
      const rec = recording(name);
      const r = rec.record;
      const preflight = rec.events.find((e) => e.type === 'preflight');
      assert.ok(preflight?.type === 'preflight' && preflight.verdict === 'unhealthy');
      assert.equal(r.outcome, 'unhealthy');
      assert.equal(r.exitCode, 3);
      assert.equal(r.reason, `The target was not healthy before the load (${problem}); no load was sent.`);
      assert.equal(rec.periods.length, 0);
      assert.equal(r.totals.requests, 0);
      assert.match(r.diagnosis[0], hint);
      assert.match(rec.summary, printed);
      assert.equal(rec.junit.find((c) => c.name === 'health before the load')?.failure, `/health not ok (${problem})`);
      assert.match(rec.junit.find((c) => c.name === 'health after the load')?.skipped ?? '', /not checked after the load/);
      assert.match(rec.html, /No load was measured, so there is nothing to chart/);
      assert.doesNotMatch(rec.summary, /http_req_duration/, 'no figures of a load that was not sent');
    });
  }

  test('the API failing while /health is ok: exit 3, the Redis hint', () => {
    const rec = recording('api-failing');
    const r = rec.record;
    assert.equal(r.outcome, 'unhealthy');
    assert.equal(r.exitCode, 3);
    assert.equal(r.health.start?.ok, true);
    assert.equal(r.apiCheck?.ok, false);
    assert.match(r.reason, /^API failing while \/health is OK \(\/api\/\S+ answered 500\); no load was sent\.$/);
    assert.ok(r.diagnosis.some((d) => d.startsWith('When Redis is down')));
    // The preflight's /api request (authenticated: the development token) and the body it got, printed as they came.
    const preflight = rec.events.find((e) => e.type === 'preflight');
    assert.ok(preflight?.type === 'preflight' && preflight.api && preflight.api.authenticated);
    assert.ok(
      rec.summary.includes(`API failing while /health is OK: ${preflight.api.path} answered ${preflight.api.status}: ${preflight.api.detail}`),
      rec.summary,
    );
    // Every sample failed, and the summary says how many were sent.
    assert.ok(rec.summary.includes(`; ${API_SAMPLES} of ${API_SAMPLES} /api requests failed (500 ×${API_SAMPLES}).`), rec.summary);
    assert.ok(!rec.events.some((e) => e.type === 'phase' || e.type === 'period'), 'no load');
    assert.match(rec.junit.find((c) => c.name === 'api check before the load')?.failure ?? '', /the API failed while \/health answered \(500\)/);
  });

  test('over the rate limit: refused before the load, exit 2', () => {
    const rec = recording('over-limit');
    const r = rec.record;
    const preflight = rec.events.find((e) => e.type === 'preflight');
    assert.ok(preflight?.type === 'preflight' && preflight.verdict === 'over-limit');
    assert.equal(r.outcome, 'refused');
    assert.equal(r.exitCode, 2);
    assert.equal(r.totals.requests, 0);
    assert.ok(r.rateLimit.atStart?.remaining !== undefined && r.rateLimit.atStart.remaining < r.rateLimit.predictedApiRequests / 2);
    assert.match(r.reason, /would exceed what is left of the rate limit/);
    // The preflight stopped it (its message is the line printed: "Not starting the load: ..."), so no user ever ran.
    assert.match(preflight.message ?? '', /^less than half of the run is left in the rate limit/);
    assert.ok(!rec.events.some((e) => e.type === 'phase' || e.type === 'period'), 'no load');
    const left = r.rateLimit.atStart;
    assert.ok(left);
    assert.match(rec.summary, new RegExp(`only ${left.remaining} of ${left.limit} per hour are left \\(the window resets at \\d\\d:\\d\\d UTC\\)`));
    assert.match(rec.summary, /Would fit: .*--time-scale [\d.]+, --spread-ips \(a backend on this machine\)/);
  });
});

describe('how a run ends', () => {
  test('Ctrl-C during the load: interrupted, exit 130, ensure ignored, what was measured kept', () => {
    const rec = recording('interrupted');
    const r = rec.record;
    assert.equal(r.outcome, 'interrupted');
    assert.equal(r.exitCode, 130);
    assert.equal(r.ending.signal, 'SIGINT');
    assert.match(r.reason, /^Stopped by SIGINT after \d+ s of load\.$/);
    assert.ok(r.totals.requests > 0);
    const end = rec.events.find((e) => e.type === 'end');
    assert.ok(end?.type === 'end' && end.earlyStop);
    assert.equal(r.ending.inFlight, end.inFlight);
    // The period still open at the signal: Artillery never reported it, the workers' own record did.
    const unreported = rec.periods.filter((p) => p.unreported).length;
    assert.ok(unreported > 0);
    assert.equal(r.ending.unreportedPeriods, unreported);
    assert.ok(r.diagnosis.includes(`${unreported} period(s) at the end come from the workers' own record: Artillery stopped before reporting them.`));
    if (end.inFlight > 0)
      assert.ok(r.diagnosis.includes(`${end.inFlight} requests were still in flight when the users were stopped: sent, never answered, not counted.`));
    // ensure judged an incomplete run: its verdicts are not the record's.
    assert.match(verdictText(rec), /Interrupted/);
    assert.match(rec.junit.find((c) => c.name === 'run verdict')?.failure ?? '', /^Stopped by SIGINT/);
  });

  test('Ctrl-C during the check after the load: interrupted, exit 130, with the whole load measured', () => {
    const rec = recording('interrupted-after-load');
    const r = rec.record;
    const end = rec.events.find((e) => e.type === 'end');
    assert.ok(end?.type === 'end' && !end.earlyStop, 'the load had run to its end');
    assert.equal(r.outcome, 'interrupted');
    assert.equal(r.exitCode, 130);
    assert.equal(r.reason, 'Stopped by SIGINT during the check after the load.');
    assert.equal(r.ending.unreportedPeriods, 0);
    assert.ok(r.totals.requests > 0);
    // A stopped run's gates are judged on its figures, not on ensure's verdicts.
    for (const g of r.gates.filter((x) => !x.endpoint && x.value !== null)) {
      const holds = g.comparator === '<' ? g.value! < g.limit : g.comparator === '<=' ? g.value! <= g.limit : g.value! >= g.limit;
      assert.equal(g.passed, holds, g.id);
    }
    assert.equal(gate(r, 'p99').passed, false, '/health took 3 s');
  });

  test('the breaker: /health went bad mid-run, the load stopped early, aborted, exit 1', () => {
    const rec = recording('aborted');
    const r = rec.record;
    const abort = rec.events.find((e) => e.type === 'abort');
    assert.ok(abort?.type === 'abort');
    assert.equal(r.outcome, 'aborted');
    assert.equal(r.exitCode, 1);
    assert.equal(r.reason, `Stopped early by the breaker: ${abort.reason}`);
    assert.deepEqual(r.abort, { at: new Date(abort.at).toISOString(), reason: abort.reason });
    assert.ok(r.diagnosis.includes(`Aborted by the breaker: ${abort.reason}`));
    // Stopped before its planned 20 s: the gates are judged on the figures, not on ensure's verdicts of a cut run.
    assert.ok(r.totals.durationSeconds < 20, `${r.totals.durationSeconds} s`);
    const verdicts = rec.events.find((e) => e.type === 'verdicts');
    for (const g of r.gates.filter((x) => !x.endpoint && x.value !== null)) {
      const holds = g.comparator === '<' ? g.value! < g.limit : g.comparator === '<=' ? g.value! <= g.limit : g.value! >= g.limit;
      assert.equal(
        g.passed,
        holds,
        `${g.id}: ${g.value} ${g.comparator} ${g.limit}${verdicts?.type === 'verdicts' ? ` (ensure said ${verdicts.gates[g.id]})` : ''}`,
      );
    }
    assert.match(r.reason, /^Stopped early by the breaker: \/health went bad mid-run \(degraded: database down\)/);
    assert.match(verdictText(rec), /Aborted/);
    assert.equal(rec.junit.find((c) => c.name === 'run verdict')?.failure, r.reason);
  });

  test('Ctrl-C before the load: interrupted, exit 130, no percentages of nothing', () => {
    const rec = recording('interrupted-before-load');
    const r = rec.record;
    assert.equal(r.outcome, 'interrupted');
    assert.equal(r.exitCode, 130);
    assert.ok(!rec.events.some((e) => e.type === 'phase'), 'the load never started');
    assert.equal(r.loadStartedAt, null);
    assert.equal(r.totals.requests, 0);
    assert.equal(r.reason, 'Stopped by SIGINT after 0 s of load.');
    assert.deepEqual(r.diagnosis, ['No responses were recorded: the run was stopped before the load started.']);
    assert.doesNotMatch(rec.summary, /\(0\.0 %\)|undefined ms|null ms/);
  });

  test('Artillery killed: crashed, exit 5; the open periods come from the workers (tail.json), the unknown seconds are said', () => {
    const rec = recording('killed');
    const r = rec.record;
    assert.equal(r.outcome, 'crashed');
    assert.equal(r.exitCode, 5);
    assert.equal(r.ending.signal, 'SIGKILL');
    assert.ok(!rec.events.some((e) => e.type === 'end'), 'Artillery never wrote its end');
    const fromTail = rec.periods.filter((p) => !rec.events.some((e) => e.type === 'period' && e.period === p.period && !e.unreported));
    assert.ok(fromTail.length > 0, 'periods only the workers had');
    assert.equal(r.ending.unreportedPeriods, fromTail.length);
    assert.ok(r.totals.requests > 0 && r.totals.requests === sum(rec, 'voxanne.requests'));
    assert.ok(r.ending.unknownSeconds > 0);
    assert.ok(
      r.diagnosis.includes(
        `Artillery was killed: the last ${r.ending.unknownSeconds} s of load are unknown (the record keeps what the workers had measured until then).`,
      ),
    );
    assert.match(r.reason, /^Artillery was killed \(SIGKILL\) after \d+ s of load/);
  });
});

describe('a capacity search', () => {
  test('its answer, step by step, from the steps the plugin judged live', () => {
    const rec = recording('capacity');
    const r = rec.record;
    const c = r.capacity;
    assert.ok(c, 'a capacity answer');
    assert.equal(r.rateLimit.spreadIps, true);
    // The record's steps are the ones the plugin judged and sent on the channel, in the same order.
    const judged = rec.events.flatMap((e) => (e.type === 'capacity-step' ? [e.step] : []));
    assert.ok(judged.length > 0 && rec.events.some((e) => e.type === 'capacity-stop'));
    assert.deepEqual(
      c.steps.map((x) => [x.users, x.verdict]),
      judged.map((x) => [x.users, x.verdict]),
    );
    assert.ok(c.stoppedAt !== null && c.held !== null);
    // One request at a time for 60 ms: a knee, then a bracket narrowed to the search's own factor.
    assert.equal(c.result, 'knee', c.line);
    const held = c.steps[c.held];
    const broke = c.steps[c.stoppedAt];
    assert.ok(
      broke.users > held.users && broke.users <= Math.max(held.users + 1, Math.ceil(held.users * c.search!.narrowTo)),
      `${held.users} .. ${broke.users}`,
    );
    assert.equal(r.reason, `Capacity found: the backend held ${held.users} users and broke the gates at ${broke.users}.`);
    assert.equal(r.exitCode, 0);
    assert.equal(held.verdict, 'held');
    assert.ok(broke.broken.length > 0);
    for (const b of broke.broken) assert.ok(b.value >= b.limit, `${b.gate} ${b.value} vs ${b.limit}`);
    // Each step judged by the limits the record gives: a held step is within every one of them.
    const l = c.limits;
    for (const step of c.steps.filter((x) => x.verdict === 'held')) {
      assert.ok(step.latency && step.latency.p99 < l.p99Ms && step.errorRatePct < l.errorRatePct && step.timeouts <= l.maxTimeouts, `${step.users} users`);
      assert.deepEqual(step.broken, []);
      assert.ok(step.cpuPct !== null && step.cpuPct < l.generatorCpuPct, 'the generator was not the limit');
    }
    // The knee: the highest throughput of any step, and the fewest users that reached it (within 5 %).
    const best = Math.max(...c.steps.map((x) => x.requestsPerSecond));
    assert.equal(c.knee?.requestsPerSecond, best);
    assert.equal(c.knee?.users, Math.min(...c.steps.filter((x) => x.requestsPerSecond >= best * 0.95).map((x) => x.users)));
    assert.deepEqual(r.gates, [], 'a search has no whole-run gates');
    for (const s of c.steps) assert.ok(s.requests > 0 && (s.seconds ?? 0) >= 1);
    assert.ok(rec.summary.includes(c.line));
    assert.match(c.line, /^capacity: highest throughput [\d.]+ req\/s, reached at \d+ users \(the knee\); held \d+ users/);
    assert.match(rec.summary, /^capacity steps, in the order the search ran them/m);
    assert.match(rec.html, /<svg class="chart capacity"[^>]*data-chart="capacity-rps"/);
  });

  test('the users shown are the users the backend saw: the steps, never the waiting pool', () => {
    const rec = recording('capacity');
    const r = rec.record;
    const c = r.capacity!;
    const users = c.steps.map((s) => s.users);
    const largest = Math.max(...users);
    // Artillery brought the whole pool in (it counts them as created users); none of it is shown as users.
    const pool = c.waitingPool!;
    assert.equal(pool, c.search!.maxUsers);
    assert.ok(pool > largest * 10, `pool ${pool}, largest step ${largest}`);
    assert.equal(c.largestStep, largest);
    assert.equal(r.totals.maxUsers, largest, 'run.json: the most users that sent at once');
    assert.ok(
      r.periods.every((p) => p.users.active <= largest && p.users.planned <= largest),
      'every period: at most the largest step',
    );
    assert.ok(r.periods.some((p) => p.users.active === largest));
    // The terminal.
    assert.match(
      rec.summary,
      new RegExp(`^vus_max\\.+: ${largest} \\(the largest step; a waiting pool of ${pool} users sent only as each step let it\\)$`, 'm'),
    );
    assert.match(rec.summary, new RegExp(`^vus_steps\\.+: ${users.join(' -> ')}$`, 'm'));
    // The report: the card, the users chart (its values come from the record's periods), the Settings.
    assert.match(rec.html, new RegExp(`data-kpi="Peak users">${largest}<small> largest step</small>`));
    assert.doesNotMatch(rec.html, new RegExp(`data-kpi="Peak users">[^<]*${fmtInt(pool)}`));
    const chart = JSON.parse(/<script[^>]*id="chart-data"[^>]*>([\s\S]*?)<\/script>/.exec(rec.html)![1]);
    const peak = (label: string) =>
      Math.max(...(chart.charts['c-users'].series.find((x: { label: string }) => x.label === label).values as Array<number | null>).map((v) => v ?? 0));
    assert.equal(peak('active'), largest, 'the users chart climbs to the largest step');
    assert.ok(peak('planned') <= largest);
    assert.match(rec.html, /the users each step of the search let send, step by step/);
    assert.match(
      rec.html,
      new RegExp(
        `<caption>Search steps: the users each step let send \\(a waiting pool of ${fmtInt(pool).replace(',', '\\,?')} users sent only as a step let it\\)</caption>`,
      ),
    );
    const settings = rec.html.slice(rec.html.indexOf('id="settings"'));
    const rows = [...settings.matchAll(/<tr><td class="num">(\d+)<\/td><td class="num">[^<]*<\/td><td class="num">(\d+)<\/td><\/tr>/g)].map((m) =>
      Number(m[2]),
    );
    assert.deepEqual(rows, users, 'Settings: one row per step, its users');
    // JUnit and the pushed metrics.
    const junit = renderJUnit(r);
    assert.match(junit, new RegExp(`<property name="users.max" value="${largest}"/>`));
    assert.match(junit, new RegExp(`<property name="capacity.users.steps" value="${users.join(',')}"/>`));
    assert.match(junit, new RegExp(`<property name="capacity.waiting.pool" value="${pool}"/>`));
    const pushed = resultsExposition(r);
    assert.match(pushed, new RegExp(`^voxanne_run_users_max\\{[^}]*\\} ${largest}$`, 'm'));
    assert.equal([...pushed.matchAll(/^voxanne_capacity_step_users\{/gm)].length, users.length);
    assert.match(pushed, new RegExp(`^voxanne_capacity_users\\{[^}]*side="held"[^}]*\\} ${c.steps[c.held!].users}$`, 'm'));
  });

  test('the generator idles while users wait: every step at most 10 % of a core, the first included', () => {
    const c = recording('capacity').record.capacity!;
    // About 17 requests/s: the pool arrived in a burst before the first step, so no step pays for its arrival.
    for (const s of c.steps)
      assert.ok(s.cpuPct !== null && s.cpuPct <= 10, `step of ${s.users} users: generator CPU ${s.cpuPct} % at ${s.requestsPerSecond} req/s`);
  });

  test("held is never above broke: in users, and in the guide's users (both at one throughput)", () => {
    for (const name of ['capacity', 'capacity-generator-limit']) {
      const c = recording(name).record.capacity!;
      const held = c.held === null ? null : c.steps[c.held];
      const broke = c.stoppedAt === null || c.result === 'generator-limit' ? null : c.steps[c.stoppedAt];
      if (held && broke) assert.ok(held.users < broke.users, `${name}: held ${held.users}, broke ${broke.users}`);
      const g = c.guideUsers;
      if (g?.held != null && g.broke != null) assert.ok(g.held < g.broke, `${name}: guide's users held ${g.held}, broke ${g.broke}`);
      if (g?.held != null) assert.match(c.line, new RegExp(`about ${g.held} held.*by Little's law at [\\d.]+ req/s`));
    }
  });

  test('a backend faster than the load generator: the pack names itself as the bottleneck, from a step it measured twice', () => {
    const rec = recording('capacity-generator-limit');
    const c = rec.record.capacity!;
    assert.equal(c.result, 'generator-limit', c.line);
    const last = c.steps[c.stoppedAt!];
    assert.equal(last.verdict, 'generator-limit');
    // One saturated step is measured again before the search ends on it.
    assert.ok(c.steps.filter((s) => s.verdict === 'generator-limit').length >= 2, c.line);
    // Saturated by its CPU, or by its late event loop while busy itself (the limits the record gives).
    const l = c.limits;
    const byCpu = last.cpuPct! >= l.generatorCpuPct;
    const byLoop = last.loopDelayMs! >= l.generatorLoopDelayMs && last.cpuPct! >= (l.generatorLoopBusyCpuPct ?? 0);
    assert.ok(byCpu || byLoop, `generator CPU ${last.cpuPct} %, event-loop delay ${last.loopDelayMs} ms`);
    assert.match(c.line, byCpu ? /CPU [\d.]+ % of a core/ : /event-loop delay [\d.]+ ms/);
    assert.ok(c.atLeastRps! > 0);
    assert.ok(
      c.steps.every((s) => s.verdict !== 'broken'),
      'the backend never broke: the generator stopped the search',
    );
    assert.match(
      rec.summary,
      /^capacity: the load generator reached its limit at [\d.]+ req\/s before the backend broke: capacity is at least [\d.]+ req\/s .*--platform fargate or lambda/m,
    );
    assert.doesNotMatch(rec.summary, /broke at/);
    assert.equal(rec.record.exitCode, 0);
  });
});

describe('a distributed run', () => {
  test("its record comes from Artillery's combined output: the workers' totals, Artillery's own percentiles", () => {
    const rec = recording('distributed');
    const r = rec.record;
    const output = JSON.parse(readFileSync(join(FIXTURES, 'distributed', 'artillery.json'), 'utf8'));
    assert.deepEqual(r.platform, { name: 'fargate', count: 1, region: 'us-east-1' });
    assert.equal(r.totals.requests, output.aggregate.counters['voxanne.requests']);
    assert.equal(r.totals.latency?.p99, output.aggregate.summaries['http.response_time'].p99);
    assert.equal(r.periods.length, output.intermediate.length);
    assert.ok(
      r.periods.every((p) => p.latencySummary && p.latency === undefined),
      'summaries, no sketches',
    );
    assert.equal(r.outcome, 'passed');
    assert.equal(r.reason, 'Every gate passed (from a combined output: /health was not checked from here).');
    assert.match(rec.html, /AWS Fargate, 1 worker in us-east-1/);
    assert.match(rec.html, /Latency from Artillery's per-period summaries/);
    assert.match(rec.junit.find((c) => c.name === 'health before the load')?.skipped ?? '', /before \/health was checked/);
  });
});

describe('alerts and pushed metrics', () => {
  test('failed, aborted and unhealthy runs alert; passed, interrupted, refused and crashed ones do not', () => {
    const alerting = Object.keys(situations).filter((n) => ALERT_OUTCOMES.includes(recording(n).record.outcome));
    assert.deepEqual(alerting.sort(), [
      'aborted',
      'api-failing',
      'broken-bodies',
      'degraded-at-end',
      'errors',
      'health-degraded',
      'over-budget',
      'over-limit-confirmed',
      'rate-limit',
      'slow',
      'target-down',
      'timeouts',
      'too-short',
    ]);
  });

  test("the errors run's alert names the failed gate with its figures; its metrics say it failed", () => {
    const r = recording('errors').record;
    const g = gate(r, 'error-rate');
    const message = alertMessage(r, 'reports/x/report.html', {});
    assert.equal(message.text, `Voxanne load test FAILED: local, profile smoke: ${r.reason}`);
    const body = JSON.stringify(message.blocks);
    assert.ok(body.includes(`Failed gates:\\n• HTTP error rate: ${g.value} % (limit < 5 %)`), body);
    assert.ok(body.includes(`Requests: ${r.totals.requests} · error rate: ${r.totals.errorRatePct.toFixed(2)} %`), body);
    const metrics = resultsExposition(r);
    assert.match(metrics, /^voxanne_run_passed\{[^}]*outcome="failed"[^}]*\} 0$/m);
    assert.match(metrics, /^voxanne_run_exit_code\{[^}]*\} 1$/m);
    assert.match(metrics, new RegExp(`^voxanne_gate_value\\{[^}]*gate="error-rate"[^}]*\\} ${g.value}$`, 'm'));
    assert.match(metrics, /^voxanne_gate_passed\{[^}]*gate="error-rate",strict="true"[^}]*\} 0$/m);
  });
});

describe('two recordings side by side', () => {
  test('errors after healthy: the error rate is worse, its verdict flipped, the report says so', () => {
    const healthy = recording('healthy').record;
    const errors = recording('errors').record;
    const cmp = compare(errors, healthy);
    const row = cmp.gates.find((g) => g.gate.id === 'error-rate');
    assert.equal(row?.change?.trend, 'worse');
    assert.ok(verdictFlips(cmp).some((f) => f.gate.id === 'error-rate' && f.from === 'pass' && f.to === 'fail'));
    assert.equal(compare(healthy, errors).gates.find((g) => g.gate.id === 'error-rate')?.change?.trend, 'better');
    const { html } = recording('errors', healthy);
    assert.match(html, new RegExp(`data-compare="${healthy.id}"`));
    assert.match(textOf(html, 'id="compare"'), /Verdicts that changed: HTTP error rate pass → fail/);
    assert.match(textOf(html, 'data-gate="error-rate"'), /▲ \+[\d.]+ pts worse$/);
  });

  test('the index lists runs newest first with their verdicts', () => {
    const runs = ['healthy', 'errors', 'target-down'].map((n) => ({ ...recording(n).record, periods: [] }));
    const index = renderIndex(runs);
    const ids = [...index.matchAll(/<tr data-run="([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(
      ids,
      [...runs].sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt)).map((r) => r.id),
    );
    assert.match(textOf(index, `data-run="${runs[0].id}"`), /✓ Passed/);
    assert.match(textOf(index, `data-run="${runs[1].id}"`), /✗ Failed/);
  });
});
