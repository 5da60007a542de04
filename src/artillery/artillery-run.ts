// Runs Artillery on a plan: the run's script (the scenario plus target, phases, gates and
// processor), the child process and its signals, or Artillery's distributed runners.
import { spawn } from 'node:child_process';
import { copyFileSync, createWriteStream } from 'node:fs';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { readTail, RUN_DIR_ENV, writeEvent, type ArtilleryEnd } from '../channel/channel';
import { platformCommand, secretValues } from './distributed';
import { removeSecrets, writeBundle } from './bundle';
import { preflightExitCode, preflightLines, runPreflight } from './preflight';
import { checkHealth } from '../checks/health';
import { runConfigFromPlan } from './write-run-config';
import { artilleryStartError } from '../record/artillery-start';
import { ensureConfig, gatesForPlan } from '../record/gates';
import type { RunPlan } from '../plan/resolve';
import { toPhases } from '../plan/users';
import { BUILD_DIR, contractFile, ROOT } from '../catalog/config';
import { withContractExpectations, type Scenario } from '../catalog/scenario';
import { USER_LINE_MARK } from '../common/log';
import { redactor } from '../common/secrets';
import { ARTILLERY_LOG } from '../common/run-files';

const ARTILLERY = join(ROOT, 'node_modules', 'artillery', 'bin', 'run');
const PROCESSOR_SOURCE = join(ROOT, 'processors', 'journey.ts');

/** The Artillery script of this run: the scenario plus target, phases, gates and processor. */
export function artilleryScript(plan: RunPlan, dir: string): Scenario {
  const { opts } = plan;
  const script = withContractExpectations(structuredClone(plan.scenario), plan.contract, plan.auth.mode !== 'probe');
  script.config = {
    ...script.config,
    target: plan.target,
    phases: toPhases(plan.stages),
    // Relative, so that the run folder's script.yml runs again with plain `npx artillery run`
    // (Artillery bundles the TypeScript itself then); the pack runs it with the compiled copy.
    processor: relative(dir, PROCESSOR_SOURCE),
    http: { ...(script.config.http ?? {}), timeout: opts.timeoutSeconds },
    variables: { ...(script.config.variables ?? {}), voxanne: runConfigFromPlan(plan) },
    plugins: { ...script.config.plugins, ensure: ensureConfig(gatesForPlan(plan)) },
  };
  // A capacity search has no whole-run gates for ensure to check (each step is judged instead).
  if (plan.profile.capacity) delete (script.config.plugins as Record<string, unknown>).ensure;
  if (opts.spreadIps) {
    for (const s of script.scenarios) s.beforeRequest = [...[s.beforeRequest ?? []].flat(), 'spreadClientIp'];
  }
  return script;
}

/** A signal repeated within this is the same stop delivered twice, not a second Ctrl-C (a person's second press comes later). */
const SIGNAL_REPEAT_MS = 100;

/**
 * Runs Artillery; shows the pack's own lines, keeps the rest (secrets redacted) in artillery.log.
 * SIGINT, SIGTERM and SIGHUP stop the load gracefully (Artillery reports everything it measured);
 * a second one ends Artillery at once, and the record is built from what the channel holds.
 */
export async function runArtillery(plan: RunPlan, dir: string, args: string[], cwd = ROOT): Promise<ArtilleryEnd> {
  const startedAt = new Date();
  const child = spawn(process.execPath, [ARTILLERY, ...args], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      [RUN_DIR_ENV]: dir,
      // Artillery loads a lot of code in its main thread and again in each worker: keep V8's compiled code.
      NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE ?? join(BUILD_DIR, 'compile-cache'),
      VOXANNE_CONTRACT: contractFile(),
      ARTILLERY_DISABLE_TELEMETRY: '1',
      NO_COLOR: '1',
    },
  });
  const log = createWriteStream(join(dir, ARTILLERY_LOG));
  const redact = redactor();
  const forward = (stream: NodeJS.ReadableStream) =>
    createInterface({ input: stream }).on('line', (raw) => {
      const line = redact(raw);
      log.write(`${line}\n`);
      if (line.startsWith(USER_LINE_MARK)) console.log(line.slice(USER_LINE_MARK.length));
      else if (plan.opts.verbose) console.log(line);
    });
  forward(child.stdout);
  forward(child.stderr);

  let stoppedBy: NodeJS.Signals | null = null;
  let stoppedAt = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    // The same stop twice at once (to the process group, and passed on by bin/pack.js's re-run) is one stop.
    if (stoppedBy === signal && Date.now() - stoppedAt < SIGNAL_REPEAT_MS) return;
    if (stoppedBy) {
      console.log(`${signal} again: ending at once; the record keeps what was measured.`);
      child.kill('SIGKILL');
      return;
    }
    stoppedBy = signal;
    stoppedAt = Date.now();
    console.log(`${signal}: stopping the load and keeping what was measured (again to end at once).`);
    child.kill(signal);
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  const [code, killedBy] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, sig) => resolve([c, sig])));
  for (const s of signals) process.off(s, onSignal);
  await new Promise((resolve) => log.end(resolve));
  return {
    code,
    killedBy: killedBy === 'SIGKILL' && stoppedBy ? null : killedBy,
    stoppedBy,
    startedAt,
    endedAt: new Date(),
    startError: artilleryStartError(dir),
    tail: readTail(dir),
  };
}

/**
 * --platform fargate|lambda: Artillery's distributed runner on the run's bundle (<run dir>/bundle),
 * or a combined output made earlier. The preflight runs once, from here, before any worker starts
 * (with the rate-limit estimate of all the workers), and /health is checked from here after the load.
 */
export async function runDistributed(plan: RunPlan, dir: string, output: string): Promise<ArtilleryEnd> {
  const startedAt = new Date();
  if (plan.opts.fromOutput) {
    copyFileSync(plan.opts.fromOutput, output);
    return { code: 0, killedBy: null, stoppedBy: null, startedAt, endedAt: startedAt };
  }
  const config = runConfigFromPlan(plan);
  const all = { ...config, rateLimit: { ...config.rateLimit, apiEstimate: config.rateLimit.apiEstimate * plan.opts.count } };
  const preflight = await runPreflight(plan.target, all);
  writeEvent(dir, preflight);
  preflightLines(preflight).forEach((line) => console.log(line));
  if (preflight.verdict !== 'go') return { code: preflightExitCode(preflight), killedBy: null, stoppedBy: null, startedAt, endedAt: new Date() };

  const bundle = join(dir, 'bundle');
  const lambda = plan.opts.platform === 'lambda';
  writeBundle(bundle, artilleryScript(plan, bundle), lambda ? secretValues() : undefined);
  const command = platformCommand(plan.opts, output);
  command.notes.forEach((note) => console.log(note));
  let end: ArtilleryEnd;
  try {
    end = await runArtillery(plan, dir, command.args, bundle);
  } finally {
    removeSecrets(bundle);
  }
  if (!end.stoppedBy) writeEvent(dir, { type: 'health-end', result: await checkHealth(plan.target, config.healthTimeoutMs) });
  return end;
}
