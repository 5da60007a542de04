// The reports from real runs: two smoke runs (one healthy, one with 15 % server errors, shared
// with other test files) against stand-ins, then report.html, junit.xml and index.html read back
// and checked against run.json; a day-long record for size and merging; escaping; the previous-run lookup; the report
// command; and the page in a real browser (Debian's chromium), offline, with no console errors.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { before, describe, test } from 'node:test';
import { type RunRecord } from '../src/record/record';
import { mergeSketches, summarize, type LatencySummary } from '../src/common/sketches';
import { fmtInt, fmtMs, fmtNum } from '../src/outputs/report/format';
import { renderReport } from '../src/outputs/report/html';
import { findPrevious, readRuns, SUMMARY_CACHE, writeReports } from '../src/outputs/report/index';
import { renderIndex } from '../src/outputs/report/index-page';
import { renderJUnit } from '../src/outputs/junit';
import { buildSeries, MAX_POINTS } from '../src/outputs/report/series';
import { packInProcess } from './in-process';
import { healthyThenFailing, type SharedRun } from './shared-runs';
import { fits } from './layout';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// ---------------------------------------------------------------------------------------------
// A tiny XML reader: enough to prove junit.xml is well formed and to read its elements.

interface XmlNode {
  name: string;
  attrs: Record<string, string>;
  children: XmlNode[];
  text: string;
}

const unescapeXml = (s: string) =>
  s.replace(/&(lt|gt|quot|apos|amp|#\d+|#x[0-9a-f]+);/gi, (_, e: string) =>
    e === 'lt'
      ? '<'
      : e === 'gt'
        ? '>'
        : e === 'quot'
          ? '"'
          : e === 'apos'
            ? "'"
            : e === 'amp'
              ? '&'
              : String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : Number(e.slice(1))),
  );

