// Overhead: what running the load costs the machine the pack runs on. Against a 0 ms target: the CPU
// of the tool's whole process tree per 1000 requests while the load runs, at an equal fixed load
// (the pack's users pause ~1 s between journeys; its command line has no knob to remove the pause),
// and the maximum rate with no think time: bare Artillery, the pack's own generated Artillery script
// (processor, plugins, expectations) with the pause set to 0, and autocannon and wrk as the
// one-machine ceiling.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { ServerStats } from './fidelity-server';
import { f, log, measure, ROOT, runCommand, tempDir, type Measured, type Server } from './lib/measure';
import { bareScript, hasWrk, runArtilleryScript, runPack, runWrk, standardLoad, USERS } from './lib/tools';

/** Seconds from the load's first request to its last answer, as the server saw them. */
const loadSeconds = (s: ServerStats) => (s.firstLoadArrivalAt !== null && s.lastLoadEndAt !== null ? (s.lastLoadEndAt - s.firstLoadArrivalAt) / 1000 : NaN);

interface OverheadRow {
  tool: string;
  load: string;
  requests: number;
  seconds: number;
  cpuS: number;
  windowCpuS: number;
  serverCpuPct: number;
  background: number;
  note?: string;
}

/** Runs the section against `server` (the 0 ms target) at `scale` times the full loads; returns its markdown. */
export async function overhead(server: Server, scale: number): Promise<string[]> {
  const { packArgs } = standardLoad(scale);
  const rows: OverheadRow[] = [];
  const row = (m: Measured): OverheadRow => {
    const seconds = loadSeconds(m.server);
    return {
      tool: m.tool,
      load: m.load,
      requests: m.server.loadRequests,
      seconds,
      cpuS: m.ran.cpuMs / 1000,
      windowCpuS: m.ran.cpuBetween(m.server.firstLoadArrivalAt ?? NaN, m.server.lastLoadEndAt ?? NaN) / 1000,
      serverCpuPct: (m.server.cpuMs / 1000 / seconds) * 100,
      background: m.background,
      note: m.note ?? (m.ran.code === 0 ? undefined : `exit ${m.ran.code}${m.ran.timedOut ? ' (deadline)' : ''}`),
    };
  };

  log('overhead: the pack at its fixed load (0 ms target)');
  let packScript: any;
  rows.push(
    row(
      await measure(server, async () => {
        const { ran, dir } = await runPack(server, packArgs, 180);
        if (dir && existsSync(join(dir, 'script.yml'))) packScript = parse(readFileSync(join(dir, 'script.yml'), 'utf8'));
        return { tool: 'pack', load: `${packArgs.join(' ')} (up to ${USERS} users, ~1 s think)`, ran };
      }),
    ),
  );
  const thinkLoops = Math.max(2, Math.round(20 * scale));
  log(`overhead: bare Artillery at the same load (${USERS} users, 1 s think)`);
  rows.push(
    row(
      await measure(server, async () => {
        const { ran } = await runArtilleryScript('over-think', bareScript(server.url, { users: USERS, loops: thinkLoops, thinkS: 1 }), 120);
        return { tool: 'bare Artillery', load: `${USERS} users x ${thinkLoops} journeys, 1 s think`, ran };
      }),
    ),
  );
  // Maximum rates: no think time. Artillery does ~1,000 requests/s here: 300 journeys of 5 is ~15 s.
  const maxLoops = Math.max(20, Math.round(300 * scale));
  log(`overhead: bare Artillery flat out (${USERS} users x ${maxLoops} journeys)`);
  rows.push(
    row(
      await measure(server, async () => {
        const { ran } = await runArtilleryScript('over-max', bareScript(server.url, { users: USERS, loops: maxLoops }), 150);
        return { tool: 'bare Artillery, no think', load: `${USERS} users x ${maxLoops} journeys, no think`, ran };
      }),
    ),
  );
  // The pack's own Artillery script (processor, plugins, expectations, gates) with the pause set to
  // 0: the pack's command line has no such knob, so the script it generated is run directly.
  const holdS = Math.max(3, Math.round(12 * scale));
  if (packScript?.config?.variables) {
    log(`overhead: the pack's script flat out (${USERS} users for ${holdS + 1} s, think 0)`);
    const { toPhases } = await import('../src/plan/users');
    const stages = [
      { duration: 1, target: USERS },
      { duration: holdS, target: USERS },
      { duration: 0.1, target: 0 },
    ];
    packScript.config.phases = toPhases(stages);
    const runDir = mkdtempSync(join(tempDir(), 'packmax-'));
    const voxanne = packScript.config.variables.voxanne;
    packScript.config.variables = { ...packScript.config.variables, voxanne: { ...voxanne, stages, thinkMs: 0 } };
    // The script is run from elsewhere: the processor as the pack runs it, compiled.
    packScript.config.processor = join(ROOT, '.build', 'processors', 'journey.js');
    rows.push(
      row(
        await measure(server, async () => {
          const { ran } = await runArtilleryScript('pack-max', stringify(packScript), 150, {
            VOXANNE_RUN_DIR: runDir,
          });
          return { tool: "the pack's Artillery script, think 0", load: `${USERS} users for ${holdS + 1} s, no think`, ran };
        }),
      ),
    );
  } else log("overhead: no script.yml in the pack's run folder; the pack-flat-out row is left out");
  const equal = packScript ? await likeForLike(server, packScript, scale) : [];

  const ceilingS = Math.max(3, Math.round(10 * scale));
  log(`overhead: autocannon -c${USERS} for ${ceilingS} s`);
  rows.push(
    row(
      await measure(server, async () => {
        const ran = await runCommand(
          process.execPath,
          ['--require', 'ts-node/register', join(__dirname, 'pack-autocannon.ts'), server.url, String(USERS), String(ceilingS)],
          {
            timeoutS: ceilingS + 30,
          },
        );
        return { tool: 'autocannon', load: `${USERS} connections, ${ceilingS} s`, ran };
      }),
    ),
  );
  if (hasWrk()) {
    log(`overhead: wrk -c${USERS} -t2 for ${ceilingS} s`);
    rows.push(
      row(
        await measure(server, async () => {
          const { ran } = await runWrk(server.url, ceilingS);
          return { tool: 'wrk', load: `${USERS} connections, 2 threads, ${ceilingS} s`, ran };
        }),
      ),
    );
  }
  return [
    '## Overhead',
    '',
    'Target: 0 ms delay. CPU is user + sys of the command\'s whole process tree; "during the load" is from the load\'s first request to its last answer as the server saw them; requests/s over the same span.',
    '',
    ...overheadTable(rows),
    '',
    ...equal,
  ];
}

