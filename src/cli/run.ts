// `npm run test:local` / `test:prod`: resolve the plan, run Artillery on it, then write the run
// record and its outputs, and print the verdict.
import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { stringify } from 'yaml';
import { formatDryRun } from './dry-run';
import { appendHistory } from '../outputs/history';
import { sendAlert } from '../outputs/alert';
import { publishResults, withPublishMetrics } from '../outputs/publish';
import { writeReports } from '../outputs/report';
import { formatSummary } from '../outputs/summary';
import type { RunRecord } from '../record/record';
import { recordFromFolder, writeEndFile, writePlanFile } from '../record/replay';
import { artilleryScript, runArtillery, runDistributed } from '../artillery/artillery-run';
import type { ArtilleryEnd } from '../channel/channel';
import { resolvePlan, type RunPlan } from '../plan/resolve';
import { createRunFolder } from '../plan/run-folder';
import { maxUsers } from '../plan/users';
import { BUILD_DIR } from '../catalog/config';
import { EXIT, UsageError } from '../common/errors';
import { redactor } from '../common/secrets';
import { followChannel, LiveView, liveLine, startLive, type Compared } from '../live/live';
import { RUN_FILE, REPORT_FILE, SCRIPT_FILE, OUTPUT_FILE } from '../common/run-files';

/** The run folder's name: start time, environment and profile (claimed atomically, see run-folder). */
function runId(plan: RunPlan, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return createRunFolder(plan.opts.reportsDir, `${stamp}-${plan.environment.name}-${plan.profile.name}`);
}

export async function executeRun(plan: RunPlan): Promise<RunRecord> {
  // Before the run folder: a live port in use stops the run before anything is made or sent.
  const liveServer = plan.opts.live ? await startLive(plan) : undefined;
  const id = runId(plan);
  const dir = join(plan.opts.reportsDir, id);
  const live = liveServer && new LiveView(liveServer, plan, id, dir, Date.now());
  try {
    return await runAndReport(plan, id, dir, live);
  } finally {
    await live?.abandon();
  }
}

async function runAndReport(plan: RunPlan, id: string, dir: string, live: LiveView | undefined): Promise<RunRecord> {
  const scriptFile = join(dir, SCRIPT_FILE);
  writeFileSync(scriptFile, stringify(withPublishMetrics(artilleryScript(plan, dir), plan, id)));
  writePlanFile(dir, plan);
  console.log(
    `Running profile ${plan.profile.name} (${Math.round(plan.loadSeconds)} s, up to ${maxUsers(plan.stages)} users) ` +
      `against ${plan.target}; auth: ${plan.auth.description}`,
  );
  if (plan.auth.warning) console.log(`warning: ${plan.auth.warning}`);
  if (live) console.log(liveLine(live.server));
  const unfollow = live ? followChannel(dir, (events) => live.add(events)) : () => {};
  const output = join(dir, OUTPUT_FILE);
  let end: ArtilleryEnd;
  if (plan.opts.platform === 'local') {
    // The processor as bin/pack.js compiled it: Artillery's own TypeScript bundling costs 2-3 s a run.
    const compiled = JSON.stringify({ config: { processor: join(BUILD_DIR, 'processors', 'journey.js') } });
    end = await runArtillery(plan, dir, ['run', scriptFile, '--output', output, '--overrides', compiled]);
  } else {
    end = await runDistributed(plan, dir, output);
  }
  unfollow();
  // How Artillery ended is kept with the plan, so the folder replays into this record (src/record/replay.ts).
  writeEndFile(dir, id, end);
  const record: RunRecord = recordFromFolder(plan, id, dir, end);
  writeFileSync(join(dir, RUN_FILE), JSON.stringify(record));
  appendHistory(record, plan.opts.reportsDir);
  let report: string | undefined;
  let compared: Compared | undefined;
  try {
    compared = writeReports(record, dir, plan.opts.reportsDir);
    report = join(dir, REPORT_FILE);
  } catch (err) {
    // A report that cannot be written never changes the run's verdict; run.json is already there.
    console.error(`warning: could not write the reports (${(err as Error).message}); rebuild them with npm run report`);
  }
  // The open tabs get the report as report.html has it, while the rest goes on.
  const shown = live?.finish(record, compared);
  console.log(formatSummary(record));
  console.log(`\nrun folder: ${relative(process.cwd(), dir) || dir}`);
  if (report) console.log(`report: ${relative(process.cwd(), report) || report}`);
  await publishResults(record, plan.environment.publishMetrics);
  await sendAlert(record, report ?? dir);
  await shown;
  return record;
}

/** Runs the command line; returns the exit code. Bad input becomes one line on stderr. */
export async function main(argv: string[]): Promise<number> {
  try {
    const plan = await resolvePlan(argv);
    if (plan.opts.dryRun) {
      console.log(await formatDryRun(plan));
      return EXIT.passed;
    }
    const record = await executeRun(plan);
    return record.exitCode;
  } catch (err) {
    if (err instanceof UsageError) {
      (err.exitCode === 0 ? console.log : console.error)(err.exitCode === 0 ? err.message : `error: ${redactor()(err.message)}`);
      return err.exitCode;
    }
    console.error(`error: ${redactor()(String((err as Error)?.message ?? err))} (unexpected; please report it)`);
    return EXIT.gateFailed;
  }
}
