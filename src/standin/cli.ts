// `npm run target`: run the stand-in Voxanne backend in the foreground, with optional faults.
// Bad input is one line on stderr and exit 2 (never a stack trace); SIGINT/SIGTERM stop it cleanly.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { EXIT } from '../errors';
import { REQUEST_NAMES, startStandIn, type StandIn, type StandInOptions } from './server';

const USAGE = `usage: npm run target -- [flags]
  --port N                   port to listen on (default 3001; 0 = any free port)
  --host H                   loopback address to bind (default 127.0.0.1)
  --latency-scale X          multiply the baseline latencies (0 = answer at once)
  --extra-latency-ms MS      add MS to every response
  --slow NAME=MS             add MS to one endpoint (repeatable; NAME: ${REQUEST_NAMES.join(', ')})
  --error-rate R             share (0..1) of responses answered 500 (not /health)
  --hang-rate R              share of requests never answered (not /health)
  --reset-rate R             share of requests whose connection is reset (not /health)
  --garbage-rate R           share of responses answered 200 text/html (not /health)
  --redis-down               every rate-limited /api request answers 500 "Connection is closed."
  --voice-api-down           /api/assistants answers {"assistants":[]}
  --health-degraded          /health answers 503 "degraded"
  --health-degraded-after S  ... only after S seconds
  --close-after S            stop listening after S seconds (a target that dies mid-run)
  --development              NODE_ENV=development: /api/calls-dashboard needs no token
  --rate-limit N             requests per window per IP under /api (default 1000)
  --rate-window S            rate-limit window in seconds (default 3600)
  --seed N                   seed for latency and fault draws`;

class FlagError extends Error {}

function number(flag: string, raw: string | undefined, rule: { min?: number; max?: number; integer?: boolean; above?: number }, what: string): number | undefined {
  if (raw === undefined) return undefined;
  const value = raw.trim() === '' ? NaN : Number(raw);
  const ok =
    Number.isFinite(value) &&
    (!rule.integer || Number.isInteger(value)) &&
    (rule.min === undefined || value >= rule.min) &&
    (rule.max === undefined || value <= rule.max) &&
    (rule.above === undefined || value > rule.above);
  if (!ok) throw new FlagError(`--${flag} must be ${what} (got "${raw}")`);
  return value;
}

function parse(argv: string[]): { options: StandInOptions; help: boolean } {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        'latency-scale': { type: 'string' },
        'extra-latency-ms': { type: 'string' },
        slow: { type: 'string', multiple: true },
        'error-rate': { type: 'string' },
        'hang-rate': { type: 'string' },
        'reset-rate': { type: 'string' },
        'garbage-rate': { type: 'string' },
        'redis-down': { type: 'boolean' },
        'voice-api-down': { type: 'boolean' },
        'health-degraded': { type: 'boolean' },
        'health-degraded-after': { type: 'string' },
        'close-after': { type: 'string' },
        development: { type: 'boolean' },
        'rate-limit': { type: 'string' },
        'rate-window': { type: 'string' },
        seed: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    // parseArgs' own messages are long; name the flag and the fix instead.
    const { code, message } = err as { code?: string; message: string };
    const flag = /'([^' ]+)/.exec(message)?.[1] ?? '';
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new FlagError(`unknown flag ${flag}; run with --help to see the flags`);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') throw new FlagError(`${flag} ${/argument missing/.test(message) ? 'needs a value' : 'takes no value'}; run with --help to see the flags`);
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') throw new FlagError(`unexpected argument "${flag}"; every setting is a --flag (run with --help)`);
    throw new FlagError(`${message.split('\n')[0]}; run with --help to see the flags`);
  }
  const v = parsed.values;
  const rate = (flag: 'error-rate' | 'hang-rate' | 'reset-rate' | 'garbage-rate') =>
    number(flag, v[flag], { min: 0, max: 1 }, 'a number between 0 and 1');

  const slow: Record<string, number> = {};
  for (const item of v.slow ?? []) {
    const match = /^([a-z_]+)=(\d+(?:\.\d+)?)$/.exec(item.trim());
    if (!match) throw new FlagError(`--slow must look like NAME=MS, e.g. assistants=1500 (got "${item}")`);
    if (!(REQUEST_NAMES as string[]).includes(match[1])) {
      throw new FlagError(`--slow: unknown request name "${match[1]}"; use one of ${REQUEST_NAMES.join(', ')}`);
    }
    slow[match[1]] = Number(match[2]);
  }

  const degradedAfter = number('health-degraded-after', v['health-degraded-after'], { min: 0 }, 'a number of seconds >= 0');
  const rateLimit = number('rate-limit', v['rate-limit'], { min: 1, integer: true }, 'an integer >= 1');
  const rateWindow = number('rate-window', v['rate-window'], { above: 0 }, 'a number of seconds > 0');
  const options: StandInOptions = {
    port: number('port', v.port, { min: 0, max: 65535, integer: true }, 'an integer between 0 and 65535') ?? 3001,
    host: v.host,
    latencyScale: number('latency-scale', v['latency-scale'], { min: 0 }, 'a number >= 0'),
    extraLatencyMs: number('extra-latency-ms', v['extra-latency-ms'], { min: 0 }, 'a number of milliseconds >= 0'),
    slow,
    errorRate: rate('error-rate'),
    hangRate: rate('hang-rate'),
    resetRate: rate('reset-rate'),
    garbageRate: rate('garbage-rate'),
    redisDown: v['redis-down'],
    voiceApiDown: v['voice-api-down'],
    healthDegraded: degradedAfter !== undefined ? { afterSeconds: degradedAfter } : v['health-degraded'],
    closeAfterSeconds: number('close-after', v['close-after'], { above: 0 }, 'a number of seconds > 0'),
    developmentMode: v.development,
    rateLimit: rateLimit !== undefined || rateWindow !== undefined ? { limit: rateLimit ?? 1000, windowSeconds: rateWindow ?? 3600 } : undefined,
    seed: number('seed', v.seed, { min: 0, integer: true }, 'a non-negative integer'),
  };
  const sum = [options.errorRate, options.hangRate, options.resetRate, options.garbageRate].reduce<number>((a, b) => a + (b ?? 0), 0);
  if (sum > 1 + 1e-9) throw new FlagError(`--error-rate, --hang-rate, --reset-rate and --garbage-rate add up to ${sum}; keep the sum at most 1`);
  return { options, help: v.help === true };
}

