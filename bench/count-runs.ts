// Counts the real Artillery runs a command makes (e.g. `npm test`): polls `ps -eo pid,ppid,args`
// every 0.2 s while the command runs and counts the unique Artillery `run` processes (a run shorter
// than 0.2 s could be missed; Artillery takes longer than that to start) that are
// descendants of the command. Prints the command's wall time, its exit code and the count.
//
//   node --require ts-node/register bench/count-runs.ts [--list] -- npm test
import { execFileSync, spawn } from 'node:child_process';
import { loadavg } from 'node:os';

const sep = process.argv.indexOf('--');
const command = sep >= 0 ? process.argv.slice(sep + 1) : [];
if (!command.length) {
  console.error('error: give the command after --, e.g. bench/count-runs.ts -- npm test');
  process.exit(2);
}
const LIST = process.argv.slice(2, sep).includes('--list');

// Artillery's node process, started as the pack does (artillery/bin/run) or through npx and
// node_modules/.bin (plain-Artillery and distributed tests); npm's own process is not counted.
const ARTILLERY_RUN = /(?:artillery[/\\]bin[/\\]run|[/\\]\.bin[/\\]artillery)\s+run(?:\s|$)/;
const seen = new Map<number, string>();
const started = Date.now();
const child = spawn(command[0], command.slice(1), { stdio: 'inherit' });

function poll(): void {
  const rows = execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { maxBuffer: 16 << 20 })
    .toString()
    .split('\n')
    .map((l) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), args: m[3] }));
  const parent = new Map(rows.map((r) => [r.pid, r.ppid]));
  const under = (pid: number) => {
    for (let p = pid, n = 0; p > 1 && n < 64; p = parent.get(p) ?? 0, n++) if (p === child.pid) return true;
    return false;
  };
  for (const r of rows) {
    if (ARTILLERY_RUN.test(r.args) && under(r.pid) && !seen.has(r.pid)) seen.set(r.pid, r.args);
  }
}

const timer = setInterval(poll, 200);
child.on('exit', (code) => {
  clearInterval(timer);
  const s = ((Date.now() - started) / 1000).toFixed(1);
  if (LIST) for (const args of seen.values()) console.error(`  ${args}`);
  console.error(
    `count-runs: ${command.join(' ')}: exit ${code}, ${s} s, ${seen.size} Artillery runs, load average now ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  process.exit(code ?? 1);
});
