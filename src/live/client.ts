// The live view's script, run in the browser next to the report's own (src/outputs/report/client.ts).
// It listens to the pack's server-sent events on the page's own origin ('/events'): each one carries
// the report's changing parts (title, main part, charts' data) rendered by the pack, which it puts in
// place; the last one, 'final', is the report as report.html has it, after which it stops listening.
// Between two events it only ticks the "running for" clock. A script, not a module (no
// import/export), inlined as it is and allowed by its hash like the report's.
(function liveClient(): void {
  interface Parts {
    title: string;
    main: string;
    data: string;
  }

  const main = document.getElementById('main');
  const dataNode = document.getElementById('chart-data');
  if (!main || !dataNode || typeof EventSource === 'undefined') return;

  /** The pack's clock minus this browser's (they differ through an SSH tunnel to another machine). */
  let skew = 0;
  const tick = () => {
    const el = document.querySelector<HTMLElement>('[data-since]');
    if (!el) return;
    const s = Math.max(0, Math.round((Date.now() + skew - Number(el.getAttribute('data-since'))) / 1000));
    // As the report writes a duration (fmtDuration in src/outputs/report/format.ts).
    const m = Math.floor((s % 3600) / 60);
    el.textContent = s < 60 ? `${s} s` : s < 3600 ? `${m} min${s % 60 ? ` ${s % 60} s` : ''}` : `${Math.floor(s / 3600)} h${m ? ` ${m} min` : ''}`;
  };
  const readSkew = () => {
    const now = Number(document.querySelector('[data-now]')?.getAttribute('data-now'));
    if (now) skew = now - Date.now();
  };
  readSkew();
  const clock = setInterval(tick, 1000);

  const show = (parts: Parts) => {
    // The endpoint the reader picked stays picked.
    const picked = (document.getElementById('ep') as HTMLSelectElement | null)?.value;
    document.title = parts.title;
    main.innerHTML = parts.main;
    dataNode.textContent = parts.data;
    readSkew();
    tick();
    document.dispatchEvent(new Event('voxanne:render'));
    const select = document.getElementById('ep') as HTMLSelectElement | null;
    if (select && picked && picked !== select.value && Array.from(select.options).some((o) => o.value === picked)) {
      select.value = picked;
      select.dispatchEvent(new Event('change'));
    }
  };

  const source = new EventSource('events');
  source.addEventListener('page', (e) => show(JSON.parse((e as MessageEvent<string>).data) as Parts));
  source.addEventListener('final', (e) => {
    // The run has ended: no more events, and no reconnecting to a server that is gone.
    source.close();
    clearInterval(clock);
    show(JSON.parse((e as MessageEvent<string>).data) as Parts);
  });
  source.addEventListener('error', () => {
    const doing = document.querySelector('[data-doing]');
    if (doing && source.readyState !== EventSource.CLOSED)
      doing.textContent = 'Lost the connection to the run; trying again (the pack may have ended: see report.html in its run folder).';
  });
})();
