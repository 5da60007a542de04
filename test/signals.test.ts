// Nothing answered is lost: runs stopped every way a run can be stopped, against a witness server
// that counts what it answered. The record must hold every response answered before the signal,
// never more than the server answered, and say how it ended with the right exit code.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { constants as osConstants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { RunRecord } from '../src/record/record';
import { childrenOf, cleanEnv, ROOT, runPack, withRunSlot } from './helpers';
import { startWitness, type Witness } from './witness';

interface Stop {
  /** When to send it. */
  when: (w: Witness, events: string) => boolean;
  signal: NodeJS.Signals;
  /** pack: the pack's process; group: the whole `npm run` process group; artillery: the Artillery child. */
  to: 'pack' | 'group' | 'artillery';
  /** Send it twice (a second Ctrl-C ends at once). */
  twice?: boolean;
}

interface Outcome {
  /** The exit status a shell or CI runner sees: the code, or 128 + the signal's number. */
  code: number | null;
  stdout: string;
  record: RunRecord;
  witness: Witness;
  signalAt: number;
  /** The run folder. */
  dir: string;
}

/** Starts a run (once a run slot is free) and stops it as `stop` says. */
const runAndStop = (profileArgs: string[], stop: Stop, witnessOpts = {}) => withRunSlot(() => startAndStop(profileArgs, stop, witnessOpts));

async function startAndStop(profileArgs: string[], stop: Stop, witnessOpts: Parameters<typeof startWitness>[0]): Promise<Outcome> {
  const witness = await startWitness({ latencyMs: 20, ...witnessOpts });
  const reports = mkdtempSync(join(tmpdir(), 'voxanne-signal-'));
  const args = [...profileArgs, '--base-url', witness.url, '--reports', reports];
  // Under `npm run` when the whole group is signalled, as CI cancellation and a closed terminal do.
  const [cmd, argv] =
    stop.to === 'group' ? ['npm', ['run', '--silent', 'test:local', '--', ...args]] : [process.execPath, ['bin/pack.js', 'run', '--env', 'local', ...args]];
  const child = spawn(cmd, argv, { cwd: ROOT, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stdout += d));
  const closed = new Promise<number | null>((resolve) =>
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 + osConstants.signals[signal] : null))),
  );
  const eventsText = () => {
    const run = existsSync(reports) ? readdirSync(reports).find((f) => /^\d{8}-/.test(f)) : undefined;
    const file = run && join(reports, run, 'events.ndjson');
    return file && existsSync(file) ? readFileSync(file, 'utf8') : '';
  };
  const started = Date.now();
  while (!stop.when(witness, eventsText()) && Date.now() - started < 120_000) await new Promise((r) => setTimeout(r, 50));
  const signalAt = Date.now();
  const send = () => {
    if (stop.to === 'group') process.kill(-child.pid!, stop.signal);
    else if (stop.to === 'pack') child.kill(stop.signal);
    else for (const pid of childrenOf(child.pid!)) process.kill(pid, stop.signal);
  };
  send();
  if (stop.twice) {
    await new Promise((r) => setTimeout(r, 150));
    send();
  }
  const code = await closed;
  await witness.close();
  const run = readdirSync(reports).find((f) => /^\d{8}-/.test(f));
  assert.ok(run, `a run folder was written:\n${stdout}`);
  const record = JSON.parse(readFileSync(join(reports, run, 'run.json'), 'utf8')) as RunRecord;
  return { code, stdout, record, witness, signalAt, dir: join(reports, run) };
}

/** The record holds every response the witness answered before the signal, and nothing it did not answer. */
function assertNothingLost(o: Outcome, lostAtMostMs = 0): void {
  const before = o.witness.answeredBefore(o.signalAt - lostAtMostMs);
  const total = o.witness.answered.length;
  const recorded = o.record.totals.requests;
  const table = `server answered ${before} before the signal (${total} in all); record has ${recorded}, in flight ${o.record.ending.inFlight}`;
  assert.ok(recorded >= before, table);
  assert.ok(recorded <= total, table);
  console.log(`  ${o.record.ending.signal ?? 'end'}: ${table}`);
}

const SMOKE = ['--profile', 'smoke'];
const loadBegan = (n: number) => (w: Witness) => w.answered.length >= n;

