// --dry-run: the resolved plan, printed without sending a single request.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { platformCommand } from '../artillery/distributed';
import { bundleFiles, packedByArtillery, SECRETS_FILE, writeBundle } from '../artillery/bundle';
import { artilleryScript } from '../artillery/artillery-run';
import { gateLimitText } from '../outputs/report/format';
import { gatesForPlan, plannedForRecord } from '../record/gates';
import { API_SAMPLES } from '../checks/health';
import { capacityLimits } from '../plan/capacity';
import { periodMs } from '../catalog/contract';
import { planVisits, plannedUsersAt } from '../plan/users';
import type { RunPlan } from '../plan/resolve';

const clock = (s: number) => `${Math.floor(s / 60)}:${String(Math.round(s % 60)).padStart(2, '0')}`;

export async function formatDryRun(plan: RunPlan): Promise<string> {
  const { opts, budgets, estimate } = plan;
  const visits = planVisits(plan.stages);
  const out: string[] = [];
  out.push(`Dry run: nothing is sent.`, '');
  out.push(`target:      ${plan.target} (environment ${plan.environment.name}${plan.environment.production ? ', production' : ''})`);
  out.push(`profile:     ${plan.profile.name}: ${plan.profile.description}` + (opts.timeScale !== 1 ? ` (time scale ${opts.timeScale})` : ''));
  out.push(`auth:        ${plan.auth.description}`);
  out.push(
    `timeout:     ${opts.timeoutSeconds} s per request; breaker ${plan.breaker ? `on (stops when >${budgets.breaker.errorRatePct} % of the last ${budgets.breaker.windowSeconds} s fail or /health goes bad)` : 'off'}`,
  );
  const capacity = plan.profile.capacity;
  let start = 0;
  let users = 0;
  if (capacity) {
    const c = capacity;
    out.push(
      '',
      'capacity search (each step chosen from what the steps before it measured):',
      `  grow:     ${c.startUsers} users, then x${c.growth} per step until a gate breaks or throughput stops growing`,
      `            (users x${c.saturation.usersGrowth} or more and requests/s up less than ${c.saturation.rpsGrowthPct} %)`,
      `  predict:  past that knee, the users where a gate breaks (Little's law: latency ~ users / throughput)`,
      `  narrow:   check it with real steps and bracket it until the users that broke are within ${Math.round((c.narrowTo - 1) * 100)} % of those held`,
      `  each step: ${c.settleSeconds} s + the last p99 to settle, then measured on whole seconds: at least ${c.minStepSeconds} s and ${c.minRequests} responses, at most ${c.maxStepSeconds} s`,
      `  bounds:   ${c.maxUsers} users (a waiting pool that arrives in ${c.poolSeconds} s and sends only as each step lets it), ${c.maxSeconds} s of load`,
      `  think time ${plan.profile.thinkSeconds} s between journeys${opts.spreadIps ? '; every request its own client address (loopback)' : ''}`,
    );
    return capacityTail(plan, out);
  }
  out.push('', 'users over time:');
  for (const stage of plan.stages) {
    out.push(`  ${clock(start).padStart(6)} - ${clock(start + stage.duration).padEnd(6)} ${users} -> ${stage.target} users`);
    start += stage.duration;
    users = stage.target;
  }
  const marks = 40;
  const peak = Math.max(1, ...plan.stages.map((s) => s.target));
  const bars = ' ▁▂▃▄▅▆▇█';
  const line = Array.from({ length: marks }, (_, i) => bars[Math.round((plannedUsersAt(visits, ((i + 0.5) * start) / marks) / peak) * 8)]).join('');
  out.push(`  [${line}] peak ${peak}, ${clock(start)} in all`);
  out.push('', `estimated requests (one journey = ${plan.endpoints.length} requests + ${plan.profile.thinkSeconds} s pause, at the guide's p50 latencies):`);
  for (const e of plan.endpoints) out.push(`  GET ${e.path.padEnd(28)} ~${estimate.perEndpoint[e.name]}`);
  out.push(`  total ~${estimate.total}`);
  const limit = plan.contract.rateLimit;
  const fits = estimate.api + API_SAMPLES <= limit.requests;
  out.push(
    '',
    `rate limit:  ~${estimate.api} /api requests (+ up to ${API_SAMPLES} for the preflight) against the backend's ${limit.requests} per ${limit.windowSeconds / 3600} h per IP: ` +
      (opts.spreadIps
        ? 'not a limit here (--spread-ips gives every request its own client address on this loopback target)'
        : fits
          ? 'fits, if the window is not already used'
          : `exceeds it; ${plan.environment.production && !opts.yes ? 'the run will refuse to start unless confirmed with --yes' : 'expect 429s once the window is used up'}`),
  );
  if (opts.platform !== 'local') out.push('', ...(await scaleOut(plan)));
  out.push(
    '',
    plannedForRecord(plan) === plan.estimate.total
      ? 'gates:'
      : `gates (judged on all ${plan.opts.count} workers' combined output, by Artillery's leader and the record):`,
  );
  const specs = gatesForPlan(plan);
  for (const g of specs) {
    out.push(`  ${g.strict ? 'gate   ' : 'warning'}  ${g.title.padEnd(26)} ${gateLimitText(g)}`);
  }
  return out.join('\n');
}

