// report.html: one self-contained page per run, built from the run record only. It opens from disk,
// sends no request (a Content-Security-Policy forbids any), and reads top-down in the order a
// person asks: did the backend hold, what went wrong, where (gates, endpoints, charts over time),
// better or worse than last time, and how the run was set up. Charts are SVG drawn here (see
// charts.ts for why); a little inline JavaScript adds the endpoint switch and hover read-outs.
import { sampleFailures, type ApiCheck, type HealthResult } from '../../checks/health';
import { errorRateOf, type EndpointSummary, type Gate, type RunRecord } from '../../record/record';
import { legend, renderChart, type ChartData } from './charts';
import {
  arrowFor,
  change,
  ERROR_KINDS,
  esc,
  fmtDuration,
  fmtInt,
  fmtMs,
  fmtNum,
  fmtPct,
  fmtTime,
  gateLimitText,
  gateValueText,
  measuredRequests,
  OUTCOME_WORD,
  outcomeClass,
  scriptJson,
  TOLERANCE_NOTE,
  TREND_WORD,
  type Change,
} from './format';
import { describePolicy } from '../../checks/ratelimit';
import { compare, count429, endpointErrorPct, rateLimitOf, samples, verdictFlips, type Comparison, type Unlike } from './comparison';
import { buildSeries, type Series, type SeriesSet } from './series';
import { clientScript } from './script';
import { capacitySection } from './capacity';
import { pageHead } from './style';

const ICON: Record<RunRecord['outcome'], string> = { passed: '✓', failed: '✗', unhealthy: '✗', aborted: '!', interrupted: '■', refused: '⊘', crashed: '✗' };

/** The limiter's policy as the target's headers gave it (the figures are the target's, not written here). */
const limiterText = (r: RunRecord): string => {
  const seen = rateLimitOf(r)?.atStart;
  return seen?.limit ? `${describePolicy(seen)} per IP` : 'per client IP';
};

/** What each endpoint's fallback means, from the catalog's declarations in the record. */
const fallbackNote = (r: RunRecord): string =>
  r.endpoints
    .filter((e) => e.fallback)
    .map((e) => `a “fallback” of ${esc(e.path)} is <code>${esc(e.fallback!.body)}</code>: ${esc(e.fallback!.meaning)}.`)
    .join(' ');
const gateText = (g: Gate) => gateValueText(g, (n) => fmtNum(n, 2));
const limitText = (g: Gate) => gateLimitText(g, (n) => fmtNum(n, 2), true);

function resultPill(g: Gate): string {
  if (g.passed) return '<span class="pill pass">✓ pass</span>';
  return g.strict ? '<span class="pill fail">✗ fail</span>' : '<span class="pill warn">! warning</span>';
}

function chg(c: Change | null, withWord = false, short = false): string {
  if (!c) return '<span class="muted">—</span>';
  const word = withWord ? ` ${TREND_WORD[c.trend]}` : '';
  return `<span class="chg ${c.trend}" title="${esc(`${c.text}: ${TREND_WORD[c.trend]}`)}">${arrowFor(c)} ${esc(short ? c.short : c.text)}${word}</span>`;
}

function codeClass(code: string): string {
  if (code === '429') return 'code-429';
  const n = Number(code);
  if (!Number.isFinite(n)) return 'code-none';
  return n >= 500 ? 'code-5xx' : n >= 400 ? 'code-4xx' : n >= 300 ? 'code-3xx' : 'code-2xx';
}

function codesCell(codes: Record<string, number>, requests: number): string {
  const entries = Object.entries(codes).sort((a, b) => a[0].localeCompare(b[0]));
  const answered = entries.reduce((s, [, n]) => s + n, 0);
  const none = Math.max(0, requests - answered);
  if (!entries.length && !none) return '<span class="muted">—</span>';
  const total = Math.max(1, answered + none);
  const bar = [
    ...entries.map(([code, n]) => `<i class="${codeClass(code)}" style="width:${((n / total) * 100).toFixed(2)}%" title="${esc(code)}: ${n}"></i>`),
    none ? `<i class="code-none" style="width:${((none / total) * 100).toFixed(2)}%" title="no answer: ${none}"></i>` : '',
  ].join('');
  const text = [...entries.map(([code, n]) => `${esc(code)} ×${fmtInt(n)}`), none ? `no answer ×${fmtInt(none)}` : ''].filter(Boolean).join(' · ');
  return `<span class="codes" aria-hidden="true">${bar}</span><span class="small">${text}</span>`;
}

function errorsByKind(e: EndpointSummary['errors']): string {
  const parts = ERROR_KINDS.filter((k) => e[k.key] > 0).map((k) => `${k.label}: ${fmtInt(e[k.key])}`);
  if (e.rateLimited > 0) parts.push(`429 rate limited: ${fmtInt(e.rateLimited)}`);
  return parts.join(', ');
}

function percentileCell(value: number | undefined, baseline: number | undefined): string {
  if (value === undefined) return '<td class="num muted">—</td>';
  if (baseline === undefined) return `<td class="num">${fmtMs(value)}</td>`;
  const over = value > baseline;
  return `<td class="num">${fmtMs(value)}<span class="sub${over ? ' over' : ''}" title="${over ? 'above' : 'within'} the guide's local baseline">${over ? '▲ ' : ''}guide ${fmtNum(baseline)} ms</span></td>`;
}