// All at once: the runs take turns through the suite's run slots (helpers.ts), and the longest one
// (the breaker's 30 s window) no longer waits behind the others.
describe('stopped runs keep everything the target answered', { concurrency: true }, () => {
  test('Ctrl-C before the load: interrupted, exit 130, and no percentages of nothing', async () => {
    const o = await runAndStop(SMOKE, { signal: 'SIGINT', to: 'pack', when: (_w, events) => events.includes('"type":"preflight"') });
    assert.equal(o.code, 130, o.stdout);
    assert.equal(o.record.outcome, 'interrupted');
    assert.equal(o.record.exitCode, 130);
    assertNothingLost(o);
    if (o.record.totals.requests === 0) {
      assert.match(o.stdout, /No responses were recorded: the run was stopped before the load/);
      assert.doesNotMatch(o.stdout, /\(0\.0 %\)|undefined ms|null ms/);
    }
  });

  test('Ctrl-C early in the load (before the first period closed): the record so far and an interrupted report', async () => {
    const o = await runAndStop(SMOKE, { signal: 'SIGINT', to: 'pack', when: loadBegan(5) });
    assert.equal(o.code, 130, o.stdout);
    assert.equal(o.record.outcome, 'interrupted');
    assert.match(o.record.reason, /Stopped by SIGINT after \d+ s of load/);
    assert.match(o.stdout, /INTERRUPTED: Stopped by SIGINT/);
    assert.ok(o.record.totals.requests > 0);
    assertNothingLost(o);
    assert.ok(o.record.ending.unreportedPeriods >= 1, 'the open period came from the workers');
    assert.match(readFileSync(join(o.dir, 'report.html'), 'utf8'), /[Ii]nterrupted/);
  });

  test('SIGTERM mid-run: exit 143, and the load time is right', async () => {
    const o = await runAndStop(SMOKE, { signal: 'SIGTERM', to: 'pack', when: loadBegan(120) });
    assert.equal(o.code, 143, o.stdout);
    assert.equal(o.record.exitCode, 143);
    assert.match(o.record.reason, /Stopped by SIGTERM after \d+ s of load/);
    assertNothingLost(o);
    // The load starts with the first phase; the witness saw its last answer at the end of it.
    const loadSeconds = (o.witness.answered[o.witness.answered.length - 1] - Date.parse(o.record.loadStartedAt!)) / 1000;
    assert.ok(Math.abs(o.record.totals.durationSeconds - loadSeconds) <= 1.5, `record ${o.record.totals.durationSeconds} s, witness ${loadSeconds} s`);
  });

  test('Ctrl-C during the check after the load: everything is there', async () => {
    const o = await runAndStop(
      ['--profile', 'smoke', '--time-scale', '0.25'],
      { signal: 'SIGINT', to: 'pack', when: (_w, events) => events.includes('"type":"end"') },
      { slowHealthCheckMs: 4000 },
    );
    assert.equal(o.code, 130, o.stdout);
    assert.match(o.record.reason, /during the check after the load/);
    assert.equal(o.record.totals.requests, o.witness.answered.length);
  });

  test('SIGHUP to the whole npm run process group: exit 129 under npm, as the record says', async () => {
    const o = await runAndStop(SMOKE, { signal: 'SIGHUP', to: 'group', when: loadBegan(40) });
    assert.equal(o.record.exitCode, 129);
    assert.equal(o.code, o.record.exitCode, o.stdout);
    assertNothingLost(o);
  });

  test('SIGTERM to the whole npm run process group (CI cancelling a job): exit 143 under npm, as the record says', async () => {
    const o = await runAndStop(SMOKE, { signal: 'SIGTERM', to: 'group', when: loadBegan(40) });
    assert.equal(o.record.exitCode, 143);
    assert.equal(o.code, o.record.exitCode, o.stdout);
    assertNothingLost(o);
  });

  test('a second Ctrl-C ends at once and still writes what it has', async () => {
    const o = await runAndStop(SMOKE, { signal: 'SIGINT', to: 'pack', twice: true, when: loadBegan(60) });
    assert.equal(o.code, 130, o.stdout);
    assert.equal(o.record.outcome, 'interrupted');
    assertNothingLost(o, 2500);
  });

  test('the breaker aborts on the error rate: it says so as it stops the load, and everything answered before the abort is in the record', async () => {
    const w = await startWitness({
      latencyMs: 5,
      reply: (req) =>
        /artillery/i.test(String(req.headers['user-agent'])) && req.url !== '/health'
          ? { status: 500, body: '{"error":"boom"}', headers: { 'content-type': 'application/json' } }
          : undefined,
    });
    const r = await runPack('run', ['--profile', 'smoke', '--breaker', 'on', '--base-url', w.url]);
    await w.close();
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.equal(r.record?.outcome, 'aborted');
    assert.match(r.record.reason, /^Stopped early by the breaker: \d+ % of requests failed or were rate limited over the last 30 s/);
    // The plugin said so as it stopped the load, in the words the record keeps.
    assert.ok(r.stdout.includes(`Breaker: ${r.record.reason.replace('Stopped early by the breaker: ', '')} Stopping the load.`), r.stdout);
    const abortAt = Date.parse(r.record.abort!.at);
    const table = `server answered ${w.answeredBefore(abortAt)} before the abort (${w.answered.length} in all); record has ${r.record.totals.requests}, in flight ${r.record.ending.inFlight}`;
    console.log(`  breaker: ${table}`);
    assert.ok(r.record.totals.requests >= w.answeredBefore(abortAt) && r.record.totals.requests <= w.answered.length, table);
  });

  test('Artillery killed (SIGKILL) mid-run: crashed, exit 5, at most the last 2 s unknown, and said so', async () => {
    const o = await runAndStop(SMOKE, { signal: 'SIGKILL', to: 'artillery', when: loadBegan(60) });
    assert.equal(o.code, 5, o.stdout);
    assert.equal(o.record.outcome, 'crashed');
    assert.ok(o.record.ending.unknownSeconds > 0 && o.record.ending.unknownSeconds <= 2.5, `unknown ${o.record.ending.unknownSeconds} s`);
    assertNothingLost(o, 2000);
    assert.match(o.stdout, /the last [\d.]+ s of load are unknown/);
  });
});
