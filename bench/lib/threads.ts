// Per-thread CPU of a process tree, from /proc (Linux): every second, each thread's utime + stime,
// so a benchmark can say which thread of the Artillery process worked when (its worker thread, its
// main thread), independently of what the pack measures of itself.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's utime and stime. */
const HZ = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

export interface ThreadSample {
  at: number;
  /** CPU ms so far, per "pid/tid name". */
  cpuMs: Map<string, number>;
}

function descendants(pid: number): number[] {
  const out = [pid];
  try {
    for (const child of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number)) out.push(...descendants(child));
  } catch {
    // gone
  }
  return out;
}

const cmdline = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
};

/** One sample of every thread of the processes under `root` whose command line matches `match`. */
export function sampleThreads(root: number, match: RegExp): ThreadSample {
  const cpuMs = new Map<string, number>();
  for (const pid of descendants(root).filter((p) => match.test(cmdline(p)))) {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        cpuMs.set(`${pid}/${tid} ${name}`, ((Number(f[11]) + Number(f[12])) * 1000) / HZ);
      } catch {
        // the thread ended between the listing and the read
      }
    }
  }
  return { at: Date.now(), cpuMs };
}

/** Samples every second until stopped; `cpuBetween` gives each thread's CPU ms over [from, to). */
export function watchThreads(root: number, match: RegExp, everyMs = 1000) {
  const samples: ThreadSample[] = [];
  const timer = setInterval(() => samples.push(sampleThreads(root, match)), everyMs);
  return {
    samples,
    stop: () => clearInterval(timer),
    /** CPU ms of each thread between the samples nearest `from` and `to` (epoch ms). */
    cpuBetween(from: number, to: number): Map<string, number> {
      const inside = samples.filter((s) => s.at >= from && s.at <= to);
      const out = new Map<string, number>();
      if (inside.length < 2) return out;
      const [a, b] = [inside[0], inside[inside.length - 1]];
      for (const [k, v] of b.cpuMs) out.set(k, v - (a.cpuMs.get(k) ?? v));
      return out;
    },
    /** The seconds the window really covers (between its first and last sample). */
    spanMs(from: number, to: number): number {
      const inside = samples.filter((s) => s.at >= from && s.at <= to);
      return inside.length < 2 ? 0 : inside[inside.length - 1].at - inside[0].at;
    },
  };
}

/** The busiest thread of a window: for an Artillery run, its worker (the users' thread). */
export function busiest(cpu: Map<string, number>): { name: string; ms: number } | null {
  let best: { name: string; ms: number } | null = null;
  for (const [name, ms] of cpu) if (!best || ms > best.ms) best = { name, ms };
  return best;
}