/** A capacity search's gates: the guide's, per step, and the generator's own limit. */
function capacityTail(plan: RunPlan, out: string[]): string {
  const l = capacityLimits(plan.budgets, plan.opts.count429, periodMs(plan.contract));
  out.push('', "per-step gates (the guide's, from config/budgets.yml) and the generator's own limit:");
  out.push(
    `  p99 response time < ${l.p99Ms} ms; HTTP error rate < ${l.errorRatePct} %; timeouts <= ${l.maxTimeouts}${l.count429 ? '' : `; rate limited < ${l.maxRateLimitedPct} %`}`,
  );
  out.push(`  load generator: worker CPU < ${l.generatorCpuPct} % of a core, event-loop delay < ${l.generatorLoopDelayMs} ms`);
  return out.join('\n');
}

const size = (bytes: number) => (bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : bytes >= 1e3 ? `${(bytes / 1e3).toFixed(1)} KB` : `${bytes} B`);

/**
 * --platform fargate|lambda: the run's bundle, built and kept (without secrets), and what
 * Artillery's own packer makes of it, called as the runner calls it.
 */
async function scaleOut(plan: RunPlan): Promise<string[]> {
  const { opts } = plan;
  const dir = mkdtempSync(join(tmpdir(), 'voxanne-bundle-'));
  writeBundle(dir, artilleryScript(plan, dir));
  const files = bundleFiles(dir);
  const runner = opts.platform === 'fargate' ? 'aws:ecs' : 'aws:lambda';
  const packed = await packedByArtillery(dir, runner);
  const command = platformCommand(opts, '<run folder>/artillery.json');
  const out = [`scale-out (${opts.platform}):`, `  bundle:   ${dir} (kept, without secrets; a run makes its own in <run folder>/bundle)`];
  for (const f of files) out.push(`    ${f.name.padEnd(14)} ${size(f.bytes).padStart(8)}`);
  out.push(`    in all         ${size(files.reduce((n, f) => n + f.bytes, 0)).padStart(8)}`);
  if (command.args.includes(SECRETS_FILE)) out.push(`    ${SECRETS_FILE} is added at run time (owner-only) and removed after the run`);
  out.push(
    `  Artillery's packer (createBOM, as ${opts.platform === 'fargate' ? 'run-fargate' : 'run-lambda'} calls it) uploads: ${packed.files.join(', ')}`,
    `  npm packages a worker would install: ${packed.modules.length ? packed.modules.join(', ') : 'none'}`,
    `  from the bundle's folder: artillery ${command.args.join(' ')}`,
    ...command.notes.map((n) => `  ${n}`),
  );
  return out;
}
