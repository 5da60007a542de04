// The users' curve: the stand-in's own view of a standard run follows the profile's stages, within
// 1.5 s and one user (on a busy machine users arrive and leave a little late: the worker's timers
// and the stand-in's own clock both wait for a core). It runs in the solo phase of `npm test`.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { planVisits, plannedUsersAt } from '../../src/plan/users';
import { startStandIn } from '../../src/standin/server';
import { runPack } from '../helpers';

const RUN = 'run';

describe('concurrent users follow the stages', () => {
  test('standard x0.1: the stand-in sees about 5, then 10 users, holding, then 0', async () => {
    const standIn = await startStandIn({ latencyScale: 0.2, seed: 3 });
    const r = await runPack(RUN, ['--profile', 'standard', '--time-scale', '0.1'], { BASE_URL: standIn.url });
    await standIn.close();
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const t0 = Date.parse(r.record!.loadStartedAt!);
    // Each user has its own keep-alive connection; a user is active from its connection's first
    // request until its last one plus about half of the 1 s pause that ends its stay.
    const spans = new Map<number, { first: number; last: number }>();
    for (const e of standIn.stats().log) {
      if (e.connection === undefined || e.path !== '/api/assistants') continue;
      const span = spans.get(e.connection) ?? { first: e.t, last: e.t };
      spans.set(e.connection, { first: Math.min(span.first, e.t), last: Math.max(span.last, e.t) });
    }
    const usersAt = (s: number) => {
      const t = t0 + s * 1000;
      return [...spans.values()].filter((sp) => sp.first - 200 <= t && t <= sp.last + 500).length;
    };
    // Stages x0.1: 0->5 over 6 s, ->10 over 12 s, hold 10 until 36 s, ->0 by 42 s.
    const visits = planVisits(r.record!.profile.stages);
    const SLACK_S = 1.5;
    for (const s of [3.2, 6.5, 12.5, 18.5, 27, 35.5, 39.5, 44]) {
      const planned = [-SLACK_S, 0, SLACK_S].map((d) => plannedUsersAt(visits, s + d));
      const [low, high] = [Math.min(...planned) - 1, Math.max(...planned) + 1];
      const seen = usersAt(s);
      assert.ok(low <= seen && seen <= high, `at ${s} s: planned ${plannedUsersAt(visits, s)} users (${low}..${high} within ${SLACK_S} s), saw ${seen}`);
    }
    assert.ok(Math.max(...[27, 30, 33].map(usersAt)) === 10, 'all 10 users during the hold');
    assert.equal(r.record!.totals.maxUsers, 10);
  });
});
