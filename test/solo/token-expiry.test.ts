// A token that expires mid-run: its expiry is wall-clock time (9 s after the test starts), so this
// runs in the solo phase of `npm test`, where the run starts without waiting for a busy machine.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { signJwt } from '../../src/jwt';
import { againstStandIn } from '../helpers';

test('a token that expires mid-run is diagnosed as such, not left as a storm of 401s', async () => {
  const token = signJwt({ sub: 'u-7', email: 'qa@example.com', app_metadata: { org_id: 'org-7' }, exp: Math.floor(Date.now() / 1000) + 9 }, 'test-secret');
  const r = await againstStandIn({ checkTokenExpiry: true }, [], { API_TOKEN: token }, 11);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /warning: API_TOKEN expires in \d+ s, before the run ends/);
  assert.match(r.stdout, /The token was rejected \d+ times \(401\) from \d\d:\d\d:\d\d UTC on: it expired or was revoked mid-run/);
});
