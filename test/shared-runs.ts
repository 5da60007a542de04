// Runs that several test files read, each made once per `npm test` (helpers.shared): what the run
// printed and wrote, and what its stand-in and webhook receiver saw, as plain data.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startStandIn, type StandInOptions, type StandInStats } from '../src/standin/server';
import { QUICK, runPack, shared, suiteDir, type PackResult } from './helpers';

export interface SharedRun extends PackResult {
  /** What the stand-in answered (the run's own checks and the load). */
  stats: StandInStats;
  /** The messages the alert webhook received during this run. */
  alerts: Array<{ path: string; body: any }>;
  /** The stand-in's port (the run's target), for a later run against the same target. */
  port?: number;
}

const UNREACHABLE_PORT = 2;
/** A Slack-style webhook receiver on loopback that keeps every message it is sent. */
async function receiver() {
  const messages: Array<{ path: string; body: any }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      messages.push({ path: req.url ?? '', body: JSON.parse(body) });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  const url = `http://127.0.0.1:${port}${WEBHOOK_PATH}`;
  return { url, messages, close: () => new Promise((r) => server.close(r)) };
}

/** The path of the receiver's URL: Slack's webhook URLs hold their secret in the path. */
export const WEBHOOK_PATH = '/services/T0000/B0000/s3cr3tW3bh00kPath';

/** An environment file in a temporary folder; its name (ci) is the run's environment label. */
export function environmentFile(publishMetrics: unknown[]): string {
  const file = join(mkdtempSync(join(tmpdir(), 'voxanne-env-')), 'ci.yml');
  writeFileSync(file, stringify({ description: 'CI', baseUrl: 'http://127.0.0.1:9', authFallback: 'dev-token', publishMetrics }));
  return file;
}

/** The development token's org in the healthy run. */
export const DEV_ORG = 'org-dev-7';

async function runAgainst(options: StandInOptions, env: Record<string, string>, reportsDir: string): Promise<SharedRun> {
  const hook = await receiver();
  const standIn = await startStandIn({ latencyScale: 0.2, seed: 7, ...options });
  try {
    const r = await runPack('run', QUICK, { BASE_URL: standIn.url, ALERT_WEBHOOK_URL: hook.url, ...env }, { reportsDir });
    return { ...r, stats: standIn.stats(), alerts: hook.messages, port: standIn.port };
  } finally {
    await Promise.all([standIn.close(), hook.close()]);
  }
}

/**
 * A healthy run (the development token with org DEV_ORG), then a run against the same target
 * (the same port) now answering 15 % server errors, into one reports folder: the second compares
 * with the first (same environment, target, profile and time scale), and the index lists both.
 * Both with the alert webhook set.
 */
export function healthyThenFailing(): Promise<{ reports: string; healthy: SharedRun; failing: SharedRun }> {
  return shared('healthy-then-failing', async () => {
    const reports = mkdtempSync(join(suiteDir(), 'reports-'));
    const healthy = await runAgainst({}, { DEV_ORG_ID: DEV_ORG }, reports);
    const failing = await runAgainst({ errorRate: 0.15, faultsAfterRequests: 2, port: healthy.port }, {}, reports);
    return { reports, healthy, failing };
  });
}

/** A failing run whose alert webhook and Pushgateway both refuse connections. */
export function unreachableSinks(): Promise<SharedRun> {
  return shared('unreachable-sinks', async () => {
    // Port 2: privileged (and not one fetch refuses), so no test server takes it, the way a freed
    // ephemeral port can be taken by another file's server while this run is still going.
    const env = environmentFile([{ type: 'prometheus', pushgateway: `http://127.0.0.1:${UNREACHABLE_PORT}` }]);
    const webhook = `http://127.0.0.1:${UNREACHABLE_PORT}/services/T1/B1/h1dd3nP4th`;
    const standIn = await startStandIn({ latencyScale: 0.2, seed: 7, errorRate: 0.15, faultsAfterRequests: 2 });
    try {
      const r = await runPack('run', [...QUICK, '--env', env], { BASE_URL: standIn.url, ALERT_WEBHOOK_URL: webhook });
      return { ...r, stats: standIn.stats(), alerts: [] };
    } finally {
      await standIn.close();
    }
  });
}