function healthCard(label: string, h: HealthResult | null): string {
  if (!h) {
    return `<div class="hcard"><div class="h">${esc(label)} <span class="pill skip">not checked</span></div><div class="small muted">No /health answer was recorded.</div></div>`;
  }
  const rows: string[] = [];
  rows.push(`<dt>Status</dt><dd>${h.status !== undefined ? `HTTP ${esc(h.status)}` : 'no answer'}${h.problem ? ` (${esc(h.problem)})` : ''}</dd>`);
  rows.push(`<dt>Latency</dt><dd>${h.latencyMs !== undefined ? fmtMs(h.latencyMs) : '—'}</dd>`);
  rows.push(`<dt>Failing services</dt><dd>${h.failingServices?.length ? `<strong>${esc(h.failingServices.join(', '))}</strong>` : 'none'}</dd>`);
  if (h.detail) rows.push(`<dt>Detail</dt><dd class="small">${esc(h.detail)}</dd>`);
  rows.push(`<dt>At</dt><dd>${esc(fmtTime(h.at).slice(11))}</dd>`);
  return `<div class="hcard"><div class="h">${esc(label)} ${h.ok ? '<span class="pill pass">✓ ok</span>' : '<span class="pill fail">✗ not ok</span>'}</div><dl class="kv small">${rows.join('')}</dl></div>`;
}

// ---------------------------------------------------------------------------------------------
// Sections

function banner(r: RunRecord, cmp: Comparison | null): string {
  const chips: string[] = [];
  for (const g of r.gates.filter((x) => x.strict && !x.passed)) {
    chips.push(
      `<span class="chip"><span class="pill fail">✗</span>${esc(g.title)}: <strong>${esc(gateText(g))}</strong> <span class="muted">(limit ${esc(limitText(g))})</span></span>`,
    );
  }
  const warnings = r.gates.filter((x) => !x.strict && !x.passed);
  if (warnings.length) {
    chips.push(
      `<span class="chip"><span class="pill warn">!</span>${warnings.length} budget warning${warnings.length > 1 ? 's' : ''}: ${esc(warnings.map((g) => g.endpoint ?? g.title).join(', '))}</span>`,
    );
  }
  const abort = (r as Partial<RunRecord>).abort;
  if (abort) chips.push(`<span class="chip"><span class="pill warn">!</span>Stopped early at ${esc(fmtTime(abort.at).slice(11))}: ${esc(abort.reason)}</span>`);
  const rl = rateLimitOf(r);
  if (rl?.limited)
    chips.push(`<span class="chip"><span class="pill warn">429</span>${fmtInt(rl.limited)} rate-limited answers (the limiter, not overload)</span>`);
  const api = (r as Partial<RunRecord>).apiCheck;
  if (api && !api.ok) chips.push(`<span class="chip"><span class="pill fail">✗</span>API check: ${esc(api.status ?? api.detail ?? 'failing')}</span>`);
  for (const [label, h] of [
    ['Health before', r.health.start],
    ['Health after', r.health.end],
  ] as const) {
    if (h && !h.ok) chips.push(`<span class="chip"><span class="pill fail">✗</span>${label}: ${esc(h.problem ?? 'not ok')}</span>`);
  }
  if (cmp) {
    const { better, worse, same } = cmp.counts;
    chips.push(
      worse || better
        ? `<a class="chip" href="#compare">Since the last run: <span class="chg worse">▲ ${worse} worse</span> <span class="chg better">▼ ${better} better</span> <span class="chg same">≈ ${same} same</span></a>`
        : `<a class="chip" href="#compare">Since the last run: <span class="chg same">≈ about the same on all ${same} figures</span></a>`,
    );
  } else {
    chips.push('<a class="chip" href="#compare">No earlier run of this kind to compare with</a>');
  }
  return `<div class="verdict v-${esc(r.outcome)}" role="status" data-outcome="${esc(r.outcome)}">
<div class="icon" aria-hidden="true">${ICON[r.outcome] ?? '?'}</div>
<p class="word">${esc(OUTCOME_WORD[r.outcome] ?? r.outcome)}<small>exit ${esc(r.exitCode)}</small></p>
<p class="reason">${esc(r.reason)}</p>
<div class="chips">${chips.join('')}</div>
</div>`;
}

