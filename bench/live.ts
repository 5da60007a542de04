// The live view (--live): what it costs and whether it changes what the run measures.
//  1. Its own CPU at the guide's load: the guide's standard run is 7 minutes, 42 periods. The
//     recorded healthy run's periods, repeated to 42, are fed to a live view in this process with
//     one reader connected (an SSE client over loopback); the CPU of every render (the record so
//     far, the page's parts, the writes to the reader) over the 420 s they stand for. Then a day-long
//     soak's last render (8,640 periods), whose cost the view's pacing bounds (src/live/live.ts).
//  2. Real runs, with and without --live (with a reader connected through the whole run): the
//     pack's reported latency against the server's own timing (fidelity, 50 ms target, standard
//     x0.1), and a capacity search against the 0 ms target, which ends where the machine's load
//     generator saturates: its highest throughput is the pack's flat-out throughput.
import { request } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { PeriodEvent, RunEvent } from '../src/channel/channel';
import { readEvents } from '../src/channel/channel';
import { LiveView } from '../src/live/live';
import { startLiveServer } from '../src/live/server';
import { readEndFile, readPlanFile } from '../src/record/replay';
import { f, log, measure, ROOT, signed, startServer, tempDir, type Measured, type Server } from './lib/measure';
import { runPack, standardLoad } from './lib/tools';

const HEALTHY = join(ROOT, 'test', 'fixtures', 'runs', 'healthy');
const PERIOD_MS = 10_000;

/** The healthy recording, its periods repeated to `count`, one every 10 s from its load's start. */
function guideEvents(count: number): { events: RunEvent[]; t0: number } {
  const recorded = readEvents(HEALTHY);
  const periods = recorded.filter((e): e is PeriodEvent => e.type === 'period' && !e.unreported);
  const head = recorded.filter((e) => e.type === 'preflight' || (e.type === 'phase' && e.index === 0));
  const t0 = periods[0].period;
  const events: RunEvent[] = [...head];
  for (let i = 0; i < count; i++) {
    const p = periods[i % periods.length];
    const start = t0 + i * PERIOD_MS;
    events.push({ ...p, period: start, first: start + (p.first - p.period), last: start + (p.last - p.period) });
  }
  return { events, t0 };
}

/** A reader of the live view's events (a tab), until the server ends the stream. */
function reader(port: number): { bytes: () => number; done: Promise<void>; stop: () => void } {
  let bytes = 0;
  let connected = false;
  let stopped = false;
  const done = new Promise<void>((resolve) => {
    const attempt = () => {
      const req = request({ host: '127.0.0.1', port, path: '/events' }, (res) => {
        connected = true;
        res.on('data', (d: Buffer) => (bytes += d.length));
        // Ended, or cut by the server as it closes: either way the stream is over.
        res.on('close', () => resolve());
        res.on('error', () => resolve());
      });
      // Before a response, the pack has not listened yet: try again; after one, the stream was cut.
      req.on('error', () => (connected || stopped ? resolve() : setTimeout(attempt, 100)));
      req.end();
    };
    attempt();
  });
  return { bytes: () => bytes, done, stop: () => (stopped = true) };
}