/** `--only equal`: the like-for-like comparison alone; the pack's script comes from its shortest run (smoke at x0.25). */
export async function likeForLikeOnly(server: Server, scale: number): Promise<string[]> {
  const { dir } = await runPack(server, ['--profile', 'smoke', '--time-scale', '0.25'], 120);
  if (!dir || !existsSync(join(dir, 'script.yml'))) throw new Error("no script.yml in the pack's run folder");
  return ['## Overhead', '', ...(await likeForLike(server, parse(readFileSync(join(dir, 'script.yml'), 'utf8')), scale))];
}

/** The like-for-like load: USERS users arriving over 1 s, each looping over the five endpoints with a 1 s pause, for `holdS` s. */
const EQUAL_THINK_S = 1;
const equalHoldS = (scale: number) => Math.max(6, Math.round(20 * scale));

/**
 * Plain Artillery sending what the pack's script sends, checked as it checks it: the same requests
 * (names, URLs, the Bearer header on the authenticated ones, no redirects followed) with the same
 * `expect` lists through the expect plugin, and no processor, recorder or other plugin. The pack
 * against this is the cost of the pack itself.
 */
async function sameRequests(packScript: any, target: string, loops: number): Promise<any> {
  const { requestsByName } = await import('../src/catalog/contract');
  const { authorizationFor } = await import('../src/artillery/authorization');
  const voxanne = packScript.config.variables.voxanne;
  const catalog = requestsByName(voxanne.contract);
  const header = await authorizationFor(voxanne.auth);
  const requests = (packScript.scenarios[0].flow[0].loop as any[])
    .filter((step) => step.get)
    .map(({ get: { ifTrue: _sending, ...get } }) => ({ get: catalog.get(get.name)?.bearer && header ? { ...get, headers: { authorization: header } } : get }));
  return {
    config: { target, phases: packScript.config.phases, plugins: { expect: { outputFormat: 'silent' } } },
    scenarios: [{ name: 'same requests', flow: [{ loop: [...requests, { think: EQUAL_THINK_S }], count: loops }] }],
  };
}

/**
 * The pack's Artillery script (its processor, plugins, expectations, gates; as the pack runs it),
 * the same requests and checks in plain Artillery, and plain Artillery with no processor, at the
 * same users, arrivals, pause and duration, against the same
 * target, alternately `reps` times: CPU of Artillery's process tree per 1000 requests during the load,
 * and the median of each.
 */
