// `npm run record-responses`: records real responses of the stand-in backend (started here, on
// loopback) into test/fixtures/responses.json, before any classification: status, the headers the
// classification reads (content-type, location) and the body, per endpoint of the contract catalog,
// in each situation the classification tells apart. test/responses.test.ts classifies them.
import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { loadContract } from '../src/catalog/config';
import { startStandIn, type StandInOptions } from '../src/standin/server';
import { authorizationFor } from '../src/artillery/authorization';
import { ROOT } from './helpers';

export const RESPONSES_FILE = join(ROOT, 'test', 'fixtures', 'responses.json');

export interface RecordedResponse {
  situation: string;
  endpoint: string;
  withToken: boolean;
  status: number;
  headers: { 'content-type'?: string; location?: string };
  body: string;
}

/** The situations, each a stand-in of its own; `times` requests per endpoint (the rate limiter answers 429 after its limit). */
const SITUATIONS: Array<{ name: string; standIn: StandInOptions; withToken: boolean; times?: number }> = [
  { name: 'healthy', standIn: { developmentMode: true }, withToken: true },
  { name: 'no-token', standIn: {}, withToken: false },
  { name: 'server-errors', standIn: { developmentMode: true, errorRate: 1 }, withToken: true },
  { name: 'not-json', standIn: { developmentMode: true, garbageRate: 1 }, withToken: true },
  { name: 'voice-api-down', standIn: { developmentMode: true, voiceApiDown: true }, withToken: true },
  { name: 'rate-limited', standIn: { developmentMode: true, rateLimit: { limit: 1, windowSeconds: 60 } }, withToken: true, times: 2 },
];

async function fetchOne(situation: string, url: string, endpoint: string, authorization: string | undefined): Promise<RecordedResponse> {
  const res = await fetch(url, { redirect: 'manual', headers: authorization ? { authorization } : {} });
  const headers: RecordedResponse['headers'] = {};
  for (const name of ['content-type', 'location'] as const) {
    const value = res.headers.get(name);
    if (value !== null) headers[name] = value;
  }
  return { situation, endpoint, withToken: authorization !== undefined, status: res.status, headers, body: await res.text() };
}

async function main(): Promise<void> {
  const contract = loadContract();
  const token = await authorizationFor({ mode: 'dev-token', devOrgId: 'load-test-org', devEmail: 'load-test@example.com' });
  const out: RecordedResponse[] = [];
  for (const s of SITUATIONS) {
    const standIn = await startStandIn({ port: 0, host: '127.0.0.1', seed: 1, ...s.standIn });
    try {
      for (const e of contract.endpoints) {
        const authorization = e.auth === 'bearer' && s.withToken ? token : undefined;
        for (let i = 0; i < (s.times ?? 1); i++) out.push(await fetchOne(s.name, standIn.url + e.path, e.name, authorization));
      }
    } finally {
      await standIn.close();
    }
  }
  // A backend behind a proxy that redirects (to a sign-in page, or http to https): the pack does not follow it.
  const redirecting = createServer((_req, res) =>
    res.writeHead(302, { location: 'https://127.0.0.1/login', 'content-type': 'text/html' }).end('<a href="/login">Found</a>'),
  );
  redirecting.listen(0, '127.0.0.1');
  await once(redirecting, 'listening');
  const { port } = redirecting.address() as { port: number };
  for (const e of contract.endpoints) out.push(await fetchOne('redirect', `http://127.0.0.1:${port}${e.path}`, e.name, undefined));
  redirecting.close();
  writeFileSync(RESPONSES_FILE, `${JSON.stringify(out, null, 1)}\n`);
  console.log(`${out.length} responses recorded into ${RESPONSES_FILE}`);
}

if (require.main === module) {
  main().catch((err: Error) => {
    console.error(err);
    process.exit(1);
  });
}
