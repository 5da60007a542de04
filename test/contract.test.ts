// The contract catalog (config/contract.yml) is the one place of the backend's endpoints: adding a
// sixth endpoint is one catalog entry plus one request in the scenario, and the stand-in, the run's
// expectations, the summary, the report and the gates pick it up. Real runs against the stand-in.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { signJwt } from '../src/common/jwt';
import { startStandIn } from '../src/standin/server';
import { QUICK, ROOT, runPack } from './helpers';
import { packInProcess } from './in-process';

const SIXTH = {
  name: 'phone_numbers',
  path: '/api/phone-numbers',
  auth: 'bearer',
  status: 200,
  checks: [{ hasProperty: 'numbers' }],
  withoutToken: { status: 401, checks: [{ hasProperty: 'error' }] },
  budgetP95Ms: 321,
  baseline: { p50: 4, p95: 8, p99: 12 },
  example: { numbers: [{ id: 'n-1', number: '+15550100000' }] },
};

/** A temp copy of the catalog with the sixth endpoint, and of the scenario with its request. */
function withSixthEndpoint(): { contract: string; scenario: string } {
  const dir = mkdtempSync(join(tmpdir(), 'voxanne-contract-'));
  const catalog = parse(readFileSync(join(ROOT, 'config', 'contract.yml'), 'utf8'));
  catalog.endpoints.push(SIXTH);
  const contract = join(dir, 'contract.yml');
  writeFileSync(contract, stringify(catalog));
  const journey = readFileSync(join(ROOT, 'scenarios', 'journey.yml'), 'utf8');
  const marker = '          - function: thinkBetweenJourneys';
  assert.ok(journey.includes(marker));
  const scenario = join(dir, 'journey.yml');
  writeFileSync(scenario, journey.replace(marker, `          - get: { url: ${SIXTH.path}, name: ${SIXTH.name} }\n${marker}`));
  return { contract, scenario };
}

describe('a sixth endpoint', () => {
  test('the stand-in serves it from the catalog: its example with a token, 401 without', async () => {
    const { contract } = withSixthEndpoint();
    const s = await startStandIn({ contract, latencyScale: 0, seed: 1 });
    try {
      const token = signJwt({ sub: 'u', email: 'load@voxanne.test', app_metadata: { org_id: 'org-1' }, exp: Math.floor(Date.now() / 1000) + 600 }, 'x');
      const ok = await fetch(`${s.url}${SIXTH.path}`, { headers: { authorization: `Bearer ${token}` } });
      assert.deepEqual([ok.status, await ok.json()], [200, SIXTH.example]);
      assert.equal(ok.headers.get('ratelimit-limit'), '1000', 'under /api: counted by the limiter');
      const probe = await fetch(`${s.url}${SIXTH.path}`);
      assert.equal(probe.status, 401);
    } finally {
      await s.close();
    }
  });

  test('a run requests it with the catalog expectations; the summary, report and gates list it with its budget', async () => {
    const { contract, scenario } = withSixthEndpoint();
    const s = await startStandIn({ contract, latencyScale: 0.2, seed: 7 });
    try {
      const r = await runPack('run', [...QUICK, '--scenario', scenario], { BASE_URL: s.url, VOXANNE_CONTRACT: contract });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const served = s.stats().log.filter((e) => e.path === SIXTH.path);
      assert.ok(served.length > 0 && served.every((e) => e.status === 200 && e.auth === 'bearer'), 'requested with the token, answered 200');

      assert.match(r.stdout, /GET \/api\/phone-numbers\s+\d+ req\s+0 err.*\(p95 < 321 ms\)/);
      const gate = r.record!.gates.find((g) => g.endpoint === SIXTH.name);
      assert.deepEqual(
        [gate?.id, gate?.limit, gate?.expression],
        ['p95-phone_numbers', 321, 'plugins.metrics-by-endpoint.response_time.phone_numbers.p95 < 321'],
      );
      const endpoint = r.record!.endpoints.find((e) => e.name === SIXTH.name);
      assert.deepEqual([endpoint?.path, endpoint?.budgetP95Ms, endpoint?.baseline, endpoint?.expectationFailures], [SIXTH.path, 321, SIXTH.baseline, 0]);
      assert.ok(endpoint!.requests > 0);

      const script = parse(readFileSync(join(r.dir!, 'script.yml'), 'utf8'));
      const request = script.scenarios[0].flow[0].loop
        .map((step: { get?: { name: string } }) => step.get)
        .find((g?: { name: string }) => g?.name === SIXTH.name);
      assert.deepEqual(request.expect, [{ statusCode: 200 }, { hasProperty: 'numbers' }]);
      assert.equal(request.followRedirect, false);

      const html = readFileSync(join(r.dir!, 'report.html'), 'utf8');
      assert.match(html, /\/api\/phone-numbers/);
      assert.match(html, /321 ms/);
    } finally {
      await s.close();
    }
  });

  test('a scenario request the catalog does not know is refused before anything is sent', async () => {
    const { scenario } = withSixthEndpoint();
    const s = await startStandIn({ latencyScale: 0 });
    try {
      const r = await packInProcess('run', [...QUICK, '--scenario', scenario], { BASE_URL: s.url });
      assert.equal(r.code, 2);
      assert.match(r.stderr, /^error: .*request "phone_numbers" is not in the contract catalog; add it to config\/contract\.yml/m);
      assert.equal(s.stats().requests, 0);
    } finally {
      await s.close();
    }
  });
});