export async function likeForLike(server: Server, packScript: any, scale: number, reps = 3): Promise<string[]> {
  const { toPhases } = await import('../src/plan/users');
  const holdS = equalHoldS(scale);
  const stages = [
    { duration: 1, target: USERS },
    { duration: holdS, target: USERS },
    { duration: 0.1, target: 0 },
  ];
  const phases = toPhases(stages);
  const script = structuredClone(packScript);
  script.config.phases = phases;
  const voxanne = script.config.variables.voxanne;
  script.config.variables = { ...script.config.variables, voxanne: { ...voxanne, stages, thinkMs: EQUAL_THINK_S * 1000 } };
  script.config.processor = join(ROOT, '.build', 'processors', 'journey.js');
  const bare = parse(bareScript(server.url, { users: USERS, loops: holdS, thinkS: EQUAL_THINK_S }));
  bare.config.phases = phases;
  const same = await sameRequests(script, server.url, holdS);
  const load = `${USERS} users arriving over 1 s, ${EQUAL_THINK_S} s pause between journeys of 5 requests, ${holdS} s`;
  const perK = (m: Measured) =>
    (m.ran.cpuBetween(m.server.firstLoadArrivalAt ?? NaN, m.server.lastLoadEndAt ?? NaN) * 1000) / Math.max(1, m.server.loadRequests);
  const runs: Record<'pack' | 'same' | 'bare', Array<{ perK: number; requests: number; seconds: number; background: number }>> = {
    pack: [],
    same: [],
    bare: [],
  };
  const names = { pack: "the pack's script", same: 'Artillery with the same requests and checks', bare: 'bare Artillery' };
  for (let i = 0; i < reps; i++) {
    for (const tool of ['pack', 'same', 'bare'] as const) {
      log(`overhead, like for like (${i + 1}/${reps}): ${names[tool]}, ${load}`);
      const m = await measure(server, async () => {
        const { ran } =
          tool === 'pack'
            ? await runArtilleryScript('equal-pack', stringify(script), holdS + 90, { VOXANNE_RUN_DIR: mkdtempSync(join(tempDir(), 'equal-run-')) })
            : await runArtilleryScript(`equal-${tool}`, stringify(tool === 'same' ? same : bare), holdS + 90);
        return { tool, load, ran };
      });
      runs[tool].push({ perK: perK(m), requests: m.server.loadRequests, seconds: loadSeconds(m.server), background: m.background });
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const [p, sm, b] = [median(runs.pack.map((r) => r.perK)), median(runs.same.map((r) => r.perK)), median(runs.bare.map((r) => r.perK))];
  const line = (name: string, rs: (typeof runs)['pack'], med: number) =>
    `| ${name} | ${rs.map((r) => f(r.perK, 0)).join(', ')} | **${f(med, 0)}** | ${rs.map((r) => r.requests).join(', ')} | ${rs.map((r) => f(r.seconds)).join(', ')} | ${rs.map((r) => f(r.background, 2)).join(', ')} |`;
  return [
    '### Like for like',
    '',
    `${load}; the same phases for all three. CPU (user + sys) of Artillery's process tree from the load's first request to its last answer, per 1000 requests.`,
    '',
    '| tool | CPU per 1000 requests, each run (ms) | median (ms) | requests | load time (s) | background load (cores) |',
    '|---|---|---|---|---|---|',
    line("the pack's Artillery script", runs.pack, p),
    line('Artillery, the same requests and checks (Bearer header, expect plugin; no processor)', runs.same, sm),
    line('bare Artillery (no processor)', runs.bare, b),
    '',
    `The pack / the same requests and checks: **${f(p / sm, 2)}x** (the pack's own cost: processor, recorder, plugins); the pack / bare: **${f(p / b, 2)}x**.`,
    '',
  ];
}

function overheadTable(rows: OverheadRow[]): string[] {
  const lines = [
    '| tool | load | requests | load time (s) | requests/s | CPU, whole command (s) | CPU during the load (s) | CPU per 1000 requests during the load (ms) | server CPU | background load (cores) |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.tool}${r.note ? ` (${r.note})` : ''} | ${r.load} | ${r.requests} | ${f(r.seconds)} | ${f(r.requests / r.seconds, 0)} | ${f(r.cpuS, 2)} | ` +
        `${f(r.windowCpuS, 2)} | ${f((r.windowCpuS * 1e6) / Math.max(1, r.requests), 0)} | ${f(r.serverCpuPct, 0)} % | ${f(r.background, 2)} |`,
    );
  }
  return lines;
}
