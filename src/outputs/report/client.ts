// The report page's own script, run in the browser: the endpoint switch and the hover read-out of
// the charts. No request, no library. A script, not a module (no import/export), so its compiled
// text can be inlined as it is; script.ts compiles and inlines it, and the page's CSP allows only
// this text (by its hash). Its shapes are declared here because a script cannot import them: they
// mirror ChartData in charts.ts and the data block html.ts writes. The live view (src/live/client.ts)
// replaces the page's parts as a run goes, then sends 'voxanne:render' for them to be wired again.
(function reportClient(): void {
  interface ClientChart {
    x: number[];
    from: number[];
    to: number[];
    unit: string;
    series: Array<{ label: string; cls: string; values: Array<number | null> }>;
  }
  interface ClientData {
    /** Epoch ms of the first period's start. */
    t0: number;
    /** A run of an hour or more shows h:mm instead of m:ss. */
    long: boolean;
    charts: Record<string, ClientChart>;
  }

  document.documentElement.classList.remove('no-js');
  let data: Partial<ClientData> = {};
  let charts: Record<string, ClientChart> = {};
  let t0 = 0;

  const pad = (n: number) => (n < 10 ? `0${n}` : String(n));
  const elapsed = (s: number) => {
    const m = Math.round(s);
    return data.long ? `${Math.floor(m / 3600)}:${pad(Math.floor((m % 3600) / 60))}` : `${Math.floor(m / 60)}:${pad(m % 60)}`;
  };
  const clock = (s: number) => {
    const d = new Date(t0 + s * 1000);
    return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC`;
  };
  const num = (v: number | null | undefined) => (v === null || v === undefined ? '—' : Number(v).toLocaleString('en-US', { maximumFractionDigits: 2 }));

  const tip = document.createElement('div');
  tip.className = 'tip';
  tip.hidden = true;
  tip.setAttribute('role', 'presentation');

  /** The index of the x nearest to `x` (xs ascending). */
  const nearest = (xs: number[], x: number) => {
    let lo = 0;
    let hi = xs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (xs[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 && Math.abs(xs[lo - 1] - x) < Math.abs(xs[lo] - x) ? lo - 1 : lo;
  };

  /** Reads the charts' data and wires the page; again whenever the live view has replaced its parts. */
  const bind = () => {
    const node = document.getElementById('chart-data');
    if (!node) return;
    data = JSON.parse(node.textContent || '{}') as Partial<ClientData>;
    charts = data.charts ?? {};
    t0 = data.t0 ?? 0;
    tip.hidden = true;

    const select = document.getElementById('ep') as HTMLSelectElement | null;
    select?.addEventListener('change', () => {
      document.querySelectorAll<HTMLElement>('.variant').forEach((v) => {
        v.hidden = v.getAttribute('data-ep') !== select.value;
      });
    });

    document.querySelectorAll<SVGSVGElement>('svg[data-chart]').forEach((svg) => {
      const c = charts[svg.getAttribute('data-chart') ?? ''];
      if (!c || !c.x.length) return;
      const line = svg.querySelector('.hover');
      const hide = () => {
        tip.hidden = true;
        line?.setAttribute('visibility', 'hidden');
      };
      svg.addEventListener('pointermove', (e) => {
        const m = svg.getScreenCTM();
        if (!m) return;
        const q = new DOMPoint(e.clientX, e.clientY).matrixTransform(m.inverse());
        const i = nearest(c.x, q.x);
        if (line) {
          line.setAttribute('x1', String(c.x[i]));
          line.setAttribute('x2', String(c.x[i]));
          line.setAttribute('visibility', 'visible');
        }
        // Labels, classes and units are the pack's own words (series names), never text from the record.
        let html = `<b>${elapsed(c.from[i])}–${elapsed(c.to[i])} <span style="font-weight:400">(${clock(c.from[i])})</span></b>`;
        for (const s of c.series) {
          html += `<div class="r"><span><i class="sw sw-box ${s.cls}"></i>${s.label}</span><span>${num(s.values[i])} ${c.unit}</span></div>`;
        }
        tip.innerHTML = html;
        const box = svg.parentElement;
        if (!box) return;
        if (tip.parentNode !== box) box.appendChild(tip);
        tip.hidden = false;
        const r = box.getBoundingClientRect();
        let x = e.clientX - r.left + 14;
        if (x + tip.offsetWidth > r.width) x = e.clientX - r.left - tip.offsetWidth - 14;
        tip.style.left = `${Math.max(0, x)}px`;
        tip.style.top = `${Math.max(0, e.clientY - r.top - 10)}px`;
      });
      svg.addEventListener('pointerleave', hide);
    });
  };
  bind();
  document.addEventListener('voxanne:render', bind);
})();