async function ownCost(periods: number, atOnce = false): Promise<{ cpuMs: number; renders: number; lastRenderMs: number; bytes: number; seconds: number }> {
  const plan = readPlanFile(HEALTHY);
  const { id } = readEndFile(HEALTHY);
  const { events, t0 } = guideEvents(periods);
  const server = await startLiveServer();
  const tab = reader(server.port);
  // One reader connected before the first event, as a tab opened at the run's start.
  while (server.clients() === 0) await new Promise((r) => setTimeout(r, 5));
  let now = t0;
  const view = new LiveView(server, { ...plan, opts: { ...plan.opts, reportsDir: tempDir() } }, id, HEALTHY, t0 - 2000, () => now);
  let lastRenderMs = 0;
  if (atOnce) {
    now = events[events.length - 1].type === 'period' ? (events[events.length - 1] as PeriodEvent).last + 50 : now;
    view.add(events);
    while (view.cost.renders < 2) await new Promise((r) => setTimeout(r, 5));
    lastRenderMs = view.cost.cpuMs;
  }
  for (const e of atOnce ? [] : events) {
    if (e.type === 'period') now = e.last + 50;
    const before = view.cost.renders;
    view.add([e]);
    if (e.type !== 'period') continue;
    const cpu = view.cost.cpuMs;
    while (view.cost.renders === before) await new Promise((r) => setTimeout(r, 2));
    lastRenderMs = view.cost.cpuMs - cpu;
  }
  const { cpuMs, renders } = view.cost;
  await view.abandon();
  await tab.done;
  return { cpuMs, renders, lastRenderMs, bytes: tab.bytes(), seconds: (periods * PERIOD_MS) / 1000 };
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

interface RunRow {
  what: string;
  m: Measured;
  record: any;
  tabBytes?: number;
}

async function packRun(server: Server, what: string, args: string[], live: boolean, timeoutS: number): Promise<RunRow> {
  let record: any;
  let tabBytes: number | undefined;
  const m = await measure(server, async () => {
    const port = live ? await freePort() : 0;
    const tab = live ? reader(port) : undefined;
    const r = await runPack(server, [...args, ...(live ? ['--live-port', String(port)] : [])], timeoutS);
    record = r.record;
    if (tab) {
      tab.stop(); // a reader that never got in stops trying
      await Promise.race([tab.done, new Promise((res) => setTimeout(res, 2000))]);
      tabBytes = tab.bytes();
    }
    return { tool: live ? 'pack --live' : 'pack', load: what, ran: r.ran };
  });
  return { what, m, record, tabBytes };
}

export async function liveSection(scale: number): Promise<string[]> {
  log("live: its own CPU at the guide's load (42 periods) and a day-long soak's last render");
  const guide = await ownCost(42);
  const soak = await ownCost(8640, true);
  const out = [
    '## Live view (--live)',
    '',
    "Its own CPU: the recorded healthy run's periods repeated, fed to a live view with one reader connected (an SSE client over loopback). Every render assembles the record so far, renders the report's parts and writes them to the reader.",
    '',
    '| run | periods | renders | CPU of the renders | per second of the run | last render | sent to the reader |',
    '|---|---:|---:|---:|---:|---:|---:|',
    `| the guide's standard run: 7 min | 42 | ${guide.renders} | ${f(guide.cpuMs, 0)} ms | ${f((guide.cpuMs / guide.seconds / 1000) * 100, 3)} % of a core | ${f(guide.lastRenderMs, 1)} ms | ${f(guide.bytes / 1024, 0)} KB |`,
    `| a 24-hour soak, fed at once (its last render) | 8,640 | ${soak.renders} | ${f(soak.cpuMs, 0)} ms | next render waits ≥ 50 × its time: ≤ 2 % of a core | ${f(soak.lastRenderMs, 0)} ms | ${f(soak.bytes / 1024, 0)} KB |`,
    '',
  ];

  const rows: RunRow[] = [];
  const { timeScale, packArgs } = standardLoad(scale);
  const slow = await startServer(50);
  try {
    for (const live of [false, true]) {
      log(`live: fidelity, standard x${timeScale}, 50 ms target, ${live ? 'with' : 'without'} --live`);
      rows.push(await packRun(slow, `standard x${timeScale}, 50 ms target`, packArgs, live, 240));
    }
  } finally {
    await slow.stop();
  }
  const fast = await startServer(0);
  try {
    for (const live of [false, true]) {
      log(`live: flat out (capacity search, 0 ms target), ${live ? 'with' : 'without'} --live`);
      rows.push(await packRun(fast, 'capacity search, 0 ms target', ['--profile', 'capacity', '--yes'], live, 420));
    }
  } finally {
    await fast.stop();
  }
  out.push(
    "Real runs, with and without it (with a reader connected through the whole run). Fidelity: the latency the pack reports minus the server's own timing of the same requests. Flat out: a capacity search against the 0 ms target, whose highest throughput (the knee, or the generator's limit) is the most this machine's load generator sends.",
    '',
    '| run | --live | requests (pack / server) | pack p50 / p95 / p99 (ms) | excess p50 / p95 / p99 (ms) | flat out: highest throughput | CPU of the whole command | sent to the reader | background load (cores) |',
    '|---|---|---|---|---|---|---|---|---|',
  );
  for (const r of rows) {
    const l = r.record?.totals?.latency;
    const s = r.m.server;
    const knee = r.record?.capacity?.knee;
    const atLeast = r.record?.capacity?.atLeastRps;
    const fidelity = r.what.startsWith('standard');
    out.push(
      `| ${r.what} | ${r.m.tool === 'pack --live' ? 'yes' : 'no'} | ${r.record?.totals?.requests ?? 'n/a'} / ${s.loadRequests} | ${l ? `${f(l.p50)} / ${f(l.p95)} / ${f(l.p99)}` : 'n/a'} | ` +
        `${fidelity && l ? `${signed(l.p50 - s.p50, 2)} / ${signed(l.p95 - s.p95, 2)} / ${signed(l.p99 - s.p99, 2)}` : ''} | ${atLeast ? `at least ${f(atLeast, 0)} req/s (the generator's limit)` : knee ? `${f(knee.requestsPerSecond, 0)} req/s at ${knee.users} users (${r.record.capacity.result})` : fidelity ? '' : `n/a (${r.record?.capacity?.result ?? 'no record'})`} | ` +
        `${f(r.m.ran.cpuMs / 1000, 2)} s | ${r.tabBytes === undefined ? '' : `${f(r.tabBytes / 1024, 0)} KB`} | ${f(r.m.background, 2)} |`,
    );
  }
  out.push('');
  return out;
}
