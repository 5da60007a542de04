// The report's capacity section (--profile capacity): the answer, the capacity curve (throughput
// and latency percentiles against users, the gates drawn in, the knee and the predicted and
// measured breaking points marked, the previous capacity run of the same kind dashed: environment,
// target and time scale) and the steps in the order the search ran them. Hand-made SVG, like
// charts.ts, for the same reasons.
import type { RunRecord } from '../../record/record';
import { H, W, legend, niceStep } from './charts';
import { esc, fmtNum, fmtTime } from './format';
import { round1 } from '../../common/round';

type Capacity = NonNullable<RunRecord['capacity']>;
type Step = Capacity['steps'][number];

const M = { left: 52, right: 14, top: 26, bottom: 34 };
const c = (n: number) => round1(n).toString();

interface Curve {
  label: string;
  cls: string;
  dashed?: boolean;
  points: Array<[number, number]>;
}

function axisMax(v: number): { max: number; step: number } {
  const step = niceStep(Math.max(v, 1e-9) / 4);
  return { max: Math.max(step, Math.ceil(v / step - 1e-9) * step), step };
}

interface Mark {
  users: number;
  label: string;
  cls: string;
}

/** One chart against users: lines with a dot per step, optional gate line and marks (knee, predicted, broke). */
function curveChart(o: {
  id: string;
  title: string;
  summary: string;
  unit: string;
  maxUsers: number;
  curves: Curve[];
  gate?: { value: number; label: string };
  marks: Mark[];
}): string {
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const dataMax = Math.max(0, ...o.curves.flatMap((k) => k.points.map((p) => p[1])));
  // The gate joins the scale when the data comes near it (as on the time charts).
  const gateOn = o.gate !== undefined && o.gate.value <= Math.max(dataMax, 1e-9) * 1.5;
  const y = axisMax(gateOn && o.gate ? Math.max(dataMax, o.gate.value) : dataMax);
  const x = axisMax(o.maxUsers);
  const xOf = (u: number) => M.left + (u / x.max) * plotW;
  const yOf = (v: number) => M.top + plotH - (Math.min(v, y.max) / y.max) * plotH;
  const out: string[] = [
    `<svg class="chart capacity" id="${o.id}" data-chart="${o.id}" viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="${o.id}-t ${o.id}-d" preserveAspectRatio="xMidYMid meet">`,
    `<title id="${o.id}-t">${esc(o.title)}</title><desc id="${o.id}-d">${esc(o.summary)}</desc>`,
  ];
  const grid: string[] = [];
  const labels: string[] = [];
  for (let v = 0; v <= y.max + 1e-9; v += y.step) {
    grid.push(`M${M.left} ${c(yOf(v))}H${W - M.right}`);
    labels.push(`<text x="${M.left - 6}" y="${c(yOf(v))}" dy="0.32em" text-anchor="end">${fmtNum(v, y.step < 1 ? 2 : 0)}</text>`);
  }
  for (let u = 0; u <= x.max + 1e-9; u += x.step) {
    grid.push(`M${c(xOf(u))} ${M.top}V${M.top + plotH}`);
    labels.push(`<text x="${c(xOf(u))}" y="${M.top + plotH + 16}" text-anchor="middle">${fmtNum(u, 0)}</text>`);
  }
  out.push(`<path class="grid" d="${grid.join('')}"/><path class="axis-line" d="M${M.left} ${M.top + plotH}H${W - M.right}"/>`);
  out.push(`<g class="axis">${labels.join('')}<text class="unit" x="${M.left - 6}" y="${M.top - 12}" text-anchor="end">${esc(o.unit)}</text>`);
  out.push(`<text class="unit" x="${W - M.right}" y="${H - 3}" text-anchor="end">concurrent users</text></g>`);
  if (o.gate && gateOn) {
    const yy = c(yOf(o.gate.value));
    out.push(
      `<path class="ref" d="M${M.left} ${yy}H${W - M.right}"/><text class="ref-label" x="${W - M.right - 4}" y="${yy}" dy="-4" text-anchor="end">${esc(o.gate.label)}</text>`,
    );
  }
  o.marks.forEach((m, i) => {
    const xx = c(xOf(m.users));
    // The label on the side with room: right of the line, unless near the right edge.
    const right = xOf(m.users) < M.left + plotW * 0.8;
    out.push(
      `<path class="mark ${m.cls}" data-mark="${esc(m.cls)}" d="M${xx} ${M.top}V${M.top + plotH}"/><text class="mark-label" x="${xx}" y="${M.top + 10 + i * 12}" dx="${right ? 4 : -4}" text-anchor="${right ? 'start' : 'end'}">${esc(m.label)}</text>`,
    );
  });
  for (const k of o.curves) {
    if (!k.points.length) continue;
    out.push(
      `<path class="line ${k.cls}${k.dashed ? ' dashed prev' : ''}" d="${k.points.map(([u, v], i) => `${i ? 'L' : 'M'}${c(xOf(u))} ${c(yOf(v))}`).join('')}"/>`,
    );
    out.push(
      `<g class="dots ${k.cls}${k.dashed ? ' prev' : ''}">${k.points.map(([u, v]) => `<circle cx="${c(xOf(u))}" cy="${c(yOf(v))}" r="${k.dashed ? 2 : 3}"><title>${esc(`${k.label}: ${fmtNum(v, 1)} ${o.unit} at ${u} users`)}</title></circle>`).join('')}</g>`,
    );
  }
  out.push('</svg>');
  return out.join('');
}

