// `npm run standin`: run the stand-in Voxanne backend in the foreground, with optional faults.
// Bad input is one line on stderr and exit 2 (never a stack trace); SIGINT/SIGTERM stop it cleanly.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { EXIT, UsageError } from '../common/errors';
import { loadContract } from '../catalog/config';
import { resolveStandInOptions, type RuleName, type StandInOptions } from './options';
import { startStandIn, type StandIn } from './server';

/** The flags; the endpoint names and the limiter's defaults are the contract catalog's. */
const usage = (contract = loadContract()): string => `usage: npm run standin -- [flags]
  --port N                   port to listen on (default 3001; 0 = any free port)
  --host H                   loopback address to bind (default 127.0.0.1)
  --latency-scale X          multiply the baseline latencies (0 = answer at once)
  --extra-latency-ms MS      add MS to every response
  --slow NAME=MS             add MS to one endpoint (repeatable; NAME: ${contract.endpoints.map((e) => e.name).join(', ')})
  --error-rate R             share (0..1) of responses answered 500 (not /health)
  --hang-rate R              share of requests never answered (not /health)
  --reset-rate R             share of requests whose connection is reset (not /health)
  --garbage-rate R           share of responses answered 200 text/html (not /health)
  --redis-down               every rate-limited /api request answers 500 "Connection is closed."
  --voice-api-down           endpoints with a fallback answer it (/api/assistants: {"assistants":[]})
  --health-degraded          /health answers 503 "degraded"
  --health-degraded-after S  ... only after S seconds
  --close-after S            stop listening after S seconds (a target that dies mid-run)
  --development              NODE_ENV=development: /api/calls-dashboard needs no token
  --rate-limit N             requests per window per IP under /api (default ${contract.rateLimit.requests})
  --rate-window S            rate-limit window in seconds (default ${contract.rateLimit.windowSeconds})
  --capacity N               a backend of known capacity: at most N requests served at once ...
  --service-ms MS            ... each for exactly MS ms (no baseline latency); the rest queue in
                             arrival order. True capacity: N / MS * 1000 requests/s
  --seed N                   seed for latency and fault draws`;

/** A flag's text as a number (NaN when it is not one); the range checks are options.ts's. */
const toNumber = (raw: string | undefined): number | undefined => (raw === undefined ? undefined : raw.trim() === '' ? NaN : Number(raw));

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
        capacity: { type: 'string' },
        'service-ms': { type: 'string' },
        seed: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    // parseArgs' own messages are long; name the flag and the fix instead.
    const { code, message } = err as { code?: string; message: string };
    const flag = /'([^' ]+)/.exec(message)?.[1] ?? '';
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(`unknown flag ${flag}; run with --help to see the flags`);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE')
      throw new UsageError(`${flag} ${/argument missing/.test(message) ? 'needs a value' : 'takes no value'}; run with --help to see the flags`);
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') throw new UsageError(`unexpected argument "${flag}"; every setting is a --flag (run with --help)`);
    throw new UsageError(`${message.split('\n')[0]}; run with --help to see the flags`);
  }
  const v = parsed.values;

  const slow: Record<string, number> = {};
  for (const item of v.slow ?? []) {
    const match = /^([a-z_]+)=(\d+(?:\.\d+)?)$/.exec(item.trim());
    if (!match) throw new UsageError(`--slow must look like NAME=MS, e.g. assistants=1500 (got "${item}")`);
    slow[match[1]] = Number(match[2]);
  }
  if ((v.capacity === undefined) !== (v['service-ms'] === undefined)) {
    throw new UsageError('--capacity and --service-ms go together; give both, e.g. --capacity 4 --service-ms 50');
  }

  // The text typed for each flag, so a bad value is quoted as typed.
  const flags: Partial<Record<RuleName, string>> = {
    port: v.port,
    latencyScale: v['latency-scale'],
    extraLatencyMs: v['extra-latency-ms'],
    errorRate: v['error-rate'],
    hangRate: v['hang-rate'],
    resetRate: v['reset-rate'],
    garbageRate: v['garbage-rate'],
    'healthDegraded.afterSeconds': v['health-degraded-after'],
    closeAfterSeconds: v['close-after'],
    'rateLimit.limit': v['rate-limit'],
    'rateLimit.windowSeconds': v['rate-window'],
    'capacity.concurrency': v.capacity,
    'capacity.serviceMs': v['service-ms'],
    seed: v.seed,
  };
  const degradedAfter = toNumber(v['health-degraded-after']);
  const rateLimit = toNumber(v['rate-limit']);
  const rateWindow = toNumber(v['rate-window']);
  const options: StandInOptions = {
    port: toNumber(v.port) ?? 3001,
    host: v.host,
    latencyScale: toNumber(v['latency-scale']),
    extraLatencyMs: toNumber(v['extra-latency-ms']),
    slow,
    errorRate: toNumber(v['error-rate']),
    hangRate: toNumber(v['hang-rate']),
    resetRate: toNumber(v['reset-rate']),
    garbageRate: toNumber(v['garbage-rate']),
    redisDown: v['redis-down'],
    voiceApiDown: v['voice-api-down'],
    healthDegraded: degradedAfter !== undefined ? { afterSeconds: degradedAfter } : v['health-degraded'],
    closeAfterSeconds: toNumber(v['close-after']),
    developmentMode: v.development,
    rateLimit: rateLimit !== undefined || rateWindow !== undefined ? { limit: rateLimit, windowSeconds: rateWindow } : undefined,
    capacity: v.capacity !== undefined ? { concurrency: toNumber(v.capacity) as number, serviceMs: toNumber(v['service-ms']) as number } : undefined,
    seed: toNumber(v.seed),
  };
  resolveStandInOptions(options, { flags }); // the same checks startStandIn makes, named as flags
  return { options, help: v.help === true };
}

const fmt = (n: number) => String(Math.round(n * 100) / 100);

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
  if (o.capacity) {
    const { concurrency, serviceMs } = o.capacity;
    faults.push(`capacity ${concurrency} at a time x ${serviceMs}ms (${fmt((concurrency / serviceMs) * 1000)} req/s)`);
  }
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
 * `npm run standin` starts `sh -c "node bin/pack.js standin"`. When npm is stopped, the shell may go
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
      console.log(usage());
      return 0;
    }
    options = parsed.options;
  } catch (err) {
    console.error(`error: ${(err as Error).message}`);
    return EXIT.badInput;
  }

  // Stops are watched for before the port is taken: a stop that comes as soon as "listening" is
  // printed must not find the watch still unset, with this process already handed to init.
  let standIn: StandIn | undefined;
  let stopping = false;
  // Kept for every signal, not once: a stop can come twice (to the process group, and passed on by bin/pack.js).
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void standIn?.close();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.on('SIGHUP', stop); // the terminal closed
  const orphaned = stopWhenOrphaned(stop);
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
    clearInterval(orphaned);
    return EXIT.badInput;
  }
  console.log(`stand-in Voxanne backend listening on ${standIn.url} (${describe(options)})`);
  if (stopping) void standIn.close(); // stopped while it was starting
  await standIn.closed;
  clearInterval(orphaned);
  console.log(
    stopping ? `stand-in stopped after ${standIn.stats().requests} requests` : `stand-in closed itself after ${options.closeAfterSeconds}s (--close-after)`,
  );
  return 0;
}
