// Fixed cost: what the pack adds to every run whatever its load, beside bare Artillery with a JS and
// with a TS processor. Against the 0 ms target: command start -> first request the server sees, and
// last request -> process exit (medians of the repetitions). The pack runs the shortest load it
// accepts (smoke at x0.25: 10 s, one reporting period); the fixed costs do not depend on the
// load's length.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { f, log, measure, median, tempDir, type Measured, type Server } from './lib/measure';
import { bareScript, runArtilleryScript, runPack } from './lib/tools';

/** The pack's load in the fixed-cost section: the shortest it accepts (10 s, one reporting period). */
const FIXED_PACK_ARGS = ['--profile', 'smoke', '--time-scale', '0.25'];

interface FixedRow {
  tool: string;
  toFirst: number[];
  toFirstLoad: number[];
  afterLastLoad: number[];
  afterLast: number[];
  wall: number[];
  cpu: number[];
  background: number[];
  /** Pack only, from run.json: when Artillery was spawned and when it exited. */
  spawned?: number[];
  artilleryExited?: number[];
}

/** Runs the section against `server` (the 0 ms target), `reps` runs of each command; returns its markdown. */
export async function fixedCost(server: Server, reps: number): Promise<string[]> {
  const dir = mkdtempSync(join(tempDir(), 'fixed-'));
  writeFileSync(join(dir, 'noop.js'), "'use strict';\nmodule.exports = { noop(req, context, events, next) { next(); } };\n");
  writeFileSync(
    join(dir, 'noop.ts'),
    'type Next = (err?: Error) => void;\nexport function noop(_req: unknown, _context: unknown, _events: unknown, next: Next): void {\n  next();\n}\n',
  );
  const empty = (tool: string): FixedRow => ({ tool, toFirst: [], toFirstLoad: [], afterLastLoad: [], afterLast: [], wall: [], cpu: [], background: [] });
  const rows: FixedRow[] = [
    { ...empty(`pack: \`node bin/pack.js run ${FIXED_PACK_ARGS.join(' ')}\``), spawned: [], artilleryExited: [] },
    empty('bare Artillery, JS processor (one no-op beforeRequest), 1 user x 5 GETs'),
    empty('bare Artillery, TS processor (bundled by Artillery), 1 user x 5 GETs'),
  ];
  const add = (row: FixedRow, m: Measured) => {
    const { ran, server: s } = m;
    row.toFirst.push(((s.firstArrivalAt ?? NaN) - ran.startAt) / 1000);
    row.toFirstLoad.push(((s.firstLoadArrivalAt ?? NaN) - ran.startAt) / 1000);
    row.afterLastLoad.push((ran.exitAt - (s.lastLoadEndAt ?? NaN)) / 1000);
    row.afterLast.push((ran.exitAt - (s.lastEndAt ?? NaN)) / 1000);
    row.wall.push((ran.exitAt - ran.startAt) / 1000);
    row.cpu.push(ran.cpuMs / 1000);
    row.background.push(m.background);
  };
  for (let rep = 1; rep <= reps; rep++) {
    log(`fixed cost, repetition ${rep}/${reps}`);
    let record: any;
    const pack = await measure(server, async () => {
      const run = await runPack(server, FIXED_PACK_ARGS, 120);
      record = run.record;
      return { tool: rows[0].tool, load: 'smoke', ran: run.ran };
    });
    add(rows[0], pack);
    rows[0].spawned!.push((Date.parse(record?.startedAt) - pack.ran.startAt) / 1000);
    rows[0].artilleryExited!.push((Date.parse(record?.endedAt) - pack.ran.startAt) / 1000);
    for (const [i, processor] of [
      [1, 'noop.js'],
      [2, 'noop.ts'],
    ] as const) {
      const m = await measure(server, async () => {
        const { ran } = await runArtilleryScript(
          `fixed-${processor}`,
          bareScript(server.url, { users: 1, loops: 1, processor: join(dir, processor), arrivalSpan: '10ms' }),
          120,
        );
        return { tool: rows[i].tool, load: '1 user x 5 GETs', ran };
      });
      add(rows[i], m);
    }
  }
  return [
    '## Fixed cost',
    '',
    `Medians of ${reps} run(s) each, against the 0 ms target. The pack's first request is its preflight /health, its last the after-load /health; "load" requests are Artillery's.`,
    '',
    ...fixedTable(rows),
    '',
  ];
}

function fixedTable(rows: FixedRow[]): string[] {
  const m = (xs: number[]) => f(median(xs), 2);
  const lines = [
    `| command | start -> first request (s) | start -> first load request (s) | last load request -> exit (s) | last request -> exit (s) | wall (s) | CPU (s) | background load (cores) |`,
    '|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.tool} | ${m(r.toFirst)} | ${m(r.toFirstLoad)} | ${m(r.afterLastLoad)} | ${m(r.afterLast)} | ${m(r.wall)} | ${m(r.cpu)} | ${m(r.background)} |`,
    ),
  ];
  const p = rows[0];
  if (p.spawned?.length) {
    // Every moment of the pack's runs, in seconds from the command's start (medians).
    const at = {
      spawned: median(p.spawned),
      preflight: median(p.toFirst),
      load: median(p.toFirstLoad),
      lastLoad: median(p.wall.map((w, i) => w - p.afterLastLoad[i])),
      afterHealth: median(p.wall.map((w, i) => w - p.afterLast[i])),
      exited: median(p.artilleryExited!),
      end: median(p.wall),
    };
    lines.push(
      '',
      "Where the pack's time goes (medians, seconds from the command's start; Artillery's spawn and exit from run.json's `startedAt` and `endedAt`):",
      '',
      '| Artillery spawned | preflight /health | first load request | last load request | after-load /health | Artillery exited | pack exited |',
      '|---|---|---|---|---|---|---|',
      `| ${f(at.spawned, 2)} | ${f(at.preflight, 2)} | ${f(at.load, 2)} | ${f(at.lastLoad, 2)} | ${f(at.afterHealth, 2)} | ${f(at.exited, 2)} | ${f(at.end, 2)} |`,
    );
  }
  return lines;
}