/** What is switched on, for the start line. */
function describe(o: StandInOptions): string {
  const faults: string[] = [];
  if (o.latencyScale !== undefined && o.latencyScale !== 1) faults.push(`latency x${o.latencyScale}`);
  if (o.extraLatencyMs) faults.push(`+${o.extraLatencyMs}ms on every response`);
  for (const [name, ms] of Object.entries(o.slow ?? {})) faults.push(`${name} +${ms}ms`);
  if (o.errorRate) faults.push(`error-rate ${o.errorRate}`);
  if (o.hangRate) faults.push(`hang-rate ${o.hangRate}`);
  if (o.resetRate) faults.push(`reset-rate ${o.resetRate}`);
  if (o.garbageRate) faults.push(`garbage-rate ${o.garbageRate}`);
  if (o.redisDown) faults.push('redis down');
  if (o.voiceApiDown) faults.push('voice API down');
  if (o.healthDegraded === true) faults.push('health degraded');
  else if (o.healthDegraded) faults.push(`health degraded after ${o.healthDegraded.afterSeconds}s`);
  if (o.closeAfterSeconds !== undefined) faults.push(`closes after ${o.closeAfterSeconds}s`);
  const settings: string[] = [];
  if (o.developmentMode) settings.push('development mode');
  if (o.rateLimit) settings.push(`rate limit ${o.rateLimit.limit} per ${o.rateLimit.windowSeconds}s`);
  if (o.seed !== undefined) settings.push(`seed ${o.seed}`);
  return `faults: ${faults.join(', ') || 'none'}${settings.length ? `; ${settings.join(', ')}` : ''}`;
}

/** The parent of process `pid` (Linux /proc), or undefined where that cannot be read. */
function parentOf(pid: number): number | undefined {
  try {
    // /proc/<pid>/stat: "pid (command) state ppid ..."; the command may hold spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(ppid) && ppid > 1 ? ppid : undefined;
  } catch {
    return undefined;
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * `npm run target` starts `sh -c "node bin/pack.js target"`. When npm is stopped, the shell may go
 * (this process is handed to init) or stay, and either way the stand-in would keep its port. So
 * it stops when its parent changes or, started by npm, when npm (the shell's parent) is gone.
 */
function stopWhenOrphaned(stop: () => void): NodeJS.Timeout {
  const parent = process.ppid;
  const npm = process.env.npm_lifecycle_event ? parentOf(parent) : undefined;
  const timer = setInterval(() => {
    if (process.ppid !== parent || (npm !== undefined && !alive(npm))) {
      clearInterval(timer);
      stop();
    }
  }, 500);
  return timer.unref();
}

/** Serves until stopped (SIGINT/SIGTERM or --close-after); resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  let options: StandInOptions;
  try {
    const parsed = parse(argv);
    if (parsed.help) {
      console.log(USAGE);
      return 0;
    }
    options = parsed.options;
  } catch (err) {
    console.error(`error: ${(err as Error).message}`);
    return EXIT.badInput;
  }

  let standIn: StandIn;
  try {
    standIn = await startStandIn(options);
  } catch (err) {
    const { code, message } = err as { code?: string; message: string };
    const line =
      code === 'EADDRINUSE'
        ? `port ${options.port} is already in use; stop the other process or pick another with --port`
        : code === 'EACCES'
          ? `not allowed to listen on port ${options.port}; pick a port above 1023 with --port`
          : message.split('\n')[0];
    console.error(`error: ${line}`);
    return EXIT.badInput;
  }
  console.log(`stand-in Voxanne backend listening on ${standIn.url} (${describe(options)})`);

  let stopping = false;
  const stop = () => {
    stopping = true;
    void standIn.close();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  process.once('SIGHUP', stop); // the terminal closed
  const orphaned = stopWhenOrphaned(stop);
  await standIn.closed;
  clearInterval(orphaned);
  console.log(
    stopping
      ? `stand-in stopped after ${standIn.stats().requests} requests`
      : `stand-in closed itself after ${options.closeAfterSeconds}s (--close-after)`,
  );
  return 0;
}