function kpis(r: RunRecord, p: RunRecord | null): string {
  const t = r.totals;
  const pt = p?.totals;
  const gate = (id: string) => r.gates.find((g) => g.id === id);
  const state = (id: string) => {
    const g = gate(id);
    return !g ? '' : g.passed ? ' ok' : g.strict ? ' bad' : '';
  };
  const limit = (id: string) => {
    const g = gate(id);
    return g ? `gate ${limitText(g)}` : '';
  };
  const plannedMax = Math.max(0, ...r.profile.stages.map((s) => s.target));
  const tiles: Array<{ k: string; v: string; s: string; d?: Change | null; cls?: string }> = [
    {
      k: 'Requests',
      v: fmtInt(t.requests),
      s: `${fmtInt(t.errorCount)} errors${t.errors.rateLimited ? ` · ${fmtInt(t.errors.rateLimited)} × 429` : ''}`,
      d: change(pt?.requests, t.requests, 'count', 'higher'),
    },
    {
      k: 'Throughput',
      v: t.requests ? `${fmtNum(t.requestsPerSecond, 2)}<small> req/s</small>` : '—',
      s: esc(limit('request-rate')),
      d: change(pt?.requestsPerSecond, t.requestsPerSecond, 'req/s', 'higher'),
      cls: state('request-rate'),
    },
    {
      k: 'Error rate',
      v: t.requests ? `${t.errorRatePct.toFixed(2)}<small> %</small>` : '—',
      s: esc(limit('error-rate')),
      d: change(pt && errorRateOf(pt), errorRateOf(t), '%', 'lower'),
      cls: state('error-rate'),
    },
    {
      k: 'p50',
      v: t.latency ? `${fmtNum(t.latency.p50)}<small> ms</small>` : '—',
      s: `mean ${fmtMs(t.latency?.mean)}`,
      d: change(pt?.latency?.p50, t.latency?.p50, 'ms', 'lower', samples(pt?.latency, t.latency)),
    },
    {
      k: 'p95',
      v: t.latency ? `${fmtNum(t.latency.p95)}<small> ms</small>` : '—',
      s: `max ${fmtMs(t.latency?.max)}`,
      d: change(pt?.latency?.p95, t.latency?.p95, 'ms', 'lower', samples(pt?.latency, t.latency)),
    },
    {
      k: 'p99',
      v: t.latency ? `${fmtNum(t.latency.p99)}<small> ms</small>` : '—',
      s: esc(limit('p99')),
      d: change(pt?.latency?.p99, t.latency?.p99, 'ms', 'lower', samples(pt?.latency, t.latency)),
      cls: state('p99'),
    },
    r.capacity
      ? // A search's users are its steps': the largest one, out of the steps it ran (its waiting pool never sent all at once).
        { k: 'Peak users', v: `${fmtInt(t.maxUsers)}<small> largest step</small>`, s: `${r.capacity.steps.length} steps · ${fmtInt(t.crashedUsers)} crashed` }
      : {
          k: 'Peak users',
          v: `${fmtInt(t.maxUsers)}<small> of ${fmtInt(plannedMax)}</small>`,
          s: `${fmtInt(t.crashedUsers)} crashed`,
          d: change(pt?.maxUsers, t.maxUsers, 'count', 'higher'),
        },
    {
      k: 'Load',
      v: esc(fmtDuration(t.durationSeconds)).replace(/ (s|min|h)\b/g, '<small> $1</small>'),
      s: r.timeScale !== 1 ? `profile ×${esc(r.timeScale)}` : 'as profiled',
    },
  ];
  return `<div class="kpis" aria-label="Key figures">${tiles
    .map(
      (x) =>
        `<div class="kpi${x.cls ?? ''}"><div class="k">${x.k}</div><div class="v" data-kpi="${x.k}">${x.v}</div><div class="s">${x.s}</div>${
          p ? `<div class="d">${x.d !== undefined ? chg(x.d, false, true) : '&nbsp;'}</div>` : ''
        }</div>`,
    )
    .join(
      '',
    )}</div>${p ? `<p class="note" style="margin:-10px 0 14px">▲▼ under a figure: its change since the last run of ${kindText(r)} (green better, red worse, ≈ about the same).</p>` : ''}`;
}

/** The gates nearest their limits (value as a share of an upper limit), highest first. */
function headroom(r: RunRecord): string {
  const near = r.gates
    .filter((g) => g.comparator !== '>=' && g.limit > 0 && g.value !== null)
    .map((g) => ({ g, share: (g.value as number) / g.limit }))
    .sort((a, b) => b.share - a.share)
    .slice(0, 3);
  if (!near.length) return '';
  return `<h3>Closest to their limits</h3><ul class="diag">${near
    .map(
      ({ g, share }) =>
        `<li><strong>${esc(g.title)}</strong> ${esc(gateText(g))}: <span class="${share >= 0.8 ? 'chg worse' : ''}">${fmtNum(share * 100, 0)} %</span> of its ${esc(limitText(g))} ${g.endpoint ? 'budget' : 'gate'}</li>`,
    )
    .join('')}</ul>`;
}

function diagnosisSection(r: RunRecord): string {
  if (!r.diagnosis.length) {
    return `<section id="diagnosis" aria-labelledby="h-diag"><h2 id="h-diag">Diagnosis</h2><p>Nothing to flag: no gate failed, no timeouts, no crashed users, and /health was fine.</p>${headroom(r)}</section>`;
  }
  return `<section id="diagnosis" aria-labelledby="h-diag"><h2 id="h-diag">What went wrong <span class="sub">with the guide's "Common Issues" hints</span></h2><ul class="diag">${r.diagnosis
    .map((d) => `<li>${esc(d)}</li>`)
    .join('')}</ul>${headroom(r)}</section>`;
}

function gatesSection(r: RunRecord, cmp: Comparison | null): string {
  const strict = r.gates.filter((g) => g.strict);
  const warn = r.gates.filter((g) => !g.strict);
  const before = (g: Gate) => cmp?.gates.find((x) => x.gate.id === g.id);
  const head = `<tr><th scope="col">Gate</th><th scope="col" class="num">Value</th><th scope="col" class="num">Limit</th><th scope="col">Result</th>${cmp ? '<th scope="col" class="num">Last run</th><th scope="col">Change</th>' : ''}</tr>`;
  const row = (g: Gate) => {
    const b = before(g);
    const cls = g.passed ? '' : g.strict ? ' class="row-fail"' : ' class="row-warn"';
    return `<tr${cls} data-gate="${esc(g.id)}"><th scope="row">${esc(g.title)}<span class="expr">${esc(g.expression)}</span></th><td class="num">${esc(gateText(g))}</td><td class="num">${esc(limitText(g))}</td><td>${resultPill(g)}</td>${
      cmp ? `<td class="num">${b?.before ? esc(gateText(b.before)) : '—'}</td><td>${chg(b?.change ?? null, true)}</td>` : ''
    }</tr>`;
  };
  const out = [
    `<section id="gates" aria-labelledby="h-gates"><h2 id="h-gates">Gates <span class="sub">${strict.filter((g) => g.passed).length} of ${strict.length} passed; a failed gate fails the run</span></h2>`,
    `<div class="tw"><table class="gates"><thead>${head}</thead><tbody>${strict.map(row).join('')}</tbody></table></div>`,
  ];
  if (warn.length) {
    out.push(
      `<h3>Warnings <span class="sub">per-endpoint p95 budgets; they do not fail the run (use --strict to make them gates)</span></h3>`,
      `<div class="tw"><table class="gates warnings"><thead>${head}</thead><tbody>${warn.map(row).join('')}</tbody></table></div>`,
    );
  }
  out.push('</section>');
  return out.join('');
}

