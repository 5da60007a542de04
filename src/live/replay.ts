// `node bin/pack.js live <run folder> [--speed N] [--live-port N]`: plays a run folder's channel
// back into the live view, at its own pace (N times faster), and ends on the report the run wrote.
// For seeing what the live view shows without a new run: a capacity search's steps, a breaker that
// tripped, a run recorded on another machine. No request is sent to any target.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { readEvents, type RunEvent } from '../channel/channel';
import { readEndFile, readPlanFile, replayRunFolder } from '../record/replay';
import { EXIT, UsageError } from '../common/errors';
import { LiveView, liveLine } from './live';
import { startLiveServer } from './server';

const USAGE = `usage: node bin/pack.js live <run folder> [--speed N] [--live-port N]
  Plays the run folder's events back into the live view on 127.0.0.1, N times faster than they came
  (default 10), and ends on the run's report. Sends nothing to any target.`;

/** When an event happened (epoch ms), where it says; undefined for those that carry no time. */
export function eventTime(e: RunEvent): number | undefined {
  switch (e.type) {
    case 'preflight':
      return Date.parse(e.health.at);
    case 'health-end':
      return Date.parse(e.result.at);
    case 'period':
      return e.last;
    case 'phase':
    case 'abort':
    case 'capacity-step':
    case 'capacity-stop':
    case 'end':
      return e.at;
    default:
      return undefined;
  }
}

/**
 * Feeds `events` to the view one at a time, waiting `pause(ms between the two events)` before each;
 * `before` and `after` run around handing each one over.
 */
export async function feed(
  view: LiveView,
  events: RunEvent[],
  pause: (gapMs: number) => number,
  hooks: { before?: (e: RunEvent) => void; after?: (e: RunEvent) => Promise<void> } = {},
): Promise<void> {
  let at: number | undefined;
  for (const e of events) {
    const t = eventTime(e);
    if (t !== undefined && at !== undefined) await sleep(Math.max(0, pause(t - at)));
    if (t !== undefined) at = t;
    hooks.before?.(e);
    view.add([e]);
    await hooks.after?.(e);
  }
}

export async function main(argv: string[]): Promise<number> {
  let server;
  try {
    let parsed;
    try {
      parsed = parseArgs({
        args: argv,
        allowPositionals: true,
        options: { speed: { type: 'string' }, 'live-port': { type: 'string' }, help: { type: 'boolean' } },
      });
    } catch (err) {
      throw new UsageError(`${(err as Error).message.split('. ')[0]}; ${USAGE.split('\n')[0]}`);
    }
    if (parsed.values.help) {
      console.log(USAGE);
      return EXIT.passed;
    }
    if (parsed.positionals.length !== 1) throw new UsageError(`one run folder, please; ${USAGE.split('\n')[0]}`);
    const dir = resolve(parsed.positionals[0]);
    if (!existsSync(dir)) throw new UsageError(`${parsed.positionals[0]} does not exist; pass a run folder (the one holding plan.json and events.ndjson)`);
    const speed = Number(parsed.values.speed ?? 10);
    if (!(speed > 0)) throw new UsageError(`--speed must be a number above 0 (got "${parsed.values.speed}")`);
    const port = parsed.values['live-port'] === undefined ? 0 : Number(parsed.values['live-port']);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--live-port takes a port number (got "${parsed.values['live-port']}")`);
    let plan, end, record;
    try {
      plan = readPlanFile(dir);
      end = readEndFile(dir);
      record = replayRunFolder(dir);
    } catch (err) {
      throw new UsageError(`${parsed.positionals[0]}: ${(err as Error).message}`);
    }
    server = await startLiveServer(port);
    // The replay's clock is the recording's, running `speed` times faster from its start.
    const events = readEvents(dir);
    const startedAt = end.end.startedAt.getTime();
    const first = events.map(eventTime).find((t) => t !== undefined) ?? startedAt;
    const replayStart = Date.now() - (first - startedAt) / speed;
    const view = new LiveView(server, plan, end.id, dir, startedAt, () => startedAt + (Date.now() - replayStart) * speed);
    console.log(liveLine(server));
    console.log(`replaying ${events.length} events at ×${speed}; Ctrl-C stops`);
    await feed(view, events, (gap) => gap / speed);
    await view.finish(record);
    console.log(`replayed: ${record.outcome} (${record.reason})`);
    return EXIT.passed;
  } catch (err) {
    await server?.close();
    if (err instanceof UsageError) {
      console.error(`error: ${err.message}`);
      return err.exitCode;
    }
    throw err;
  }
}
