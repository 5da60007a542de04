// The live view of a run (--live): the report itself, served on 127.0.0.1 and filled in as the run
// goes. It is fed from the run's event channel (events.ndjson, which Artillery's main thread writes
// anyway), read here in the pack's own process: Artillery and its workers do nothing more for it.
// Each time events arrive (at most once a second) the record so far is assembled by the same
// function as the final record and rendered by the same renderer as report.html; the page's parts
// go to the open tabs (server.ts). When the run ends, the final record's parts go out once more,
// so the page becomes the report.html written next to it.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { RunEvent } from '../channel/channel';
import { EVENTS_FILE } from '../common/run-files';
import { assembleRecord } from '../record/assemble';
import type { RunRecord } from '../record/record';
import type { RunPlan } from '../plan/resolve';
import { findPrevious, findUnlike, readRuns } from '../outputs/report/index';
import { renderReport, reportParts } from '../outputs/report/html';
import { inlineScript } from '../outputs/report/script';
import type { Unlike } from '../outputs/report/comparison';
import { redactor } from '../common/secrets';
import { running } from './status';
import { startLiveServer, type LiveServer } from './server';

/** The fewest milliseconds between two renders: events come in bursts (a period and a step together). */
export const RENDER_EVERY_MS = 1000;
/**
 * And at least this many times the last render's own CPU time: the view never takes more than 2 %
 * of a core, even near the end of a day-long soak, whose record takes a second to build. Paced in
 * real time and by CPU, not by the run's clock or wall time: a replay's clock runs faster, and a
 * busy machine stretches a render's wall time without making it cost more.
 */
export const RENDER_SHARE = 50;
/** How often the channel is looked at for new events. */
export const FOLLOW_EVERY_MS = 500;

const liveScript = (): string => inlineScript(join(__dirname, 'client'));

/**
 * Every string of the record through the redactor, as plan.json and artillery.log are: the record
 * holds no secret by design, and this keeps it so on the page. Sketches (base64) are left as they are.
 */
export function redactRecord(record: RunRecord, redact = redactor()): RunRecord {
  return JSON.parse(JSON.stringify(record, (key, v) => (typeof v === 'string' && key !== 'latency' ? redact(v) : v))) as RunRecord;
}

export interface Compared {
  previous: RunRecord | null;
  unlike: Unlike | null;
}

export class LiveView {
  private events: RunEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** performance.now() at the last render's start, and the CPU it took. */
  private lastRender = 0;
  private renderCpuMs = 0;
  /** Renders done and the CPU they took (the benchmark reads them). */
  readonly cost = { renders: 0, cpuMs: 0 };
  private done = false;
  private compared: Compared | undefined;
  private readonly redact = redactor();

  constructor(
    readonly server: LiveServer,
    private readonly plan: RunPlan,
    private readonly id: string,
    private readonly dir: string,
    private readonly since: number,
    private readonly clock: () => number = Date.now,
  ) {
    this.render();
  }

  /** New events from the channel; the page follows within RENDER_EVERY_MS. Never throws into the run. */
  add(events: RunEvent[]): void {
    if (this.done || !events.length) return;
    this.events.push(...events);
    if (this.timer) return;
    const wait = Math.max(0, this.lastRender + Math.max(RENDER_EVERY_MS, RENDER_SHARE * this.renderCpuMs) - performance.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.render();
    }, wait);
    this.timer.unref();
  }

  private render(): void {
    if (this.done) return;
    this.lastRender = performance.now();
    const cpu = process.cpuUsage();
    try {
      const now = this.clock();
      const end = { code: null, killedBy: null, stoppedBy: null, startedAt: new Date(this.since), endedAt: new Date(now) };
      const record = redactRecord(assembleRecord(this.plan, this.id, this.events, end, undefined, { running: true }), this.redact);
      this.compared ??= compareWith(record, this.dir, this.plan.opts.reportsDir);
      const { previous, unlike } = this.compared;
      const events = [...this.events];
      this.server.publish('page', JSON.stringify(reportParts(record, previous, unlike, running(this.plan, record, events, this.since, now))));
      this.server.setPage(() =>
        renderReport(record, previous, unlike, { running: running(this.plan, record, events, this.since, this.clock()), script: liveScript() }),
      );
    } catch (err) {
      // The view is a window on the run, never part of it: a page that cannot be made waits for the next events.
      if (process.env.VOXANNE_LIVE_DEBUG) console.error(`live view: ${(err as Error).stack}`);
    }
    const used = process.cpuUsage(cpu);
    this.renderCpuMs = (used.user + used.system) / 1000;
    this.cost.renders++;
    this.cost.cpuMs += this.renderCpuMs;
  }

  /**
   * The run's final record, with the comparison report.html was written with: the page becomes the
   * report, and the server closes. Resolves once the open tabs have it (at most half a second).
   */
  async finish(record: RunRecord, compared: Compared = { previous: null, unlike: null }): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.done = true;
    try {
      const final = redactRecord(record, this.redact);
      this.server.publish('final', JSON.stringify(reportParts(final, compared.previous, compared.unlike)));
      this.server.setPage(() => renderReport(final, compared.previous, compared.unlike, { script: liveScript() }));
    } finally {
      await this.server.close();
    }
  }

  /** The run ended before it had a record (an error): the tabs keep the last state; the server closes. */
  async abandon(): Promise<void> {
    if (this.done) return;
    if (this.timer) clearTimeout(this.timer);
    this.done = true;
    await this.server.close();
  }
}

function compareWith(record: RunRecord, dir: string, reportsDir: string): Compared {
  const runs = readRuns(reportsDir);
  const previous = findPrevious(record, dir, runs);
  return { previous, unlike: previous ? null : findUnlike(record, dir, runs) };
}

/**
 * Follows a channel file as it grows: calls `onEvents` with each complete new line's event, every
 * FOLLOW_EVERY_MS. Returns `stop`, which reads what is left once more. Lines are checked with the
 * channel's schema; a line not complete yet waits for its end.
 */
export function followChannel(dir: string, onEvents: (events: RunEvent[]) => void, everyMs = FOLLOW_EVERY_MS): () => void {
  const file = join(dir, EVENTS_FILE);
  let offset = 0;
  let partial = '';
  const decoder = new StringDecoder('utf8');
  const read = () => {
    let size: number;
    try {
      size = statSync(file).size;
    } catch {
      return; // no event yet
    }
    if (size <= offset) return;
    const buf = Buffer.alloc(size - offset);
    const fd = openSync(file, 'r');
    try {
      offset += readSync(fd, buf, 0, buf.length, offset);
    } finally {
      closeSync(fd);
    }
    const lines = (partial + decoder.write(buf)).split('\n');
    partial = lines.pop() ?? '';
    const events = lines.flatMap((line) => {
      try {
        const parsed = RunEvent.safeParse(JSON.parse(line));
        return parsed.success ? [parsed.data] : [];
      } catch {
        return [];
      }
    });
    if (events.length) onEvents(events);
  };
  const timer = setInterval(read, everyMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    read();
  };
}

/** Starts the server (before the run folder exists, so a port in use stops the run before anything). */
export const startLive = (plan: RunPlan): Promise<LiveServer> => startLiveServer(plan.opts.livePort ?? 0);

/** The line printed at start: the URL, and how to reach it from another machine. */
export function liveLine(server: LiveServer): string {
  return `live view: ${server.url} (127.0.0.1 only; from another machine: ssh -L 5665:127.0.0.1:${server.port} <this host>, then http://localhost:5665/)`;
}