function apiCard(a: ApiCheck | null | undefined): string {
  const label = 'API before the load';
  if (!a) {
    return `<div class="hcard"><div class="h">${label} <span class="pill skip">not checked</span></div><div class="small muted">No /api request was made before the load.</div></div>`;
  }
  const rows: string[] = [
    `<dt>Request</dt><dd class="mono">GET ${esc(a.path)}</dd>`,
    `<dt>Status</dt><dd>${a.status !== undefined ? `HTTP ${esc(a.status)}${a.status === 429 ? ' (rate limited)' : ''}` : 'no answer'}</dd>`,
    `<dt>Latency</dt><dd>${a.latencyMs !== undefined ? fmtMs(a.latencyMs) : '—'}</dd>`,
  ];
  if (a.detail) rows.push(`<dt>Detail</dt><dd class="small">${esc(a.detail)}</dd>`);
  const failures = sampleFailures(a);
  if (failures) rows.push(`<dt>Samples</dt><dd class="small" data-api-samples>${esc(failures)}${a.ok ? '; flaky, not broken: the load ran' : ''}</dd>`);
  return `<div class="hcard"><div class="h">${label} ${a.ok ? '<span class="pill pass">✓ ok</span>' : '<span class="pill fail">✗ failing</span>'}</div><dl class="kv small">${rows.join('')}</dl></div>`;
}

function rateLimitCard(r: RunRecord): string {
  const rl = rateLimitOf(r);
  if (!rl) return '';
  const s = rl.atStart;
  const trouble = Boolean(rl.warning) || rl.limited > 0;
  const rows: string[] = [
    `<dt>Policy</dt><dd>${s ? esc(describePolicy(s)) : 'no rate-limit headers seen'}</dd>`,
    `<dt>Left at start</dt><dd>${s?.remaining !== undefined ? `${fmtInt(s.remaining)}${s.resetAt ? ` (resets ${esc(fmtTime(s.resetAt).slice(11))})` : ''}` : '—'}</dd>`,
    `<dt>Expected /api</dt><dd>~${fmtInt(rl.predictedApiRequests)} requests</dd>`,
    `<dt>429 answers</dt><dd>${rl.limited ? `<strong>${fmtInt(rl.limited)}</strong>` : '0'} (${rl.countedAsErrors ? 'counted as errors' : 'not counted as errors'})</dd>`,
  ];
  if (rl.spreadIps) rows.push('<dt>Client IPs</dt><dd>spread (one X-Forwarded-For address per request)</dd>');
  const warning = rl.warning ? `<p class="small" style="margin:6px 0 0">${esc(rl.warning)}</p>` : '';
  return `<div class="hcard"><div class="h">Rate limit ${trouble ? '<span class="pill warn">! see below</span>' : '<span class="pill pass">✓ fits</span>'}</div><dl class="kv small">${rows.join('')}</dl>${warning}</div>`;
}

function healthSection(r: RunRecord): string {
  return `<section id="health" aria-labelledby="h-health"><h2 id="h-health">Health and preflight <span class="sub">before and after the load</span></h2><div class="health">${healthCard(
    '/health before the load',
    r.health.start,
  )}${apiCard((r as Partial<RunRecord>).apiCheck)}${healthCard('/health after the load', r.health.end)}${rateLimitCard(r)}</div><p class="note">/health passing does not prove the API works: when Redis is down it still answers 200 while every /api request fails; the API check covers that.</p></section>`;
}

function endpointsSection(r: RunRecord): string {
  const gateOf = (e: EndpointSummary) => r.gates.find((g) => g.endpoint === e.name);
  const errorLimit = r.gates.find((g) => g.id === 'error-rate')?.limit ?? 5;
  const rows = r.endpoints.map((e) => {
    const g = gateOf(e);
    const l = e.latency;
    const errPct = endpointErrorPct(r, e);
    const cls = (g && !g.passed && g.strict) || (errPct ?? 0) >= errorLimit ? 'row-fail' : (g && !g.passed) || e.errorCount > 0 ? 'row-warn' : '';
    const ratio = l ? l.p95 / e.budgetP95Ms : 0;
    const gauge = l
      ? `<span class="gauge${ratio >= 1 ? ' over' : ratio >= 0.8 ? ' near' : ''}" role="img" aria-label="p95 is ${Math.round(ratio * 100)} % of the budget"><i style="width:${Math.min(100, ratio * 100).toFixed(1)}%"></i></span>`
      : '';
    const budgetState = !l
      ? '<span class="muted">no data</span>'
      : !g
        ? ''
        : g.passed
          ? '<span class="pill pass">✓ within</span>'
          : g.strict
            ? '<span class="pill fail">✗ over</span>'
            : '<span class="pill warn">! over</span>';
    const kinds = errorsByKind(e.errors);
    return `<tr class="${cls}" data-endpoint="${esc(e.name)}">
<th scope="row"><span class="mono">GET ${esc(e.path)}</span><span class="sub">${esc(e.name)}</span></th>
<td class="num" data-col="requests">${fmtInt(e.requests)}</td>
<td class="num" data-col="errors">${fmtPct(errPct)}<span class="sub">${fmtInt(e.errorCount)} of ${fmtInt(measuredRequests(e.requests, e.errors, count429(r)))}</span>${kinds ? `<span class="sub">${esc(kinds)}</span>` : ''}</td>
${percentileCell(l?.p50, e.baseline?.p50)}${percentileCell(l?.p95, e.baseline?.p95)}${percentileCell(l?.p99, e.baseline?.p99)}
<td>${budgetState}${gauge}<span class="sub">${l ? `${Math.round(ratio * 100)} % of ` : ''}${fmtNum(e.budgetP95Ms)} ms</span></td>
<td>${codesCell(e.codes, e.requests)}</td>
<td class="num" data-col="checks">${e.expectationFailures ? `<strong>${fmtInt(e.expectationFailures)}</strong>` : '0'}${
      e.fallback ? `<span class="sub${e.fallbackAnswers ? ' over' : ''}">${fmtInt(e.fallbackAnswers)} fallback${e.fallbackAnswers === 1 ? '' : 's'}</span>` : ''
    }</td>
</tr>`;
  });
  const t = r.totals;
  rows.push(
    `<tr class="total"><th scope="row">All endpoints</th><td class="num">${fmtInt(t.requests)}</td><td class="num">${fmtPct(errorRateOf(t))}<span class="sub">${fmtInt(t.errorCount)} of ${fmtInt(measuredRequests(t.requests, t.errors, count429(r)))}</span></td>${percentileCell(t.latency?.p50, undefined)}${percentileCell(t.latency?.p95, undefined)}${percentileCell(t.latency?.p99, undefined)}<td></td><td>${codesCell(t.codes, t.requests)}</td><td class="num">${fmtInt(r.endpoints.reduce((s, e) => s + e.expectationFailures, 0))}</td></tr>`,
  );
  return `<section id="endpoints" aria-labelledby="h-ep"><h2 id="h-ep">Endpoints <span class="sub">latency against the guide's local baseline (“guide”) and the p95 budget</span></h2>
<div class="tw"><table class="endpoints"><thead><tr><th scope="col">Endpoint</th><th scope="col" class="num">Requests</th><th scope="col" class="num">Errors</th><th scope="col" class="num">p50</th><th scope="col" class="num">p95</th><th scope="col" class="num">p99</th><th scope="col">p95 budget</th><th scope="col">Status codes</th><th scope="col" class="num" title="Expectation failures: responses whose status or body did not match what the endpoint should answer; below, the fallback answers of endpoints that have one">Failed checks</th></tr></thead>
<tbody>${rows.join('')}</tbody></table></div>
<p class="note">Errors count transport errors, timeouts and unexpected statuses (a 401 the scenario expects is not an error). 429s come from the backend's rate limiter (${esc(limiterText(r))}), not from overload; ${
    !rateLimitOf(r)
      ? 'in this record they count as errors'
      : count429(r)
        ? 'in this run they count as errors (--count-429)'
        : 'they are left out of the error rate and have a gate of their own (--count-429 counts them as errors)'
  }. “Failed checks”: answers whose status or body was not what the endpoint should give; ${fallbackNote(r)} “guide”: the guide's local baseline, ▲ when above it.</p></section>`;
}