/** Points in order of users (the search runs its steps in another order). */
const pts = (steps: Step[], pick: (s: Step) => number | null | undefined): Array<[number, number]> =>
  [...steps]
    .sort((a, b) => a.users - b.users)
    .flatMap((s) => {
      const v = pick(s);
      return v === null || v === undefined ? [] : [[s.users, v] as [number, number]];
    });

const cell = (n: number | null | undefined, unit = '') =>
  n === null || n === undefined ? '<td class="num muted">—</td>' : `<td class="num">${fmtNum(n, n >= 100 ? 0 : 1)}${unit}</td>`;

export function capacitySection(r: RunRecord, previous: RunRecord | null): string {
  const cap = r.capacity;
  if (!cap) return '';
  const prev = previous?.capacity;
  const stop = cap.stoppedAt === null ? undefined : cap.steps[cap.stoppedAt];
  const maxUsers = Math.max(...cap.steps.map((s) => s.users), ...(prev?.steps.map((s) => s.users) ?? []), cap.predicted?.users ?? 0, 1);
  const marks: Mark[] = [
    ...(cap.knee ? [{ users: cap.knee.users, label: `knee ${cap.knee.users}`, cls: 'knee' }] : []),
    ...(cap.predicted ? [{ users: cap.predicted.users, label: `predicted ${cap.predicted.users}`, cls: 'predicted' }] : []),
    ...(stop?.verdict === 'broken' ? [{ users: stop.users, label: `broke ${stop.users}`, cls: 'broke' }] : []),
  ];
  const prevNote = prev ? ` (dashed: ${esc(previous.id)})` : '';
  const rps = curveChart({
    id: 'capacity-rps',
    title: 'Throughput against users',
    summary: `Requests per second at each step: ${cap.steps.map((s) => `${s.users} users ${fmtNum(s.requestsPerSecond, 1)}`).join(', ')}.`,
    unit: 'req/s',
    maxUsers,
    curves: [
      { label: 'requests/s', cls: 's-rps', points: pts(cap.steps, (s) => s.requestsPerSecond) },
      ...(prev ? [{ label: 'requests/s, previous run', cls: 's-rps', dashed: true, points: pts(prev.steps, (s) => s.requestsPerSecond) }] : []),
    ],
    marks,
  });
  const lat = curveChart({
    id: 'capacity-latency',
    title: 'Response time percentiles against users',
    summary: `p99 at each step: ${cap.steps.map((s) => `${s.users} users ${s.latency ? fmtNum(s.latency.p99, 0) : '-'} ms`).join(', ')}; gate ${cap.limits.p99Ms} ms.`,
    unit: 'ms',
    maxUsers,
    curves: [
      { label: 'p50', cls: 's-p50', points: pts(cap.steps, (s) => s.latency?.p50) },
      { label: 'p95', cls: 's-p95', points: pts(cap.steps, (s) => s.latency?.p95) },
      { label: 'p99', cls: 's-p99', points: pts(cap.steps, (s) => s.latency?.p99) },
      ...(prev ? [{ label: 'p99, previous run', cls: 's-p99', dashed: true, points: pts(prev.steps, (s) => s.latency?.p99) }] : []),
    ],
    gate: { value: cap.limits.p99Ms, label: `p99 gate ${fmtNum(cap.limits.p99Ms, 0)} ms` },
    marks,
  });
  const errors = curveChart({
    id: 'capacity-errors',
    title: 'Error rate and the generator against users',
    summary: `Error rate at each step, gate ${cap.limits.errorRatePct} %; the generator's CPU, limit ${cap.limits.generatorCpuPct} % of a core.`,
    unit: '%',
    maxUsers,
    curves: [
      { label: 'error rate %', cls: 's-p99', points: pts(cap.steps, (s) => s.errorRatePct) },
      { label: 'generator CPU % of a core', cls: 's-active', points: pts(cap.steps, (s) => s.cpuPct) },
    ],
    gate: { value: cap.limits.errorRatePct, label: `error-rate gate ${cap.limits.errorRatePct} %` },
    marks,
  });
  const rows = cap.steps
    .map((s, i) => {
      const verdict =
        s.verdict === 'held'
          ? `<span class="pill pass">✓ held</span>${i === cap.held ? ' <strong>highest held</strong>' : ''}`
          : s.verdict === 'broken'
            ? `<span class="pill fail">✗ broke</span> ${esc(s.broken.map((b) => `${b.gate} ${fmtNum(b.value, 1)} (limit ${b.limit})`).join(', '))}`
            : '<span class="pill warn">! generator limit</span>';
      const why = s.phase ? `${s.phase}${s.predicted ? ` ~${s.predicted.users}` : ''}` : '';
      return `<tr data-step="${s.users}" class="${s.verdict === 'held' ? '' : s.verdict === 'broken' ? 'row-fail' : 'row-warn'}"><td class="num">${i + 1}</td><td>${esc(why)}</td><td class="num">${s.users}</td>${cell(s.requestsPerSecond)}${cell(s.latency?.p50)}${cell(s.latency?.p95)}${cell(s.latency?.p99)}${cell(s.errorRatePct, ' %')}${cell(s.timeouts)}${cell(s.cpuPct, ' %')}${cell(s.loopDelayMs, ' ms')}<td class="num">${s.seconds ?? (s.periods ?? 0) * 10}</td><td>${verdict}</td></tr>`;
    })
    .join('');
  const prevLine = prev
    ? `<p>Previous capacity run of the same environment, target and time scale: <a href="../${esc(encodeURIComponent(previous.id))}/report.html">${esc(previous.id)}</a> (started ${esc(fmtTime(previous.startedAt))}): <span class="mono">${esc(prev.line)}</span></p>`
    : `<p class="muted" data-capacity-compare="none">No earlier capacity run of ${esc(r.environment)} against <span class="mono">${esc(r.target)}</span> at ×${esc(r.timeScale)} in this reports folder (see Since the last run).</p>`;
  return `<section id="capacity" aria-labelledby="h-cap"><h2 id="h-cap">Capacity <span class="sub">an adaptive search: users grow until throughput stops growing or a gate breaks, then the breaking point is predicted, checked and narrowed</span></h2>
<p class="capacity-line"><strong>${esc(cap.line)}</strong></p>
${prevLine}
<div class="charts"><div class="chart-box"><h3>Throughput <span class="sub">requests/s against users${prevNote}</span></h3>${legend([
    { label: 'requests/s', cls: 's-rps', kind: 'line' },
    ...(prev ? [{ label: 'previous run', cls: 's-rps', kind: 'dashed' as const }] : []),
  ])}${rps}</div>
<div class="chart-box"><h3>Response time <span class="sub">p50, p95, p99 against users${prevNote}</span></h3>${legend([
    { label: 'p50', cls: 's-p50', kind: 'line' },
    { label: 'p95', cls: 's-p95', kind: 'line' },
    { label: 'p99', cls: 's-p99', kind: 'line' },
    ...(prev ? [{ label: 'p99, previous run', cls: 's-p99', kind: 'dashed' as const }] : []),
    { label: `p99 gate ${cap.limits.p99Ms} ms`, cls: 'k-ref', kind: 'dashed' as const },
  ])}${lat}</div>
<div class="chart-box"><h3>Errors and the load generator <span class="sub">error rate and the generator's CPU against users</span></h3>${legend([
    { label: 'error rate %', cls: 's-p99', kind: 'line' },
    { label: 'generator CPU, % of a core', cls: 's-active', kind: 'line' },
  ])}${errors}</div></div>
<div class="tw"><table class="capacity-steps"><caption>Steps (gates: p99 &lt; ${cap.limits.p99Ms} ms, error rate &lt; ${cap.limits.errorRatePct} %, timeouts ≤ ${cap.limits.maxTimeouts}; the generator is saturated at ${cap.limits.generatorCpuPct} % CPU or ${cap.limits.generatorLoopDelayMs} ms event-loop delay)</caption>
<thead><tr><th scope="col" class="num">Step</th><th scope="col" title="why the search chose the step, and the users it predicted a gate to break at">Why</th><th scope="col" class="num">Users</th><th scope="col" class="num">req/s</th><th scope="col" class="num">p50 ms</th><th scope="col" class="num">p95 ms</th><th scope="col" class="num">p99 ms</th><th scope="col" class="num">Errors</th><th scope="col" class="num">Timeouts</th><th scope="col" class="num">Generator CPU</th><th scope="col" class="num">Loop delay</th><th scope="col" class="num">Seconds</th><th scope="col">Verdict</th></tr></thead>
<tbody>${rows || '<tr><td colspan="13" class="muted">No step was measured.</td></tr>'}</tbody></table></div>
<p class="note">${esc(searchNote(cap))} The overall figures elsewhere in this report mix every step, and their active users count the users waiting for the search to let them in.</p></section>`;
}

/** How the search went, in words: the knee, the prediction, the guide's users. */
function searchNote(cap: Capacity): string {
  const parts: string[] = [];
  if (cap.knee) parts.push(`Throughput peaked at ${fmtNum(cap.knee.requestsPerSecond, 1)} req/s, first reached at ${cap.knee.users} users (the knee).`);
  if (cap.predicted)
    parts.push(
      `Past it, Little's law and the latency's shape predicted the ${cap.predicted.gate} gate to break at about ${cap.predicted.users} users (the last prediction, marked); real steps checked and narrowed it.`,
    );
  if (cap.guideUsers) {
    const g = cap.guideUsers;
    parts.push(
      `As the guide's users, who pause ${g.thinkSeconds} s between journeys: about ${[g.held !== null ? `${g.held} held` : '', g.broke !== null ? `${g.broke} broke` : ''].filter(Boolean).join(', ')} (an estimate by Little's law${g.atRps !== undefined ? ` at ${fmtNum(g.atRps)} req/s, both sides` : ''}, not measured).`,
    );
  }
  if (cap.plannedUsers) parts.push(`Planned steps: ${cap.plannedUsers.join(', ')} users.`);
  return parts.join(' ');
}
