// No false PASS: targets that redirect, answer the wrong body, answer too little, or refuse the
// pack's headers must never pass. Real Artillery against a witness server on loopback. (A run far
// shorter than planned, "too short to judge", is the too-short recording in decisions.test.ts. A
// token refused for its claims stops the run: run.test.ts; the claim named: preflight.test.ts.)
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { signJwt } from '../src/common/jwt';
import { QUICK, runPack } from './helpers';
import { packInProcess } from './in-process';
import { startWitness, type WitnessOptions } from './witness';

const fromUsers = (ua: unknown) => /artillery/i.test(String(ua));

async function against(opts: WitnessOptions, args: string[] = QUICK, env: Record<string, string> = {}) {
  const witness = await startWitness(opts);
  try {
    const r = await runPack('run', [...args, '--base-url', witness.url], env);
    return { ...r, witness };
  } finally {
    await witness.close();
  }
}

describe('no false PASS', { concurrency: 2 }, () => {
  test('every path redirects to another server: not followed, an error, and the diagnosis says where it pointed', async () => {
    const elsewhere = await startWitness();
    const r = await against({
      reply: (req) => (fromUsers(req.headers['user-agent']) ? { status: 302, headers: { location: `${elsewhere.url}${req.url}` }, body: '' } : undefined),
    });
    await elsewhere.close();
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.equal(r.record?.outcome, 'failed');
    assert.equal(elsewhere.answered.length, 0, 'the other server was never measured');
    assert.ok(r.record.totals.errors.otherStatus > 0);
    assert.match(r.stdout, new RegExp(`answered 302 redirecting to ${elsewhere.url.replace(/[.]/g, '\\.')}/`));
    assert.match(r.stdout, /FAIL\s+HTTP error rate/);
  });

  test('/ answers 200 application/json with a body that is not JSON: an error of kind "bad body", counted once per response', async () => {
    const r = await against({
      reply: (req) =>
        req.url === '/' && fromUsers(req.headers['user-agent'])
          ? { status: 200, headers: { 'content-type': 'application/json' }, body: 'oops, not json' }
          : undefined,
    });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const root = r.record!.endpoints.find((e) => e.name === 'root')!;
    assert.ok(root.requests > 0);
    assert.equal(root.errors.badBody, root.requests);
    assert.equal(root.errorCount, root.requests);
    assert.equal(root.expectationFailures, root.requests, 'failed checks are counted once per response');
    assert.match(r.stdout, /GET \/\s+\d+ req\s+[1-9]\d* err/);
    assert.match(r.stdout, /Bodies that failed their checks .*: \/ \(\d+\)/);
  });

  test('a load far shorter than planned is refused before anything is sent', async () => {
    // Refused while planning, before Artillery: the command line in-process is enough.
    const witness = await startWitness();
    try {
      const r = await packInProcess('run', ['--profile', 'smoke', '--time-scale', '1e-9', '--base-url', witness.url]);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stderr.trim(), /^error: the load would last 0 s, too short to judge \(at least 10 s\); use --time-scale 0\.25 or more$/);
      assert.equal(witness.answered.length, 0);
    } finally {
      await witness.close();
    }
  });

  test("a target that answers 431 to the pack's headers: reported before the load, no worker crash, exit 2", async () => {
    const token = signJwt(
      { sub: 'u', email: 'ops@example.com', app_metadata: { org_id: 'org-1' }, pad: 'x'.repeat(75 * 1024), exp: Math.floor(Date.now() / 1000) + 3600 },
      'k',
    );
    const r = await against({}, QUICK, { API_TOKEN: token });
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stdout, /answered 431 to the pack's request headers \(Authorization header 1\d\d KB\)/);
    assert.equal(r.witness.answered.length, 0, 'no load was sent');
    assert.doesNotMatch(r.stdout + r.stderr, /Callback was already called|worker.*(crash|error)/i);
    assert.ok(!(r.stdout + r.stderr).includes(token));
  });
});