// ---------------------------------------------------------------------------------------------
// Charts

function peakText(values: Array<number | null>, from: number[], to: number[], unit: string, long: boolean, what: string): string {
  let best = -1;
  for (let i = 0; i < values.length; i++) if (values[i] !== null && (best < 0 || (values[i] as number) > (values[best] as number))) best = i;
  if (best < 0) return `${what}: no data.`;
  const at = (from[best] + to[best]) / 2;
  const mm = long ? `${Math.floor(at / 3600)} h ${Math.round((at % 3600) / 60)} min` : `${Math.floor(at / 60)} min ${Math.round(at % 60)} s`;
  return `${what}: peak ${fmtNum(values[best] as number, 2)} ${unit} about ${mm} in.`;
}

function variantCharts(r: RunRecord, s: Series, set: SeriesSet, idx: number, charts: Record<string, ChartData>): string {
  const long = s.span >= 3600;
  const base = { from: s.from, to: s.to, span: s.span, marks: marks(r, s) };
  const bucket = s.width * (s.periodMs / 1000);
  const per = bucket >= 60 ? `${fmtNum(bucket / 60, 1)} min` : `${fmtNum(bucket, 0)} s`;
  const endpoint = r.endpoints.find((e) => e.name === set.key);
  const id = (k: string) => `c${idx}-${k}`;
  const out: string[] = [];
  const add = (key: string, spec: Parameters<typeof renderChart>[0]) => {
    const { svg, data } = renderChart({ ...spec, id: id(key) });
    charts[id(key)] = data;
    return svg;
  };
  const label = set.key === 'all' ? 'all endpoints' : `GET ${set.label}`;

  out.push(
    `<div class="chart-box"><h3>Requests per second <span class="sub">${esc(label)}</span></h3>${legend([{ label: 'requests/s', cls: 's-rps', kind: 'line' }])}${add(
      'rps',
      {
        ...base,
        id: '',
        title: `Requests per second, ${label}`,
        summary: peakText(set.rps, s.from, s.to, 'requests/s', long, 'Requests per second'),
        unit: 'req/s',
        lines: [{ label: 'requests/s', cls: 's-rps', values: set.rps, area: true }],
        empty: 'No requests',
      },
    )}</div>`,
  );

  const p99Gate = r.gates.find((g) => g.id === 'p99');
  const ref: { value: number; label: string } | undefined =
    set.key === 'all'
      ? p99Gate
        ? { value: p99Gate.limit, label: `p99 gate ${fmtNum(p99Gate.limit)} ms` }
        : undefined
      : endpoint
        ? { value: endpoint.budgetP95Ms, label: `p95 budget ${fmtNum(endpoint.budgetP95Ms)} ms` }
        : undefined;
  const lat = renderChart({
    ...base,
    id: id('lat'),
    title: `Response time percentiles, ${label}`,
    summary: peakText(set.p99, s.from, s.to, 'ms', long, 'p99 response time'),
    unit: 'ms',
    lines: [
      { label: 'p50', cls: 's-p50', values: set.p50 },
      { label: 'p95', cls: 's-p95', values: set.p95 },
      { label: 'p99', cls: 's-p99', values: set.p99 },
    ],
    ref,
    empty: 'No responses',
  });
  charts[id('lat')] = lat.data;
  // The limit's line is drawn only when the data comes near it; otherwise the legend says where it is.
  const refItem = !ref ? '' : lat.refOnScale ? '' : `<li class="off">${esc(ref.label)}: far above the plotted range</li>`;
  out.push(
    `<div class="chart-box"><h3>Response time <span class="sub">${esc(label)}, per ${esc(per)}</span></h3>${legend([
      { label: 'p50', cls: 's-p50', kind: 'line' },
      { label: 'p95', cls: 's-p95', kind: 'line' },
      { label: 'p99', cls: 's-p99', kind: 'line' },
      ...(ref && lat.refOnScale ? [{ label: ref.label, cls: 'k-ref', kind: 'dashed' as const }] : []),
    ]).replace('</ul>', `${refItem}</ul>`)}${lat.svg}${
      set.approximate
        ? `<p class="note">Latency from Artillery's per-period summaries (a distributed run keeps no histograms)${s.width > 1 ? ': summaries cannot be merged, so a point shows the worst period in it' : ''}.</p>`
        : ''
    }</div>`,
  );

  const kinds = ERROR_KINDS.map((k) => ({ label: k.label, cls: k.cls, values: set.errors[k.key] }));
  const shown = kinds.filter((k) => k.values.some((v) => v > 0));
  const totalErrors = shown.reduce((sum, k) => sum + k.values.reduce((a, b) => a + b, 0), 0);
  const limited = set.errors.rateLimited;
  const limitedTotal = limited.reduce((a, b) => a + b, 0);
  out.push(
    `<div class="chart-box"><h3>Errors by kind <span class="sub">${esc(label)}, per ${esc(per)}; 429s apart below</span></h3>${
      shown.length ? legend(shown.map((k) => ({ label: k.label, cls: k.cls, kind: 'box' }))) : '<ul class="legend"><li>no errors</li></ul>'
    }${add('err', {
      ...base,
      id: '',
      title: `Errors by kind, ${label}`,
      summary: totalErrors
        ? `${fmtInt(totalErrors)} errors: ${shown.map((k) => `${fmtInt(k.values.reduce((a, b) => a + b, 0))} ${k.label}`).join(', ')}.`
        : 'No errors.',
      unit: 'errors',
      bars: shown.length ? shown : [kinds[0]],
      integer: true,
      empty: 'No errors',
    })}${
      limitedTotal
        ? `<h3>429 Too Many Requests <span class="sub">the rate limiter (${esc(limiterText(r))}), not overload: ${fmtInt(limitedTotal)} in all</span></h3>${add(
            '429',
            {
              ...base,
              id: '',
              title: `429 rate-limited answers, ${label}`,
              summary: `${fmtInt(limitedTotal)} answers were 429 Too Many Requests.`,
              unit: '429s',
              bars: [{ label: '429 rate limited', cls: 'k-429', values: limited }],
              integer: true,
              height: 130,
            },
          )}`
        : '<p class="note">No 429 (rate limited) answers.</p>'
    }</div>`,
  );
  return out.join('');
}

/** Where the breaker stopped the load, on every time chart. */
function marks(r: RunRecord, s: Series): Array<{ at: number; label: string }> {
  const abort = (r as Partial<RunRecord>).abort;
  const at = abort ? (Date.parse(abort.at) - s.t0) / 1000 : NaN;
  return Number.isFinite(at) ? [{ at, label: 'stopped early' }] : [];
}

function usersChart(r: RunRecord, s: Series, charts: Record<string, ChartData>): string {
  const long = s.span >= 3600;
  const { svg, data } = renderChart({
    marks: marks(r, s),
    id: 'c-users',
    title: 'Active users, planned and measured',
    summary: peakText(s.usersActive, s.from, s.to, 'users', long, 'Active users'),
    from: s.from,
    to: s.to,
    span: s.span,
    unit: 'users',
    lines: [
      { label: 'planned', cls: 's-planned band', values: s.usersPlanned },
      { label: 'active', cls: 's-active', values: s.usersActive },
    ],
    integer: true,
    empty: 'No users',
  });
  charts['c-users'] = data;
  if (r.capacity) {
    return `<div class="chart-box"><h3>Active users <span class="sub">the users each step of the search let send, step by step${s.width > 1 ? ', peak per point' : ''}</span></h3>${legend(
      [
        { label: 'sending (the step at that time)', cls: 's-active', kind: 'line' },
        { label: 'the step set last', cls: 's-planned', kind: 'band' },
      ],
    )}${svg}</div>`;
  }
  return `<div class="chart-box"><h3>Active users <span class="sub">planned by the profile vs measured${s.width > 1 ? ', peak per point' : ''}</span></h3>${legend(
    [
      { label: 'active (measured)', cls: 's-active', kind: 'line' },
      { label: 'planned by the profile', cls: 's-planned', kind: 'band' },
    ],
  )}${svg}</div>`;
}

function chartsSection(r: RunRecord, charts: Record<string, ChartData>): { html: string; series: Series | null } {
  if (!r.periods.length) {
    return {
      html: `<section id="charts" aria-labelledby="h-charts"><h2 id="h-charts">Over time</h2><p class="muted">No load was measured, so there is nothing to chart.</p></section>`,
      series: null,
    };
  }
  const s = buildSeries(r);
  const sets = [s.all, ...s.endpoints];
  const bucket = s.width * (s.periodMs / 1000);
  const variants = sets.map((set, i) => `<div class="variant" data-ep="${esc(set.key)}"${i ? ' hidden' : ''}>${variantCharts(r, s, set, i, charts)}</div>`);
  const select = `<div class="charts-head js-only"><label for="ep">Endpoint</label><select id="ep">${sets
    .map((set) => `<option value="${esc(set.key)}">${esc(set.key === 'all' ? 'All endpoints' : `GET ${set.label}`)}</option>`)
    .join('')}</select><span class="small muted">switches the requests, response-time and error charts; hover a chart for its figures</span></div>`;
  const html = `<section id="charts" aria-labelledby="h-charts"><h2 id="h-charts">Over time <span class="sub">${fmtInt(r.periods.length)} periods of ${fmtNum(s.periodMs / 1000)} s${
    s.width > 1 ? `, merged ${s.width} to a point (${fmtNum(bucket / 60, 1)} min)` : ''
  }</span></h2>${select}<div class="charts">${variants.join('')}${usersChart(r, s, charts)}</div>
<noscript><p class="note">Without JavaScript only the charts for all endpoints are shown.</p></noscript></section>`;
  return { html, series: s };
}

// ---------------------------------------------------------------------------------------------
// Comparison and settings

/** "local smoke ×0.25 against http://…": what makes runs comparable. */
const kindText = (r: RunRecord) => `${esc(r.environment)} ${esc(r.profile.name)} ×${esc(r.timeScale)} against <span class="mono">${esc(r.target)}</span>`;

function compareSection(r: RunRecord, p: RunRecord | null, cmp: Comparison | null, unlike: Unlike | null): string {
  if (!p || !cmp) {
    const left = unlike
      ? ` <a href="../${esc(encodeURIComponent(unlike.run.id))}/report.html">${esc(unlike.run.id)}</a> differs only in its ${unlike.differs.join(' and ')} (${kindText(unlike.run)}), so it is not compared: a load of another length or another server says nothing about this one.`
      : '';
    return `<section id="compare" aria-labelledby="h-cmp"><h2 id="h-cmp">Since the last run</h2><p class="muted" data-compare="none">No earlier run of ${kindText(r)} in this reports folder.${left}</p></section>`;
  }
  const { better, worse, same } = cmp.counts;
  const flips = verdictFlips(cmp);
  const flipText = flips.length
    ? `Verdicts that changed: ${flips
        .map(({ gate, from, to }) => `<strong>${esc(gate.title)}</strong> ${from} → <span class="chg ${gate.passed ? 'better' : 'worse'}">${to}</span>`)
        .join(', ')}.`
    : 'No gate changed its verdict.';
  const epRows = cmp.endpoints
    .map(({ e, before, p95, p99, err }) => {
      const worse = [p95, p99, err].some((c) => c?.trend === 'worse');
      return `<tr class="${worse ? 'row-warn' : ''}" data-endpoint="${esc(e.name)}"><th scope="row" class="mono">GET ${esc(e.path)}</th>
<td class="num">${fmtMs(before?.latency?.p95)} → ${fmtMs(e.latency?.p95)}<span class="sub">${chg(p95)}</span></td>
<td class="num">${fmtMs(before?.latency?.p99)} → ${fmtMs(e.latency?.p99)}<span class="sub">${chg(p99)}</span></td>
<td class="num">${fmtPct(endpointErrorPct(p, before))} → ${fmtPct(endpointErrorPct(r, e))}<span class="sub">${chg(err)}</span></td></tr>`;
    })
    .join('');
  return `<section id="compare" aria-labelledby="h-cmp" data-compare="${esc(p.id)}"><h2 id="h-cmp">Since the last run <span class="sub"><span class="chg worse">▲ ${worse} worse</span> · <span class="chg better">▼ ${better} better</span> · <span class="chg same">≈ ${same} about the same</span></span></h2>
<p>Compared with <a href="../${esc(encodeURIComponent(p.id))}/report.html">${esc(p.id)}</a> (started ${esc(fmtTime(p.startedAt))}, <span class="pill ${outcomeClass(p.outcome)}">${esc(OUTCOME_WORD[p.outcome] ?? p.outcome)}</span>), the previous run of ${kindText(r)}.</p>
<p>${flipText} Each gate's change is in the <a href="#gates">Gates</a> table (columns “Last run” and “Change”).</p>
<div class="tw"><table><caption>Endpoints (last run → this run)</caption><thead><tr><th scope="col">Endpoint</th><th scope="col" class="num">p95</th><th scope="col" class="num">p99</th><th scope="col" class="num">Error rate</th></tr></thead><tbody>${epRows}</tbody></table></div>
<p class="note">${esc(TOLERANCE_NOTE)} ▲/▼ show which way the figure moved; the colour and word say whether that is better or worse.</p></section>`;
}

function platformText(r: RunRecord): string {
  const p = (r as Partial<RunRecord>).platform;
  if (!p || p.name === 'local') return 'this machine';
  const where = p.name === 'fargate' ? 'AWS Fargate' : 'AWS Lambda';
  return `${esc(where)}, ${fmtInt(p.count)} worker${p.count === 1 ? '' : 's'}${p.region ? ` in ${esc(p.region)}` : ''}`;
}

function settingsSection(r: RunRecord): string {
  const stages = r.profile.stages
    .map(
      (st, i) =>
        `<tr><td class="num">${i + 1}</td><td class="num">${esc(st.duration < 60 ? `${fmtNum(st.duration, 1)} s` : fmtDuration(st.duration))}</td><td class="num">${esc(st.target)}</td></tr>`,
    )
    .join('');
  // A search has steps, not stages: the users of each, and how long each ran until the next was set.
  const c = r.capacity;
  const steps = c?.steps
    .map((st, i) => {
      const next = c.steps[i + 1]?.since ?? st.to;
      const secs = st.since !== undefined && next !== undefined ? (next - st.since) / 1000 : null;
      return `<tr><td class="num">${i + 1}</td><td class="num">${secs === null ? '—' : esc(`${fmtNum(secs, 1)} s`)}</td><td class="num">${esc(st.users)}</td></tr>`;
    })
    .join('');
  const table = c
    ? `<caption>Search steps: the users each step let send (a waiting pool of ${esc(fmtInt(c.waitingPool ?? 0))} users sent only as a step let it)</caption><thead><tr><th scope="col" class="num">Step</th><th scope="col" class="num">Duration</th><th scope="col" class="num">Users</th></tr></thead><tbody>${steps}</tbody>`
    : `<caption>Profile stages: concurrent users move linearly to each target</caption><thead><tr><th scope="col" class="num">Stage</th><th scope="col" class="num">Duration</th><th scope="col" class="num">Users</th></tr></thead><tbody>${stages}</tbody>`;
  const kv: Array<[string, string]> = [
    ['Target', `<span class="mono">${esc(r.target)}</span>`],
    ['Environment', esc(r.environment)],
    ['Profile', `<strong>${esc(r.profile.name)}</strong>: ${esc(r.profile.description)}`],
    ['Time scale', r.timeScale === 1 ? '×1 (as the profile says)' : `×${esc(r.timeScale)} (stage durations multiplied; the stages below are already scaled)`],
    ['Think time', `${esc(r.profile.thinkSeconds)} s between journeys`],
    ['Load from', platformText(r)],
    [
      'Auth',
      `${esc(r.auth.mode)}: ${esc(r.auth.description)}${r.auth.warning ? `<span class="sub over" style="display:block">! ${esc(r.auth.warning)}</span>` : ''}`,
    ],
    ['Started', esc(fmtTime(r.startedAt))],
    ['Ended', esc(fmtTime(r.endedAt))],
    ['Load', `${esc(fmtDuration(r.totals.durationSeconds))} measured`],
    ['Run', `<span class="mono">${esc(r.id)}</span>`],
    ['Pack', `${esc(r.pack.name)} ${esc(r.pack.version)} (record ${esc(r.schema)})`],
  ];
  return `<section id="settings" aria-labelledby="h-set"><h2 id="h-set">Settings</h2><div class="grid2"><dl class="kv">${kv
    .map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`)
    .join('')}</dl><div class="tw"><table>${table}</table></div></div></section>`;
}

/**
 * A run still going, for the live view (src/live/): the banner says "running", what the run is
 * doing and for how long, instead of a verdict. Times are epoch ms of the pack's clock.
 */
export interface Running {
  since: number;
  now: number;
  doing: string;
  /** Short states beside it (the breaker's, the periods so far), each with a word for its state. */
  notes: Array<{ key: string; state: string; text: string }>;
}

function runningBanner(live: Running): string {
  const notes = live.notes.map((n) => `<span class="chip" data-note="${esc(n.key)}" data-state="${esc(n.state)}">${esc(n.text)}</span>`).join('');
  return `<div class="verdict v-running" role="status" data-outcome="running">
<div class="icon" aria-hidden="true">●</div>
<p class="word">Running<small>for <span data-since="${live.since}" data-now="${live.now}">${esc(fmtDuration((live.now - live.since) / 1000))}</span></small></p>
<p class="reason" data-doing>${esc(live.doing)}</p>
<div class="chips">${notes}</div>
</div>`;
}

/** What changes as a run goes: the title, the main part, and the charts' data for the page's script. */
export interface ReportParts {
  title: string;
  main: string;
  data: string;
}

export function reportParts(record: RunRecord, previous: RunRecord | null, unlike: Unlike | null = null, running?: Running): ReportParts {
  const r = record;
  const p = previous;
  const cmp = p ? compare(r, p) : null;
  const charts: Record<string, ChartData> = {};
  const chartPart = chartsSection(r, charts);
  const series = chartPart.series;
  const word = running ? 'Running' : (OUTCOME_WORD[r.outcome] ?? r.outcome);
  const title = `${word}: ${r.environment} ${r.profile.name}, ${fmtTime(r.startedAt)} · Voxanne load test`;
  const data = { t0: series?.t0 ?? 0, long: (series?.span ?? 0) >= 3600, charts };
  const main = `
${running ? runningBanner(running) : banner(r, cmp)}
${kpis(r, p)}
${capacitySection(r, p)}
<div class="grid-dh">${diagnosisSection(r)}${healthSection(r)}</div>
${r.capacity ? '' : gatesSection(r, cmp)}
${endpointsSection(r)}
${chartPart.html}
${compareSection(r, p, cmp, unlike)}
${settingsSection(r)}
`;
  return { title, main, data: scriptJson(data) };
}

/**
 * The page; `unlike` names an earlier run left out of the comparison when there is no `previous`.
 * `live`: the page the live view serves, whose second script keeps its parts up to date.
 */
export function renderReport(
  record: RunRecord,
  previous: RunRecord | null,
  unlike: Unlike | null = null,
  live?: { running?: Running; script: string },
): string {
  const r = record;
  const { title, main, data } = reportParts(r, previous, unlike, live?.running);
  const script = clientScript();
  return `<!doctype html>
<html lang="en" class="no-js">
${pageHead(esc(title), { script, liveScript: live?.script })}
<body>
<a class="skip-link" href="#main">Skip to the report</a>
<div class="wrap">
<header class="top"><span class="brand">Voxanne load test</span><h1>${esc(r.environment)} · ${esc(r.profile.name)}${r.timeScale !== 1 ? ` <span class="muted" style="font-weight:400">×${esc(r.timeScale)}</span>` : ''}</h1>
<span class="meta">${esc(fmtTime(r.startedAt))} · <span class="mono">${esc(r.target)}</span> · run <span class="mono">${esc(r.id)}</span> · <a href="../index.html">all runs</a></span></header>
<nav class="toc" aria-label="Sections">${r.capacity ? '<a href="#capacity">Capacity</a>' : ''}<a href="#diagnosis">Diagnosis</a>${r.capacity ? '' : '<a href="#gates">Gates</a>'}<a href="#health">Health</a><a href="#endpoints">Endpoints</a><a href="#charts">Over time</a><a href="#compare">Since the last run</a><a href="#settings">Settings</a></nav>
<main id="main">${main}</main>
<p class="small muted">Built from run.json by ${esc(r.pack.name)} ${esc(r.pack.version)}. Percentiles come from merged DDSketch histograms (within 1 %).</p>
</div>
<script type="application/json" id="chart-data">${data}</script>
<script>${script}</script>${live ? `\n<script>${live.script}</script>` : ''}
</body>
</html>
`;
}
