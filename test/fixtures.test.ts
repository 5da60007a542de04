// The recorded runs (test/fixtures/runs/, made by `npm run record-fixtures`) still match the contract
// between the pack and its Artillery run: every file of every recording is read through its schema
// (the plan, how Artillery ended, the channel's events, the workers' tail, the record), nothing in
// them is unknown to the schema, they were made by the Artillery and the catalog in use, and they
// hold no secret. When one of these fails, re-make the recordings: npm run record-fixtures.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { z } from 'zod';
import { RunEvent, TailSnapshot } from '../src/channel/channel';
import { loadContract } from '../src/catalog/config';
import { readCombinedOutput } from '../src/record/combined-output';
import { RunRecordSchema } from '../src/record/record';
import { EndFile, PlanFile, planFileText, replayRunFolder } from '../src/record/replay';
import { OUTPUT_FILE } from '../src/common/run-files';
import { formatSummary } from '../src/outputs/summary';
import { artilleryVersion, FIXTURES, SITUATIONS_FILE } from './record-fixtures';

const REMAKE = 'the recordings are out of date: npm run record-fixtures';
const index = JSON.parse(readFileSync(SITUATIONS_FILE, 'utf8')) as { artillery: string; situations: Record<string, { exitCode: number }> };
const names = readdirSync(FIXTURES).filter((f) => statSync(join(FIXTURES, f)).isDirectory());
const text = (name: string, file: string) => readFileSync(join(FIXTURES, name, file), 'utf8');

/** Parses `data` with `schema` and checks nothing was dropped or changed: a renamed or retired field fails too. */
function exactly<T>(schema: z.ZodType<T>, data: unknown, where: string): T {
  const parsed = schema.safeParse(data);
  assert.ok(parsed.success, `${where}: ${parsed.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')} (${REMAKE})`);
  assert.deepEqual(JSON.parse(JSON.stringify(parsed.data)), data, `${where}: fields the schema does not know (${REMAKE})`);
  return parsed.data;
}

test('the index lists every recording, made by the Artillery installed', () => {
  assert.deepEqual(Object.keys(index.situations).sort(), [...names].sort());
  assert.equal(index.artillery, artilleryVersion(), `recorded with Artillery ${index.artillery}; ${REMAKE}`);
  assert.ok(names.length >= 10, `${names.length} recordings`);
});

test('the recordings are small and hold no secret', () => {
  let total = statSync(SITUATIONS_FILE).size;
  for (const name of names) {
    for (const file of readdirSync(join(FIXTURES, name))) {
      const body = text(name, file);
      total += Buffer.byteLength(body);
      assert.ok(!/eyJ[\w-]{4,}/.test(body), `${name}/${file} holds something shaped like a JWT`);
      assert.ok(!/Bearer\s+\S/.test(body), `${name}/${file} holds a Bearer header`);
    }
  }
  // About 1.5 MB for 23 recordings: each 10 s period carries about 8 histograms (1 KB each) on the
  // channel and 6 in the record. A guard against long runs slipping in, with room for a
  // re-recording's extra period.
  assert.ok(total < 1.75 * 1024 * 1024, `${Math.round(total / 1024)} KB in all`);
});

describe('every recording matches the contract', () => {
  for (const name of names) {
    test(name, () => {
      const raw = JSON.parse(text(name, 'plan.json'));
      const plan = PlanFile.safeParse(raw);
      assert.ok(plan.success, `${name}/plan.json: ${plan.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')} (${REMAKE})`);
      // Read and written again, it is the same file: no field the schema does not know.
      assert.deepEqual(JSON.parse(planFileText(plan.data)), raw, `${name}/plan.json: fields the schema does not know (${REMAKE})`);
      // The catalog the run was planned with is the one in use (its expectations, budgets, period).
      assert.deepEqual(plan.data.contract, loadContract(), `${name}: config/contract.yml changed since the recording; ${REMAKE}`);
      exactly(EndFile, JSON.parse(text(name, 'end.json')), `${name}/end.json`);
      // A local run always has a channel (its preflight at least); a distributed one's plugin ran on the workers.
      const local = plan.data.opts.platform === 'local';
      assert.equal(existsSync(join(FIXTURES, name, 'events.ndjson')), local, `${name}: events.ndjson`);
      const lines = local ? text(name, 'events.ndjson').split('\n').filter(Boolean) : [];
      assert.equal(lines.length > 0, local, `${name}: events`);
      lines.forEach((line, i) => exactly(RunEvent, JSON.parse(line), `${name}/events.ndjson line ${i + 1}`));
      if (existsSync(join(FIXTURES, name, 'tail.json'))) exactly(TailSnapshot, JSON.parse(text(name, 'tail.json')), `${name}/tail.json`);
      exactly(RunRecordSchema, JSON.parse(text(name, 'run.json')), `${name}/run.json`);
      assert.ok(local || existsSync(join(FIXTURES, name, OUTPUT_FILE)), `${name}: a distributed run's record is made from ${OUTPUT_FILE}`);
      if (existsSync(join(FIXTURES, name, OUTPUT_FILE))) {
        const output = readCombinedOutput(join(FIXTURES, name, OUTPUT_FILE));
        assert.ok(output.periods.length > 0, `${name}/${OUTPUT_FILE}: Artillery's periods`);
      }
    });
  }
});

describe('every recording replays into the record it produced and the summary it printed', () => {
  for (const name of names) {
    test(name, () => {
      const record = replayRunFolder(join(FIXTURES, name));
      assert.deepEqual(
        JSON.parse(JSON.stringify(record)),
        JSON.parse(text(name, 'run.json')),
        `${name}: the replay differs from run.json (if the pack's decisions changed on purpose: npm run record-fixtures -- --replay)`,
      );
      assert.equal(formatSummary(record), text(name, 'summary.txt'));
      assert.equal(record.exitCode, index.situations[name].exitCode, 'the exit code the process ended with');
    });
  }
});