function parseXml(xml: string): XmlNode {
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  assert.ok(!/&(?!(lt|gt|quot|apos|amp|#\d+|#x[0-9a-f]+);)/i.test(body), 'every & is an entity');
  const root: XmlNode = { name: '#root', attrs: {}, children: [], text: '' };
  const stack = [root];
  const re = /<(\/?)([A-Za-z_][\w.-]*)((?:\s+[\w.-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/g;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = re.exec(body))) {
    assert.equal(m.index, consumed, `unparsable XML near: ${body.slice(consumed, consumed + 60)}`);
    consumed = re.lastIndex;
    const top = stack[stack.length - 1];
    if (m[5] !== undefined) {
      top.text += unescapeXml(m[5]);
      continue;
    }
    const [, close, name, attrText, selfClose] = m;
    if (close) {
      assert.equal(top.name, name, `</${name}> closes <${top.name}>`);
      stack.pop();
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of attrText.matchAll(/([\w.-]+)="([^"]*)"/g)) {
      assert.ok(!(a[1] in attrs), `duplicate attribute ${a[1]}`);
      attrs[a[1]] = unescapeXml(a[2]);
    }
    const node: XmlNode = { name, attrs, children: [], text: '' };
    top.children.push(node);
    if (!selfClose) stack.push(node);
  }
  assert.equal(consumed, body.length, 'the whole document parsed');
  assert.equal(stack.length, 1, 'every element closed');
  assert.equal(root.children.length, 1, 'one root element');
  return root.children[0];
}

// ---------------------------------------------------------------------------------------------
// Real runs

interface Run {
  code: number | null;
  out: string;
  dir: string;
  record: RunRecord;
  html: string;
  junit: string;
}

function readRun(run: SharedRun): Run {
  assert.ok(run.dir && existsSync(join(run.dir, 'run.json')), `a run folder (exit ${run.code}, output: ${(run.stdout + run.stderr).slice(-800)})`);
  return {
    code: run.code,
    out: run.stdout + run.stderr,
    dir: run.dir,
    record: JSON.parse(readFileSync(join(run.dir, 'run.json'), 'utf8')),
    html: readFileSync(join(run.dir, 'report.html'), 'utf8'),
    junit: readFileSync(join(run.dir, 'junit.xml'), 'utf8'),
  };
}

/** The text of an element found by an attribute, tags stripped, spaces squeezed. */
function textOf(html: string, attr: string): string {
  const at = html.indexOf(attr);
  assert.ok(at >= 0, `${attr} in the page`);
  const start = html.lastIndexOf('<', at);
  const tag = /^<(\w+)/.exec(html.slice(start))?.[1] as string;
  let depth = 0;
  const re = new RegExp(`<(/?)${tag}\\b[^>]*>`, 'g');
  re.lastIndex = start;
  let m: RegExpExecArray | null;
  while ((m = re.exec(html))) {
    depth += m[1] ? -1 : 1;
    if (depth === 0) break;
  }
  return html
    .slice(start, re.lastIndex)
    .replace(/<[^>]+>/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/\s+/g, ' ')
    .trim();
}

let reports: string;
let healthy: Run;
let failing: Run;

before(async () => {
  // Two runs into one reports folder (test/shared-runs.ts): a healthy one, then 15 % server errors.
  const runs = await healthyThenFailing();
  reports = runs.reports;
  healthy = readRun(runs.healthy);
  failing = readRun(runs.failing);
});

describe('a healthy run', () => {
  test('passes and prints where its report is', () => {
    assert.equal(healthy.code, 0, healthy.out.slice(-1500));
    assert.equal(healthy.record.outcome, 'passed');
    assert.match(healthy.out, /report: .*report\.html/);
  });

  test('report.html shows the verdict and the figures of run.json', () => {
    const { html, record: r } = healthy;
    assert.match(html, /<div class="verdict v-passed"[^>]*data-outcome="passed"/);
    assert.match(textOf(html, 'class="verdict'), /^✓ Passed exit 0 Every gate passed/);
    assert.equal(textOf(html, 'data-kpi="Requests"'), fmtInt(r.totals.requests));
    const p99 = r.totals.latency?.p99 as number;
    assert.equal(textOf(html, 'data-kpi="p99"'), `${fmtNum(p99)} ms`);
    const p99Row = textOf(html, 'data-gate="p99"');
    assert.ok(p99Row.includes(`${fmtNum(p99, 2)} ms`) && /✓ pass/.test(p99Row), p99Row);
    for (const e of r.endpoints) {
      const row = textOf(html, `data-endpoint="${e.name}"`);
      assert.ok(row.startsWith(`GET ${e.path} ${e.name} ${fmtInt(e.requests)} `), row);
      assert.ok(row.includes(fmtMs(e.latency?.p95)) && row.includes(`guide ${fmtNum(e.baseline.p95)} ms`), row);
    }
    assert.match(html, /data-compare="none"/);
    assert.match(html, /No earlier run of this kind to compare with/);
    assert.ok(!/eyJ[\w-]+\.[\w-]+\./.test(html), 'no token in the page');
    assert.ok(html.includes(r.auth.description.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/'/g, '&#39;')), 'the auth description');
  });

  test('junit.xml parses, lists every gate and passes', () => {
    const suite = parseXml(healthy.junit);
    assert.equal(suite.name, 'testsuite');
    const cases = suite.children.filter((c) => c.name === 'testcase');
    assert.equal(Number(suite.attrs.tests), cases.length);
    assert.equal(suite.attrs.failures, '0');
    assert.equal(cases.length, healthy.record.gates.length + 4, 'gates + /health twice + API check + verdict');
    for (const g of healthy.record.gates) {
      const c = cases.find((x) => x.attrs.name === (g.endpoint ? `${g.endpoint} p95 within ${g.limit} ms budget` : g.title));
      assert.ok(c, `a testcase for ${g.id}`);
    }
    assert.ok(cases.some((c) => c.attrs.name === 'health before the load'));
    assert.ok(cases.some((c) => c.attrs.name === 'health after the load'));
  });
});

describe('a run with 15 % server errors', () => {
  test('fails on the error-rate gate', () => {
    assert.equal(failing.code, 1, failing.out.slice(-1500));
    assert.equal(failing.record.outcome, 'failed');
    assert.ok(failing.record.gates.find((g) => g.id === 'error-rate')?.passed === false);
  });

  test('report.html shows the failure, where it hurt and the diagnosis', () => {
    const { html, record: r } = failing;
    assert.match(html, /data-outcome="failed"/);
    assert.match(textOf(html, 'class="verdict'), /Failed exit 1 Gate failed: HTTP error rate\./);
    const gateRow = /<tr class="row-fail" data-gate="error-rate">/.exec(html);
    assert.ok(gateRow, 'the error-rate gate row is marked failed');
    assert.match(textOf(html, 'data-gate="error-rate"'), /✗ fail/);
    assert.match(textOf(html, 'data-kpi="Error rate"'), new RegExp(`^${r.totals.errorRatePct.toFixed(2)} %$`));
    assert.match(html, /What went wrong/);
    assert.ok(html.includes('High error rate ('), 'the diagnosis');
    // The errors chart draws the 5xx bars.
    assert.match(html, /<path class="bar k-5xx" d="M[\d.]+ [\d.]+h/);
  });

  test('report.html compares with the healthy run before it', () => {
    const { html } = failing;
    assert.match(html, new RegExp(`data-compare="${healthy.record.id}"`));
    assert.ok(html.includes(`href="../${healthy.record.id}/report.html"`));
    const row = textOf(html, 'data-gate="error-rate"');
    assert.match(row, /0 % ▲ \+[\d.]+ pts worse$/);
    // (Budget warnings may change too: a busy machine slows the healthy run's small samples.)
    assert.match(textOf(html, 'id="compare"'), /Verdicts that changed: HTTP error rate pass → fail ?[.,]/);
    assert.match(textOf(html, `data-compare="${healthy.record.id}"`), /GET \/api\/assistants [\d.,]+ ms → [\d.,]+ ms/);
    assert.match(html, /<span class="chg worse">▲ [1-9]\d* worse<\/span>/);
  });

  test('junit.xml has a failure for the error-rate gate and the verdict', () => {
    const suite = parseXml(failing.junit);
    const cases = suite.children.filter((c) => c.name === 'testcase');
    const failed = cases.filter((c) => c.children.some((x) => x.name === 'failure')).map((c) => c.attrs.name);
    assert.deepEqual(failed.sort(), ['HTTP error rate', 'run verdict']);
    assert.equal(suite.attrs.failures, '2');
    const failure = cases.find((c) => c.attrs.name === 'HTTP error rate')?.children.find((x) => x.name === 'failure');
    assert.match(failure?.attrs.message ?? '', /^HTTP error rate [\d.]+ %, limit < 5 %$/);
  });

  test('index.html lists both runs, newest first, with links and a trend', () => {
    const index = readFileSync(join(reports, 'index.html'), 'utf8');
    const ids = [...index.matchAll(/<tr data-run="([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(ids, [failing.record.id, healthy.record.id]);
    for (const id of ids) assert.ok(index.includes(`href="${id}/report.html"`));
    assert.match(textOf(index, `data-run="${failing.record.id}"`), /✗ Failed/);
    const row = textOf(index, `data-run="${healthy.record.id}"`);
    assert.ok(row.includes('✓ Passed') && row.includes(`${fmtMs(healthy.record.totals.latency?.p99)} 0.00 %`), row);
    assert.match(index, /<svg class="spark"/);
  });

  test('npm run report rebuilds a run folder; a bad folder is one line and exit 2', async () => {
    const cli = async (args: string[]) => {
      const r = await packInProcess('report', args);
      return { code: r.code, out: r.stdout, err: r.stderr };
    };
    // A copy of the reports folder: the runs are shared with other test files.
    const copy = mkdtempSync(join(tmpdir(), 'voxanne-report-'));
    cpSync(reports, copy, { recursive: true });
    const dir = join(copy, basename(failing.dir));
    rmSync(join(dir, 'report.html'));
    const ok = await cli([dir]);
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /FAILED: Gate failed: HTTP error rate\./);
    assert.equal(readFileSync(join(dir, 'report.html'), 'utf8'), failing.html, 'the same page as the run wrote');
    const bad = await cli([join(copy, 'no-such-run')]);
    assert.equal(bad.code, 2);
    assert.equal(bad.out, '');
    assert.match(bad.err, /^error: .*no-such-run does not exist; pass a run folder[^\n]*\n$/);
  });
});

// ---------------------------------------------------------------------------------------------
// Without running anything

/** A day of periods made of the healthy run's real ones, repeated. */
function dayLong(base: RunRecord): RunRecord {
  const real = base.periods.filter((p) => p.requests > 0);
  const t0 = base.periods[0].start;
  const periods = Array.from({ length: 8640 }, (_, i) => ({ ...real[i % real.length], start: t0 + i * 10_000 }));
  return { ...base, id: 'day', periods, totals: { ...base.totals, durationSeconds: 86_400 } };
}

describe('reports without a run', () => {
  test('a 24-hour record: at most 500 points, exact merged percentiles, no raw sketches, < 2 MB', () => {
    const r = dayLong(healthy.record);
    const series = buildSeries(r);
    assert.ok(series.from.length <= MAX_POINTS && series.from.length >= 400, `${series.from.length} points`);
    // A bucket's percentiles are those of its periods' sketches merged.
    const w = series.width;
    const merged = mergeSketches(r.periods.slice(w * 7, w * 8).map((p) => p.latency));
    assert.equal(series.all.p99[7], Math.round((merged?.getValueAtQuantile(0.99) as number) * 10) / 10);
    assert.equal(
      series.all.requests[7],
      r.periods.slice(w * 7, w * 8).reduce((s, p) => s + p.requests, 0),
    );
    // How long this takes is measured by npm run bench:report, not asserted here (shared, noisy machines).
    const html = renderReport(r, healthy.record);
    assert.ok(Buffer.byteLength(html) < 2 * 1024 * 1024, `${Buffer.byteLength(html)} bytes`);
    const sketch = r.periods[0].latency as string;
    assert.ok(!html.includes(sketch.slice(0, 40)), 'no raw sketch in the page');
    assert.match(html, /elapsed h:mm/);
  });

  test('periods without sketches (distributed runs) chart from their summaries', () => {
    const h = healthy.record;
    const strip = <T extends { latency?: string; latencySummary?: LatencySummary }>(e: T): T => {
      const { latency, ...rest } = e;
      return { ...rest, latencySummary: summarize(mergeSketches([latency])) ?? undefined } as T;
    };
    const r: RunRecord = {
      ...h,
      periods: h.periods.map((p) => ({ ...strip(p), endpoints: Object.fromEntries(Object.entries(p.endpoints).map(([k, e]) => [k, strip(e)])) })),
    };
    const series = buildSeries(r);
    const i = r.periods.findIndex((p) => p.latencySummary);
    assert.ok(i >= 0);
    assert.equal(series.all.p99[i], r.periods[i].latencySummary?.p99);
    assert.ok(series.all.approximate > 0);
    assert.match(renderReport(r, null), /Latency from Artillery's per-period summaries/);
  });

  test('text from the record is escaped, in HTML and in JUnit', () => {
    const evil = '<script>alert("x")</script> & \'q\'';
    const r: RunRecord = {
      ...healthy.record,
      reason: evil,
      target: 'http://127.0.0.1:1/"><img src=x onerror=alert(1)>',
      diagnosis: [evil, 'token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl leaked'],
      profile: { ...healthy.record.profile, description: '</script><script>alert(2)</script>' },
      endpoints: healthy.record.endpoints.map((e, i) => (i === 0 ? { ...e, path: '/</script>' } : e)),
      gates: healthy.record.gates.map((g, i) => (i === 0 ? { ...g, title: '<b>p99</b> & "x"' } : g)),
    };
    const html = renderReport(r, null);
    assert.ok(!html.includes('<script>alert'), 'no injected script');
    assert.ok(!html.includes('<img src=x'), 'no injected element');
    assert.ok(!html.includes('</script><script>'), 'no script break-out');
    assert.equal((html.match(/<script\b/g) ?? []).length, 2, "only the page's data and code blocks");
    assert.ok(html.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;'));
    assert.ok(!html.includes('eyJhbGciOiJIUzI1NiJ9'), 'a token in the text is redacted');
    const suite = parseXml(renderJUnit({ ...r, reason: `${evil}\u0001`, exitCode: 1, outcome: 'failed' }));
    const verdict = suite.children.find((c) => c.attrs.name === 'run verdict');
    assert.equal(verdict?.children.find((c) => c.name === 'failure')?.attrs.message, evil);
    assert.ok(suite.children.some((c) => c.attrs.name === '<b>p99</b> & "x"'));
    const index = renderIndex([r]);
    assert.ok(!index.includes('<script>alert') && index.includes('&lt;script&gt;alert'));
  });

  test('a run that sent no load still renders, shows "—" for its error rate everywhere, and JUnit fails its health check', () => {
    const h = healthy.record;
    const r: RunRecord = {
      ...h,
      outcome: 'unhealthy',
      exitCode: 3,
      reason: 'The target was not healthy before the load (refused); no load was sent.',
      health: { start: { ok: false, at: h.startedAt, problem: 'refused', detail: 'ECONNREFUSED' }, end: null },
      periods: [],
      endpoints: h.endpoints.map((e) => ({ ...e, requests: 0, latency: null, codes: {}, errorCount: 0 })),
      totals: { ...h.totals, requests: 0, requestsPerSecond: 0, durationSeconds: 0, latency: null, errorCount: 0, errorRatePct: 0, codes: {} },
    };
    const html = renderReport(r, null);
    assert.match(html, /data-outcome="unhealthy"/);
    assert.match(html, /No load was measured, so there is nothing to chart/);
    // Nothing was sent, so there is no error rate: "—", never "0.00 %".
    assert.equal(textOf(html, 'data-kpi="Error rate"'), '—');
    assert.equal(textOf(html, 'data-kpi="Throughput"'), '—');
    assert.match(textOf(html, 'class="total"'), /^All endpoints 0 — 0 of 0/);
    assert.doesNotMatch(html, /0\.00 %/);
    const index = renderIndex([r]);
    assert.match(textOf(index, `data-run="${r.id}"`), / — — — 0 0 s$/, 'p99, error rate and req/s');
    assert.doesNotMatch(index, /0\.00 %/);
    const suite = parseXml(renderJUnit(r));
    const props = suite.children.find((c) => c.name === 'properties')?.children ?? [];
    assert.equal(props.find((p) => p.attrs.name === 'error.rate.pct')?.attrs.value, '');
    const start = suite.children.find((c) => c.attrs.name === 'health before the load');
    assert.ok(start?.children.some((c) => c.name === 'failure'));
    const end = suite.children.find((c) => c.attrs.name === 'health after the load');
    assert.ok(end?.children.some((c) => c.name === 'skipped'));
  });

  test('the previous run is the newest earlier one of the same environment, target, profile and time scale', () => {
    const dir = mkdtempSync(join(tmpdir(), 'voxanne-prev-'));
    try {
      const h = { ...healthy.record, periods: [] };
      const at = (min: number) => new Date(Date.UTC(2026, 0, 1, 12, min)).toISOString();
      const runs: Array<[string, Partial<RunRecord>]> = [
        ['a-old', { environment: 'local', startedAt: at(0) }],
        ['b-prev', { environment: 'local', startedAt: at(10) }],
        ['c-other-profile', { environment: 'local', startedAt: at(20), profile: { ...h.profile, name: 'standard' } }],
        ['d-other-env', { environment: 'prod', startedAt: at(25) }],
        ['h-other-scale', { environment: 'local', startedAt: at(26), timeScale: 1 }],
        ['i-other-target', { environment: 'local', startedAt: at(27), target: 'http://127.0.0.1:1', timeScale: 0.1 }],
        ['f-later', { environment: 'local', startedAt: at(40) }],
      ];
      for (const [name, patch] of runs) {
        mkdirSync(join(dir, name));
        writeFileSync(join(dir, name, 'run.json'), JSON.stringify({ ...h, id: name, ...patch }));
      }
      mkdirSync(join(dir, 'e-broken'));
      writeFileSync(join(dir, 'e-broken', 'run.json'), '{"schema": "voxanne-run/1", "id": ');
      mkdirSync(join(dir, 'g-foreign'));
      writeFileSync(join(dir, 'g-foreign', 'run.json'), '{"hello": 1}');
      const current: RunRecord = { ...h, id: 'z-now', environment: 'local', startedAt: at(30) };
      mkdirSync(join(dir, 'z-now'));
      writeFileSync(join(dir, 'z-now', 'run.json'), JSON.stringify(current));
      assert.equal(findPrevious(current, join(dir, 'z-now'), readRuns(dir))?.id, 'b-prev');
      writeReports(current, join(dir, 'z-now'), dir);
      assert.match(readFileSync(join(dir, 'z-now', 'report.html'), 'utf8'), /data-compare="b-prev"/);
      const ids = [...readFileSync(join(dir, 'index.html'), 'utf8').matchAll(/<tr data-run="([^"]+)"/g)].map((m) => m[1]);
      assert.deepEqual(ids, ['f-later', 'z-now', 'i-other-target', 'h-other-scale', 'd-other-env', 'c-other-profile', 'b-prev', 'a-old']);
      // The trends group the same way: one for a, b, z and f; one each for the others.
      const index = readFileSync(join(dir, 'index.html'), 'utf8');
      assert.equal((index.match(/<div class="trend" data-kind=/g) ?? []).length, 5);
      assert.match(index, new RegExp(`local · ${h.profile.name} ×${h.timeScale} <span class="sub">4 runs`));
      // No run of the same kind: none is compared, and the nearest unlike run is named.
      const rehearsal: RunRecord = { ...current, id: 'y-rehearsal', timeScale: 0.5 };
      mkdirSync(join(dir, 'y-rehearsal'));
      writeReports(rehearsal, join(dir, 'y-rehearsal'), dir);
      const page = readFileSync(join(dir, 'y-rehearsal', 'report.html'), 'utf8');
      assert.doesNotMatch(page, /data-compare="(?!none)/);
      assert.equal(
        textOf(page, 'data-compare="none"').replace(/ \)/g, ')'),
        `No earlier run of local ${h.profile.name} ×0.5 against ${h.target} in this reports folder. i-other-target differs only in its time scale and target (local ${h.profile.name} ×0.1 against http://127.0.0.1:1), so it is not compared: a load of another length or another server says nothing about this one.`,
      );
      assert.match(page, /No earlier run of this kind to compare with/);
      // The summary caches follow run.json: a rewritten run.json is read again.
      assert.ok(existsSync(join(dir, 'b-prev', SUMMARY_CACHE)));
      writeFileSync(join(dir, 'b-prev', 'run.json'), JSON.stringify({ ...h, id: 'b-prev', environment: 'staging', startedAt: at(10) }));
      assert.equal(findPrevious(current, join(dir, 'z-now'), readRuns(dir))?.id, 'a-old');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// In a browser

describe('in a browser', () => {
  const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing (apt-get install chromium): browser checks NOT run`;

  test("the key figures and the index fit at 1,100 px and at a phone's 390 px: nothing runs past the page or its card", { skip, timeout: 60_000 }, async () => {
    // The failing run's report and the index, with a throughput of four digits and a long run id.
    const dir = mkdtempSync(join(tmpdir(), 'voxanne-layout-'));
    const busy: RunRecord = {
      ...failing.record,
      id: `${failing.record.id}-capacity-rehearsal`,
      totals: { ...failing.record.totals, requestsPerSecond: 1106.47, requests: 464_717 },
    };
    writeFileSync(join(dir, 'report.html'), renderReport(busy, healthy.record));
    writeFileSync(join(dir, 'index.html'), renderIndex([healthy.record, failing.record, busy]));
    const { chromium } = require('playwright-core') as typeof import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
    try {
      for (const width of [1100, 390]) {
        for (const file of ['report.html', 'index.html']) {
          const page = await browser.newPage({ viewport: { width, height: 900 } });
          await page.goto(`file://${join(dir, file)}`);
          const m = {
            ...(await fits(page)),
            ...(await page.evaluate(() => {
              const table = document.querySelector('table.runs')?.closest('.tw') as HTMLElement | null;
              return {
                runs: table ? [table.scrollWidth, table.clientWidth] : null,
                throughput: document.querySelector('[data-kpi="Throughput"]')?.textContent,
              };
            })),
          };
          const at = `${file} at ${width} px`;
          assert.ok(m.page[0] <= m.page[1], `${at}: the page is ${m.page[0]} px wide in ${m.page[1]}`);
          assert.deepEqual(m.clipped, [], `${at}: key figures cut`);
          if (file === 'report.html') assert.equal(m.throughput, '1,106.47 req/s');
          else assert.ok(m.runs && m.runs[0] <= m.runs[1], `${at}: the runs table is ${m.runs?.[0]} px wide in ${m.runs?.[1]}`);
          await page.close();
        }
      }
    } finally {
      await browser.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('report.html draws its charts offline, with no console error and no request', { skip, timeout: 60_000 }, async () => {
    const { chromium } = require('playwright-core') as typeof import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    });
    try {
      for (const file of [join(failing.dir, 'report.html'), join(reports, 'index.html')]) {
        const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
        const problems: string[] = [];
        const requests: string[] = [];
        page.on('console', (m) => {
          if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
        });
        page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
        page.on('request', (req) => requests.push(req.url()));
        const url = `file://${file}`;
        await page.goto(url);
        await page.waitForLoadState('load');
        if (file.endsWith('report.html')) {
          // Charts: every visible chart draws its data, as lines, bars, or dots where a line has a
          // lone point (a busy machine's 10 s run may give a series one point).
          const drawn = await page.$$eval('svg.chart', (svgs) =>
            svgs
              .filter((s) => (s as unknown as HTMLElement).getBoundingClientRect().width > 0)
              .map(
                (s) =>
                  Array.from(s.querySelectorAll('path.line, path.bar')).filter((p) => (p.getAttribute('d') ?? '').length > 10).length +
                  s.querySelectorAll('g.dots circle').length,
              ),
          );
          assert.ok(drawn.length >= 4, `${drawn.length} visible charts`);
          assert.ok(drawn.filter((n) => n > 0).length >= 4, `charts with paths: ${drawn.join(',')}`);
          // The endpoint switch shows that endpoint's charts.
          await page.selectOption('#ep', 'assistants');
          const shown = await page.$$eval('.variant', (vs) => vs.filter((v) => !(v as HTMLElement).hidden).map((v) => v.getAttribute('data-ep')));
          assert.deepEqual(shown, ['assistants']);
          const lat = page.locator('.variant[data-ep="assistants"] svg.chart').nth(1);
          assert.ok(((await lat.locator('path.line.s-p99').getAttribute('d')) ?? '').startsWith('M'));
          // Hovering a chart reads out its figures.
          await lat.scrollIntoViewIfNeeded();
          const box = await lat.boundingBox();
          assert.ok(box);
          await page.mouse.move(box.x + box.width * 0.45, box.y + box.height * 0.5);
          const tip = page.locator('.tip');
          assert.equal(await tip.isVisible(), true);
          assert.match((await tip.textContent()) ?? '', /p99.*ms/);
        } else {
          assert.ok((await page.locator('svg.spark path.line').count()) >= 1);
        }
        assert.deepEqual(problems, [], 'no console errors or warnings');
        assert.deepEqual(requests, [url], 'no request but the file itself');
        await page.close();
      }
    } finally {
      await browser.close();
    }
  });
});
