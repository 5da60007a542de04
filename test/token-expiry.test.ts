// A token the backend stops accepting mid-run. It expires 9 s after the test signs it, so the pack
// warns before a 10 s load; the stand-in refuses it after its 20th request, so the refusals start
// mid-load however long a busy machine takes to start the run.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { signJwt } from '../src/common/jwt';
import { againstStandIn } from './helpers';

test('a token that expires mid-run is diagnosed as such, not left as a storm of 401s', async () => {
  // Signed as the run starts (it may wait for a run slot first).
  const token = () =>
    signJwt({ sub: 'u-7', email: 'qa@example.com', app_metadata: { org_id: 'org-7' }, exp: Math.floor(Date.now() / 1000) + 9 }, 'test-secret');
  const r = await againstStandIn({ revokeTokensAfterRequests: 20 }, [], () => ({ API_TOKEN: token() }), 11);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /warning: API_TOKEN expires in \d+ s, before the run ends/);
  assert.match(r.stdout, /The token was rejected \d+ times \(401\) from \d\d:\d\d:\d\d UTC on: it expired or was revoked mid-run/);
  assert.ok(
    r.standIn.stats().log.some((e) => e.load && e.status === 200 && e.auth === 'bearer'),
    'accepted at first',
  );
});
