// Text helpers shared by the HTML report, the index page and JUnit: escaping, number and time
// formats, and the "better / worse / about the same" reading of a change between two runs.
import type { ErrorKinds, Gate, Outcome } from '../../record/record';
import { redactTokens } from '../../common/secrets';

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

// A JWT-looking string never reaches a report, even if one slipped into a record's text.
export { redactTokens } from '../../common/secrets';

/** Escapes record text for HTML text and attribute values (also strips control characters). */
export function esc(value: unknown): string {
  return (
    redactTokens(String(value ?? ''))
      // eslint-disable-next-line no-control-regex -- stripping control characters on purpose
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '')
      .replace(/[&<>"']/g, (c) => ENTITIES[c])
  );
}

/** JSON for a <script type="application/json"> block: nothing in it can close the element. */
export const scriptJson = (data: unknown): string =>
  JSON.stringify(data)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');

export const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');

/** A number with at most `digits` decimals, grouped: 1234.5 -> "1,234.5". */
export const fmtNum = (n: number, digits = 1): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });

/** Milliseconds as the record keeps them (0.1 ms): 120.3 -> "120.3 ms", 15234 -> "15,234 ms". */
export const fmtMs = (n: number | null | undefined): string => (n === null || n === undefined ? '—' : `${fmtNum(n, 1)} ms`);

export const fmtPct = (n: number | null | undefined, digits = 2): string => (n === null || n === undefined ? '—' : `${n.toFixed(digits)} %`);

/** Seconds as "42 s", "7 min 5 s", "24 h 0 min". */
export function fmtDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  const m = Math.floor((s % 3600) / 60);
  return `${Math.floor(s / 3600)} h${m ? ` ${m} min` : ''}`;
}

/** Elapsed seconds on a chart axis: "0:30", "12:00" under an hour, "4:30 h" past it. */
export function fmtElapsed(seconds: number, long: boolean): string {
  const s = Math.round(seconds);
  const pad = (n: number) => String(n).padStart(2, '0');
  if (long) return `${Math.floor(s / 3600)}:${pad(Math.floor((s % 3600) / 60))}`;
  return `${Math.floor(s / 60)}:${pad(s % 60)}`;
}

