// Fidelity: how true the latency each tool reports is. Against a target with a 50 ms fixed delay,
// 10 users: the latency the pack, bare Artillery (no think, and 1 s think like the pack) and wrk
// report, minus the server's own timing of the same requests (hrtime from arrival to res.end), so
// the excess is what the tool itself adds to the figures it reports.
import { f, log, measure, signed, startServer, type Measured } from './lib/measure';
import { artilleryLatency, artilleryRequests, bareScript, hasWrk, runArtilleryScript, runPack, runWrk, standardLoad, USERS } from './lib/tools';

/** Runs the section (its own 50 ms target) at `scale` times the full loads; returns its markdown. */
export async function fidelity(scale: number): Promise<string[]> {
  const server = await startServer(50);
  const rows: Measured[] = [];
  const { timeScale, packArgs } = standardLoad(scale);
  try {
    log(`fidelity: the pack (standard profile, time scale ${timeScale}, 50 ms target)`);
    rows.push(
      await measure(server, async () => {
        const { ran, record } = await runPack(server, packArgs, 180);
        const l = record?.totals?.latency;
        return {
          tool: 'pack (`node bin/pack.js run`)',
          load: `standard x${timeScale}: 0->5->10 users, 10 for ${Math.round(180 * timeScale)} s, ~1 s think`,
          ran,
          latency: l ? { p50: l.p50, p95: l.p95, p99: l.p99 } : null,
          toolRequests: record?.totals?.requests,
          note: ran.code === 0 ? undefined : `exit ${ran.code}`,
        };
      }),
    );
    const loopsFor = (journeyS: number) => Math.max(2, Math.round((20 * scale) / journeyS));
    for (const thinkS of [0, 1]) {
      const loops = loopsFor(5 * 0.051 + thinkS);
      log(`fidelity: bare Artillery, ${USERS} users x ${loops} journeys, think ${thinkS} s`);
      rows.push(
        await measure(server, async () => {
          const { ran, report } = await runArtilleryScript(`bare-think${thinkS}`, bareScript(server.url, { users: USERS, loops, thinkS }), 120);
          return {
            tool: `bare Artillery${thinkS ? ', 1 s think (like the pack)' : ''}`,
            load: `${USERS} users x ${loops} journeys${thinkS ? ', 1 s think' : ', no think'}`,
            ran,
            latency: artilleryLatency(report),
            toolRequests: artilleryRequests(report),
          };
        }),
      );
    }
    if (hasWrk()) {
      const seconds = Math.max(4, Math.round(20 * scale));
      log(`fidelity: wrk -c${USERS} -t2 -d${seconds}s`);
      rows.push(
        await measure(server, async () => {
          const { ran, latency, requests } = await runWrk(server.url, seconds);
          return { tool: 'wrk', load: `${USERS} connections, 2 threads, ${seconds} s, no think`, ran, latency, toolRequests: requests };
        }),
      );
    } else log('wrk is not installed (apt-get install wrk): its row is left out');
  } finally {
    await server.stop();
  }
  return [
    '## Fidelity',
    '',
    'Target: 50 ms fixed delay. "Excess" is the figure the tool reports minus the server\'s own timing (hrtime from arrival to `res.end`) of the same requests.',
    '',
    ...fidelityTable(rows),
    '',
  ];
}

function fidelityTable(rows: Measured[]): string[] {
  const lines = [
    '| tool | load | requests (tool / server) | tool p50 / p95 / p99 (ms) | server p50 / p95 / p99 (ms) | excess p50 | excess p95 | excess p99 | background load (cores) |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const l = r.latency;
    const s = r.server;
    lines.push(
      `| ${r.tool}${r.note ? ` (${r.note})` : ''} | ${r.load} | ${r.toolRequests ?? 'n/a'} / ${s.loadRequests} | ${l ? `${f(l.p50)} / ${f(l.p95)} / ${f(l.p99)}` : 'n/a'} | ` +
        `${f(s.p50, 2)} / ${f(s.p95, 2)} / ${f(s.p99, 2)} | ${signed(l && l.p50 - s.p50, 2)} | ${signed(l && l.p95 - s.p95, 2)} | ${signed(l && l.p99 - s.p99, 2)} | ${f(r.background, 2)} |`,
    );
  }
  return lines;
}
