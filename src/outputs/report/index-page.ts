// reports/index.html: every run in the reports folder, newest first, with its verdict and key
// figures and a link to its report, plus a trend of p99 and error rate per kind of run (environment,
// target, profile and time scale: the comparison's grouping, since other runs are not comparable).
import { sparkline } from './charts';
import { kindKey } from './comparison';
import { errorRateOf, type RunRecord } from '../../record/record';
import { esc, fmtDuration, fmtInt, fmtMs, fmtNum, fmtPct, fmtTime, OUTCOME_WORD, outcomeClass } from './format';
import { pageHead } from './style';

const TREND_RUNS = 30;

const href = (r: RunRecord) => `${encodeURIComponent(r.id)}/report.html`;
const byStart = (a: RunRecord, b: RunRecord) => Date.parse(b.startedAt) - Date.parse(a.startedAt) || b.id.localeCompare(a.id);

function trendCard(runs: RunRecord[]): string {
  const chrono = [...runs].sort(byStart).slice(0, TREND_RUNS).reverse();
  const last = chrono[chrono.length - 1];
  const limit = (id: string) => last.gates.find((g) => g.id === id)?.limit;
  const kind = `${last.environment} ${last.profile.name} ×${last.timeScale} against ${last.target}`;
  const tip = (r: RunRecord, what: string) => `${r.id}: ${what} (${OUTCOME_WORD[r.outcome] ?? r.outcome})`;
  const p99 = sparkline(
    chrono.map((r) => ({ value: r.totals.latency?.p99 ?? null, cls: `o-${r.outcome}`, tip: tip(r, `p99 ${fmtMs(r.totals.latency?.p99)}`) })),
    { width: 320, height: 70, limit: limit('p99'), unit: 'ms', label: `p99 over the last ${chrono.length} runs of ${kind}` },
  );
  const err = sparkline(
    chrono.map((r) => ({ value: errorRateOf(r.totals), cls: `o-${r.outcome}`, tip: tip(r, `error rate ${fmtPct(errorRateOf(r.totals))}`) })),
    { width: 320, height: 70, limit: limit('error-rate'), unit: '%', label: `Error rate over the last ${chrono.length} runs of ${kind}` },
  );
  return `<div class="trend" data-kind="${esc(kindKey(last))}"><h3>${esc(last.environment)} · ${esc(last.profile.name)} ×${esc(last.timeScale)} <span class="sub">${chrono.length} run${chrono.length > 1 ? 's' : ''}, oldest → newest</span><span class="sub mono target">${esc(last.target)}</span></h3>
<p class="lbl">p99 (ms)${limit('p99') !== undefined ? `, gate ${fmtNum(limit('p99') as number)} ms dashed when near` : ''}</p>${p99}
<p class="lbl">Error rate (%)${limit('error-rate') !== undefined ? `, gate ${fmtNum(limit('error-rate') as number)} % dashed when near` : ''}</p>${err}</div>`;
}

export function renderIndex(records: RunRecord[]): string {
  const runs = [...records].sort(byStart);
  const groups = new Map<string, RunRecord[]>();
  for (const r of runs) {
    const key = kindKey(r);
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const rows = runs
    .map((r) => {
      const t = r.totals;
      return `<tr data-run="${esc(r.id)}"><td class="small wide">${esc(fmtTime(r.startedAt))}</td>
<td class="wide"><a href="${esc(href(r))}" class="mono">${esc(r.id)}</a></td>
<td class="wide"><span class="pill ${outcomeClass(r.outcome)}">${{ pass: '✓', fail: '✗', warn: '!' }[outcomeClass(r.outcome)]} ${esc(OUTCOME_WORD[r.outcome] ?? r.outcome)}</span><span class="sub">${esc(r.reason)}</span></td>
<td data-label="Env">${esc(r.environment)}</td><td data-label="Profile">${esc(r.profile.name)}${r.timeScale !== 1 ? ` <span class="muted">×${esc(r.timeScale)}</span>` : ''}</td>
<td class="num" data-label="p99">${fmtMs(t.latency?.p99)}</td><td class="num" data-label="Errors">${fmtPct(errorRateOf(t))}</td><td class="num" data-label="req/s">${t.requests ? fmtNum(t.requestsPerSecond, 2) : '—'}</td><td class="num" data-label="Requests">${fmtInt(t.requests)}</td><td class="num" data-label="Load">${esc(fmtDuration(t.durationSeconds))}</td></tr>`;
    })
    .join('');
  const passed = runs.filter((r) => r.outcome === 'passed').length;
  return `<!doctype html>
<html lang="en">
${pageHead('Voxanne load test runs')}
<body><div class="wrap">
<header class="top"><span class="brand">Voxanne load test</span><h1>Runs</h1><span class="meta">${fmtInt(runs.length)} run${runs.length === 1 ? '' : 's'}, ${fmtInt(passed)} passed${runs[0] ? `; newest ${esc(fmtTime(runs[0].startedAt))}` : ''}</span></header>
<main>
${
  runs.length
    ? `<section aria-labelledby="h-trend"><h2 id="h-trend">Trends <span class="sub">per environment, target, profile and time scale (the runs a report compares); dots: green passed, red failed or unhealthy, amber stopped early or refused (hover for the run)</span></h2><div class="trends">${[
        ...groups.values(),
      ]
        .map(trendCard)
        .join('')}</div></section>`
    : ''
}
<section aria-labelledby="h-runs"><h2 id="h-runs">All runs <span class="sub">newest first</span></h2>
${
  runs.length
    ? `<div class="tw"><table class="runs"><thead><tr><th scope="col">Started</th><th scope="col">Run</th><th scope="col">Verdict</th><th scope="col">Env</th><th scope="col">Profile</th><th scope="col" class="num">p99</th><th scope="col" class="num">Errors</th><th scope="col" class="num">req/s</th><th scope="col" class="num">Requests</th><th scope="col" class="num">Load</th></tr></thead><tbody>${rows}</tbody></table></div>`
    : '<p class="muted">No runs yet. Run <code>npm run test:local</code> to make one.</p>'
}
</section></main></div>
</body>
</html>
`;
}
