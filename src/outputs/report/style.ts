// The stylesheet of the report and the index page, inlined in each (no network, opens from disk).
// Colours: the Okabe-Ito palette (readable with colour-blindness); every state also has a word or
// a symbol, never colour alone. Dark mode follows the reader's system setting.
import { cspHash } from './script';

const CSS = `
:root{
  --bg:#f4f5f7;--card:#fff;--ink:#1b2130;--muted:#5b6474;--line:#dde1e7;--soft:#eef0f4;
  --pass:#13795b;--pass-bg:#e5f4ee;--fail:#b42318;--fail-bg:#fdecea;--warn:#a15c00;--warn-bg:#fff4e0;
  --info:#1f5fa8;--info-bg:#e8f0fb;--skip:#59606e;--skip-bg:#eceef2;
  --c-rps:#0072b2;--c-p50:#56b4e9;--c-p95:#e69f00;--c-p99:#d55e00;--c-active:#0072b2;--c-planned:#7a8190;
  --c-transport:#3b3f47;--c-timeout:#e69f00;--c-4xx:#56b4e9;--c-5xx:#d55e00;--c-other:#8a8f99;--c-notjson:#cc79a7;--c-429:#009e73;
  --c-2xx:#2e9e6e;--c-3xx:#56b4e9;--c-4xxcode:#e69f00;--c-5xxcode:#d55e00;--c-none:#8a8f99;
  --better:#13795b;--worse:#b42318;--same:#59606e;
}
@media (prefers-color-scheme:dark){:root{
  --bg:#12151b;--card:#1b2029;--ink:#e6e9ef;--muted:#a0a8b6;--line:#2f3644;--soft:#242a35;
  --pass:#4cc38a;--pass-bg:#173527;--fail:#ff7b6b;--fail-bg:#3d1d1a;--warn:#f0b44c;--warn-bg:#3a2c12;
  --info:#7fb2f0;--info-bg:#1a2a40;--c-transport:#c9ced8;--c-rps:#4ea3e0;--c-active:#4ea3e0;--c-planned:#a0a8b6;--skip:#a0a8b6;--skip-bg:#2a303b;--better:#4cc38a;--worse:#ff7b6b;--same:#a0a8b6;
}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",Arial,sans-serif}
a{color:var(--info)}
.wrap{max-width:1240px;margin:0 auto;padding:20px 24px 40px}
header.top{display:flex;flex-wrap:wrap;align-items:baseline;gap:4px 16px;margin-bottom:12px}
header.top .brand{font-size:12px;letter-spacing:.08em;text-transform:uppercase;color:var(--muted);font-weight:600}
header.top h1{font-size:20px;margin:0;font-weight:650}
header.top .meta{color:var(--muted);font-size:13px}
nav.toc{display:flex;flex-wrap:wrap;gap:2px 14px;font-size:13px;margin:0 0 14px}
nav.toc a{text-decoration:none}
nav.toc a:hover,nav.toc a:focus{text-decoration:underline}
.skip-link{position:absolute;left:-9999px}.skip-link:focus{left:8px;top:8px;background:var(--card);padding:6px;z-index:9}
section,.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:16px 18px;margin:0 0 16px}
section>h2,.card>h2{font-size:16px;margin:0 0 10px;display:flex;align-items:baseline;gap:10px;flex-wrap:wrap}
h2 .sub,h3 .sub{font-weight:400;color:var(--muted);font-size:13px}
h3{font-size:14px;margin:14px 0 6px}
.muted{color:var(--muted)}
.small{font-size:12px}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace;font-size:12.5px}

/* Verdict banner */
.verdict{display:grid;grid-template-columns:auto 1fr;gap:4px 18px;align-items:center;border-radius:12px;padding:18px 22px;margin:0 0 16px;border:1px solid;border-left-width:10px}
.verdict .icon{grid-row:span 2;font-size:40px;line-height:1;font-weight:700;width:48px;text-align:center}
.verdict .word{font-size:28px;font-weight:750;letter-spacing:.01em;margin:0}
.verdict .word small{font-size:15px;font-weight:500;color:var(--muted);margin-left:8px;letter-spacing:0}
.verdict .reason{font-size:15px;margin:0}
.verdict .chips{grid-column:2;display:flex;flex-wrap:wrap;gap:6px;margin-top:6px}
.v-passed{background:var(--pass-bg);border-color:var(--pass);color:var(--ink)}.v-passed .icon,.v-passed .word{color:var(--pass)}
.v-failed,.v-unhealthy{background:var(--fail-bg);border-color:var(--fail)}.v-failed .icon,.v-failed .word,.v-unhealthy .icon,.v-unhealthy .word{color:var(--fail)}
.v-running{background:var(--info-bg);border-color:var(--info)}.v-running .icon,.v-running .word{color:var(--info)}
@media (prefers-reduced-motion:no-preference){.v-running .icon{animation:pulse 2s ease-in-out infinite}}
@keyframes pulse{50%{opacity:.35}}
.v-aborted,.v-interrupted,.v-refused{background:var(--warn-bg);border-color:var(--warn)}.v-aborted .icon,.v-aborted .word,.v-interrupted .icon,.v-interrupted .word,.v-refused .icon,.v-refused .word{color:var(--warn)}

/* Pills */
.pill{display:inline-block;border-radius:999px;padding:1px 9px;font-size:12px;font-weight:650;white-space:nowrap;border:1px solid transparent}
.pill.pass{background:var(--pass-bg);color:var(--pass);border-color:color-mix(in srgb,var(--pass) 35%,transparent)}
.pill.fail{background:var(--fail-bg);color:var(--fail);border-color:color-mix(in srgb,var(--fail) 35%,transparent)}
.pill.warn{background:var(--warn-bg);color:var(--warn);border-color:color-mix(in srgb,var(--warn) 35%,transparent)}
.pill.skip{background:var(--skip-bg);color:var(--skip)}
.pill.info{background:var(--info-bg);color:var(--info)}
a.chip{text-decoration:none;color:var(--ink)}a.chip:hover,a.chip:focus{border-color:var(--info)}
.chip{display:inline-flex;gap:6px;align-items:center;background:var(--card);border:1px solid var(--line);border-radius:8px;padding:2px 9px;font-size:13px}

/* Key figures */
/* Wide enough for a 4-digit figure ("1,106.47"); its unit goes under it when the card is narrower. */
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:10px;margin:0 0 16px}
.kpi{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:10px 14px}
.kpi .k{font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.05em;font-weight:600}
.kpi .v{font-size:24px;font-weight:700;font-variant-numeric:tabular-nums;margin:2px 0 0}
.kpi .v small{display:inline-block;white-space:nowrap;margin-left:.3em}
.kpi .v small{font-size:13px;font-weight:500;color:var(--muted)}
.kpi .s{font-size:12px;color:var(--muted)}
.kpi .d{font-size:12px;margin-top:1px}
.kpi.bad{border-color:var(--fail);box-shadow:inset 0 3px 0 var(--fail)}
.kpi.ok{box-shadow:inset 0 3px 0 var(--pass)}

/* Changes since the previous run */
.chg{font-size:12px;white-space:nowrap;font-weight:600}
.chg.better{color:var(--better)}.chg.worse{color:var(--worse)}.chg.same{color:var(--same);font-weight:500}

/* Tables */
.tw{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:13.5px}
caption{text-align:left;color:var(--muted);font-size:12.5px;padding:0 0 6px}
th,td{padding:7px 10px;border-bottom:1px solid var(--line);vertical-align:top;text-align:left}
thead th{font-size:12px;color:var(--muted);font-weight:650;text-transform:uppercase;letter-spacing:.04em;border-bottom:2px solid var(--line);white-space:nowrap;vertical-align:bottom}
tbody tr:last-child td,tbody tr:last-child th{border-bottom:0}
tbody th{font-weight:600}
tr.row-fail{background:color-mix(in srgb,var(--fail-bg) 70%,transparent)}
tr.row-warn{background:color-mix(in srgb,var(--warn-bg) 70%,transparent)}
tr.total td,tr.total th{border-top:2px solid var(--line);font-weight:650}
td .sub,th .sub{display:block;font-size:11.5px;color:var(--muted);font-weight:400}
td .sub.over{color:var(--warn);font-weight:600}
th .expr{display:block;font-weight:400;color:var(--muted);font-size:11.5px;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace}
.gauge{display:block;width:110px;height:7px;background:var(--soft);border-radius:4px;overflow:hidden;margin:5px 0 2px}
.gauge i{display:block;height:100%;background:var(--pass)}
.gauge.over i{background:var(--fail)}.gauge.near i{background:var(--warn)}
.codes{display:flex;width:110px;height:8px;border-radius:4px;overflow:hidden;background:var(--soft);margin:5px 0 3px}
.codes i{display:block;height:100%}
.code-2xx{background:var(--c-2xx)}.code-3xx{background:var(--c-3xx)}.code-4xx{background:var(--c-4xxcode)}.code-429{background:var(--c-429)}.code-5xx{background:var(--c-5xxcode)}.code-none{background:var(--c-none)}

/* Layout helpers */
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:16px}
.grid2>section{margin:0}
.grid-dh{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1.7fr);gap:16px;margin-bottom:16px}.grid-dh>section{margin:0}
.row{display:flex;flex-wrap:wrap;gap:16px}
.health{display:grid;grid-template-columns:repeat(auto-fit,minmax(230px,1fr));gap:12px}
.hcard{border:1px solid var(--line);border-radius:8px;padding:10px 12px}
.hcard .h{display:flex;justify-content:space-between;align-items:center;gap:8px;font-weight:650;margin-bottom:4px}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0}
dl.kv dt{color:var(--muted)}dl.kv dd{margin:0;overflow-wrap:anywhere}
ul.diag{margin:0;padding-left:20px}ul.diag li{margin:3px 0}
ul.diag li.lead{font-weight:600;list-style:none;margin-left:-20px;margin-top:8px}
ul.diag li.lead:first-child{margin-top:0}
.note{font-size:12.5px;color:var(--muted);margin:8px 0 0}

/* Charts */
.charts-head{display:flex;flex-wrap:wrap;align-items:center;gap:10px 18px;margin-bottom:8px}
.charts-head label{font-weight:600}
select{font:inherit;padding:4px 8px;border-radius:6px;border:1px solid var(--line);background:var(--card);color:var(--ink)}
.variant{display:contents}.variant[hidden]{display:none}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(460px,1fr));gap:14px 18px}
.chart-box{position:relative;min-width:0}
.chart-box h3{margin:4px 0 2px}
svg.chart{display:block;width:100%;height:auto;overflow:visible}
svg.chart text{font-size:11px;fill:var(--muted);font-family:inherit}
svg.chart text.unit{font-size:10.5px}
svg.chart .grid{stroke:var(--line);stroke-width:1;fill:none;shape-rendering:crispEdges}
svg.chart .axis-line{stroke:var(--muted);stroke-width:1;shape-rendering:crispEdges}
svg.chart .line{fill:none;stroke-width:2;stroke-linejoin:round;stroke-linecap:round}
svg.chart .line.dashed{stroke-dasharray:6 4;stroke-width:1.8}
svg.chart .prev{opacity:.5}
svg.chart .line.band{stroke-width:7;stroke-opacity:.3}
svg.chart .dots.band{display:none}
svg.chart .area{stroke:none;opacity:.14}
svg.chart .ref{stroke:var(--fail);stroke-width:1.3;stroke-dasharray:5 4;fill:none}
svg.chart text.ref-label{fill:var(--fail);font-size:10.5px;font-weight:600}
svg.chart text.ref-label.off{fill:var(--muted);font-weight:500}
svg.chart text.empty{font-size:13px;fill:var(--muted)}
svg.chart .mark{stroke:var(--warn);stroke-width:1.5;stroke-dasharray:3 3}
svg.chart text.mark-label{fill:var(--warn);font-size:10.5px;font-weight:600}
svg.chart .mark.knee{stroke:var(--muted);stroke-dasharray:1 3}svg.chart .mark.predicted{stroke:var(--info);stroke-dasharray:6 3}
svg.chart .hover{stroke:var(--ink);stroke-width:1;opacity:.45;pointer-events:none}
svg.chart .hit{fill:transparent;cursor:crosshair}
.s-rps{stroke:var(--c-rps);fill:var(--c-rps);color:var(--c-rps);background:var(--c-rps)}
.s-p50{stroke:var(--c-p50);fill:var(--c-p50);color:var(--c-p50);background:var(--c-p50)}
.s-p95{stroke:var(--c-p95);fill:var(--c-p95);color:var(--c-p95);background:var(--c-p95)}
.s-p99{stroke:var(--c-p99);fill:var(--c-p99);color:var(--c-p99);background:var(--c-p99)}
.s-active{stroke:var(--c-active);fill:var(--c-active);color:var(--c-active);background:var(--c-active)}
.s-planned{stroke:var(--c-planned);fill:var(--c-planned);color:var(--c-planned);background:var(--c-planned)}
svg.chart .line.s-rps,svg.chart .line.s-p50,svg.chart .line.s-p95,svg.chart .line.s-p99,svg.chart .line.s-active,svg.chart .line.s-planned{fill:none}
.k-transport{fill:var(--c-transport);background:var(--c-transport)}
.k-timeout{fill:var(--c-timeout);background:var(--c-timeout)}
.k-4xx{fill:var(--c-4xx);background:var(--c-4xx)}
.k-5xx{fill:var(--c-5xx);background:var(--c-5xx)}
.k-other{fill:var(--c-other);background:var(--c-other)}
.k-notjson{fill:var(--c-notjson);background:var(--c-notjson)}
.k-429{fill:var(--c-429);background:var(--c-429)}
.k-ref{color:var(--fail)}
ul.legend{list-style:none;display:flex;flex-wrap:wrap;gap:2px 14px;margin:0 0 2px;padding:0;font-size:12px;color:var(--muted)}
ul.legend li{display:flex;align-items:center;gap:5px}
.sw{display:inline-block}
.sw-line{width:16px;height:0;border-top:2.5px solid currentColor}
.sw-dashed{width:16px;height:0;border-top:2.5px dashed currentColor}
.sw-box{width:10px;height:10px;border-radius:2px}
.sw-band{width:16px;height:6px;border-radius:3px;opacity:.35}
ul.legend li.off{font-style:italic}
.tip{position:absolute;pointer-events:none;background:var(--card);border:1px solid var(--line);box-shadow:0 4px 14px rgba(0,0,0,.14);border-radius:8px;padding:6px 9px;font-size:12px;z-index:5;white-space:nowrap}
.tip b{display:block;margin-bottom:2px}
.tip .r{display:flex;gap:8px;justify-content:space-between}
.tip .r span:first-child{display:flex;align-items:center;gap:5px}
.no-js .js-only{display:none}

/* Index page */
svg.spark{display:block;width:100%;height:auto}
svg.spark text{font-size:10px;fill:var(--muted)}
svg.spark .grid{stroke:var(--line);fill:none}
svg.spark .ref{stroke:var(--fail);stroke-dasharray:4 3;fill:none}
svg.spark .line{fill:none;stroke:var(--c-rps);stroke-width:1.6}
svg.spark circle{stroke:var(--card);stroke-width:1}
svg.spark circle.o-passed{fill:var(--pass)}
svg.spark circle.o-failed,svg.spark circle.o-unhealthy{fill:var(--fail)}
svg.spark circle.o-aborted,svg.spark circle.o-interrupted,svg.spark circle.o-refused{fill:var(--warn)}
/* Run ids break at their dashes, so the table fits the page; on a phone each run is a card. */
table.runs td{overflow-wrap:break-word}
.trend .target{display:block;overflow-wrap:anywhere}
@media (max-width:760px){
  table.runs thead{display:none}
  table.runs,table.runs tbody,table.runs tr{display:block}
  table.runs tr{display:grid;grid-template-columns:repeat(auto-fill,minmax(96px,1fr));gap:2px 10px;padding:8px 0;border-bottom:1px solid var(--line)}
  table.runs td{display:block;border:0;padding:2px 0;text-align:left}
  table.runs td.wide{grid-column:1/-1}
  table.runs td[data-label]::before{content:attr(data-label);display:block;font-size:11px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
}
.trends{display:grid;grid-template-columns:repeat(auto-fill,minmax(330px,1fr));gap:12px}
.trend{border:1px solid var(--line);border-radius:8px;padding:10px 12px}
.trend h3{margin:0 0 4px}
.trend .lbl{font-size:12px;color:var(--muted);margin:4px 0 0}

@media print{body{background:#fff}.js-only,nav.toc{display:none}section,.card{break-inside:avoid}}
@media (max-width:900px){.grid-dh{grid-template-columns:1fr}}
@media (max-width:560px){.wrap{padding:12px}.verdict{grid-template-columns:1fr}.verdict .icon{display:none}.verdict .chips{grid-column:1}.grid2,.charts{grid-template-columns:1fr}}
`;

/**
 * The <head> shared by the report and the index: offline by construction (the Content-Security-Policy
 * forbids every request). `script` is the page's inline script, if it has one: the CSP allows that
 * exact text (by its hash) and no other script.
 */
export function pageHead(title: string, { script, liveScript }: { script?: string; liveScript?: string } = {}): string {
  // The live view's page also runs its own script, which asks its server (and nothing else) for updates.
  const scripts = [script, liveScript].filter((x): x is string => x !== undefined).map(cspHash);
  const csp = `default-src 'none'; style-src 'unsafe-inline';${scripts.length ? ` script-src ${scripts.join(' ')};` : ''}${liveScript !== undefined ? " connect-src 'self';" : ''} img-src data:`;
  return `<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="color-scheme" content="light dark">
<link rel="icon" href="data:,">
<title>${title}</title>
<style>${CSS}</style>
</head>`;
}