/** An ISO time as "2026-11-26 11:52:25 UTC" (reports are read far from where they ran). */
export function fmtTime(iso: string | number | undefined): string {
  if (iso === undefined) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** A gate's unit as a suffix: "412 ms", "3.2 %", "8 /s", "0" (counts have none). */
function gateUnit(unit: Gate['unit']): string {
  return unit === 'count' ? '' : unit === 'ms' ? ' ms' : unit === '%' ? ' %' : ' /s';
}

/** A gate's value with its unit, or "no data". `num` writes the number (as is by default). */
export function gateValueText(g: Pick<Gate, 'value' | 'unit'>, num: (n: number) => string = String): string {
  return g.value === null ? 'no data' : `${num(g.value)}${gateUnit(g.unit)}`;
}

/** A gate's limit with its comparator and unit: "< 1000 ms" (`symbols`: "≤", "≥"). */
export function gateLimitText(g: Pick<Gate, 'comparator' | 'limit' | 'unit'>, num: (n: number) => string = String, symbols = false): string {
  const cmp = symbols && g.comparator !== '<' ? (g.comparator === '>=' ? '≥' : '≤') : g.comparator;
  return `${cmp} ${num(g.limit)}${gateUnit(g.unit)}`;
}

export const OUTCOME_WORD: Record<Outcome, string> = {
  passed: 'Passed',
  failed: 'Failed',
  aborted: 'Aborted',
  interrupted: 'Interrupted',
  unhealthy: 'Unhealthy',
  refused: 'Refused',
  crashed: 'Crashed',
};

/** Pill class of an outcome: pass, fail, or warn (stopped or refused before a verdict on the load). */
export const outcomeClass = (o: Outcome): 'pass' | 'fail' | 'warn' => (o === 'passed' ? 'pass' : o === 'failed' || o === 'unhealthy' ? 'fail' : 'warn');

export const ERROR_KINDS: Array<{ key: keyof ErrorKinds; label: string; cls: string }> = [
  { key: 'transport', label: 'connection errors', cls: 'k-transport' },
  { key: 'timeout', label: 'timeouts', cls: 'k-timeout' },
  { key: 'http4xx', label: '4xx', cls: 'k-4xx' },
  { key: 'http5xx', label: '5xx', cls: 'k-5xx' },
  { key: 'otherStatus', label: 'other unexpected status', cls: 'k-other' },
  { key: 'notJson', label: 'non-JSON body', cls: 'k-notjson' },
];

export { measuredRequests } from '../../record/periods';

type Direction = 'lower' | 'higher';
export type Trend = 'better' | 'worse' | 'same';

export interface Change {
  trend: Trend;
  /** e.g. "+12.3 ms (+10 %)" */
  text: string;
  /** Without the relative part, for tight places: "+12.3 ms". */
  short: string;
}

/**
 * How much a latency percentile may move between runs and still be "about the same": percentiles
 * of small samples jump from run to run (the p99 of 50 requests is their maximum), so the fewer
 * the requests behind it (the smaller of the two runs), the wider the band.
 */
function latencyTolerance(samples: number | undefined): number {
  if (samples === undefined) return 0.05;
  return samples < 100 ? 0.5 : samples < 1000 ? 0.15 : 0.05;
}

export const TOLERANCE_NOTE =
  'A change counts as about the same within 1 ms or 5 % for response times (15 % when fewer than 1,000 requests are behind the percentile, 50 % under 100: percentiles of small samples jump between runs), 5 % for request rates and 0.05 points for error rates.';

/**
 * How a figure moved between two runs. Small moves count as "about the same": latency within
 * latencyTolerance(samples) (or 1 ms), rates within 5 %, error rates within 0.05 points, counts
 * only when equal.
 */
export function change(
  before: number | null | undefined,
  now: number | null | undefined,
  kind: 'ms' | '%' | 'req/s' | 'count',
  better: Direction,
  samples?: number,
): Change | null {
  if (before === null || before === undefined || now === null || now === undefined) return null;
  const d = now - before;
  const rel = before !== 0 ? d / Math.abs(before) : d === 0 ? 0 : Infinity;
  let same: boolean;
  let text: string;
  const sign = d > 0 ? '+' : d < 0 ? '−' : '±';
  const relText = Number.isFinite(rel) && before !== 0 ? ` (${sign}${fmtNum(Math.abs(rel) * 100, 0)} %)` : '';
  switch (kind) {
    case 'ms':
      same = Math.abs(d) < 1 || Math.abs(rel) < latencyTolerance(samples);
      text = `${sign}${fmtNum(Math.abs(d), 1)} ms${relText}`;
      break;
    case '%':
      same = Math.abs(d) < 0.05;
      text = `${sign}${fmtNum(Math.abs(d), 2)} pts`;
      break;
    case 'req/s':
      same = Math.abs(rel) < 0.05;
      text = `${sign}${fmtNum(Math.abs(d), 2)} /s${relText}`;
      break;
    default:
      same = d === 0;
      text = `${sign}${fmtNum(Math.abs(d), 0)}`;
  }
  const short = text.replace(/ \([^)]*\)$/, '');
  if (same) return { trend: 'same', text, short };
  const up = d > 0;
  return { trend: (better === 'higher') === up ? 'better' : 'worse', text, short };
}

export const TREND_WORD: Record<Trend, string> = { better: 'better', worse: 'worse', same: 'about the same' };

/** Arrow by the direction the figure moved (not by good/bad): "▲" up, "▼" down. */
export function arrowFor(c: Change): string {
  if (c.trend === 'same') return '≈';
  return c.text.startsWith('+') ? '▲' : '▼';
}

export const gateDirection = (g: Gate): Direction => (g.comparator === '>=' ? 'higher' : 'lower');
