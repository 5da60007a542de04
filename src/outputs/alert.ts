// One message to a Slack incoming webhook (ALERT_WEBHOOK_URL) when a run needs someone's attention.
// The URL is a secret: it is never printed, and a message that cannot be delivered never changes the
// run's exit code.
import { failure } from '../common/request-failure';
import type { Outcome, RunRecord } from '../record/record';
import { gateLimitText, gateValueText } from './report/format';

/**
 * Outcomes that alert. Not `interrupted` (someone stopped the run on purpose, or CI cancelled the job,
 * which CI shows) nor `refused` (a guard working as meant: nothing was sent, like any bad input).
 */
export const ALERT_OUTCOMES: Outcome[] = ['failed', 'aborted', 'unhealthy'];
const ALERT_TIMEOUT_MS = 5000;

/** The message: a one-line `text` (notifications) and a mrkdwn section with the details. */
export function alertMessage(record: RunRecord, reportPath: string, env: NodeJS.ProcessEnv = process.env): { text: string; blocks: unknown[] } {
  const t = record.totals;
  const title = `Voxanne load test ${record.outcome.toUpperCase()}: ${record.environment}, profile ${record.profile.name}`;
  const failed = record.gates.filter((g) => g.strict && !g.passed);
  const ciRun =
    env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID
      ? `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`
      : undefined;
  const lines = [
    `*${title}*`,
    `${record.reason} (exit ${record.exitCode})`,
    `Target: ${record.target} · run ${record.id}`,
    failed.length ? `Failed gates:\n${failed.map((g) => `• ${g.title}: ${gateValueText(g)} (limit ${gateLimitText(g)})`).join('\n')}` : 'Failed gates: none',
    `Requests: ${t.requests} · error rate: ${t.requests ? `${t.errorRatePct.toFixed(2)} %` : '—'} · p99: ${t.latency ? `${t.latency.p99} ms` : '-'} · 429s: ${record.rateLimit.limited}`,
    `Report: \`${reportPath}\`${ciRun ? ` (artifacts of ${ciRun})` : ''}`,
  ];
  return {
    text: `${title}: ${record.reason}`,
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: lines.join('\n') } }],
  };
}

/** Sends the alert when ALERT_WEBHOOK_URL is set and the outcome is one that alerts. */
export async function sendAlert(record: RunRecord, reportPath: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const url = env.ALERT_WEBHOOK_URL;
  if (!url || !ALERT_OUTCOMES.includes(record.outcome)) return;
  if (!/^https?:\/\/[^\s]+$/.test(url)) {
    console.error('warning: ALERT_WEBHOOK_URL is not an http(s) URL; no alert was sent');
    return;
  }
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(alertMessage(record, reportPath, env)),
      signal: AbortSignal.timeout(ALERT_TIMEOUT_MS),
    });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    console.log('alert sent to ALERT_WEBHOOK_URL');
  } catch (err) {
    console.error(`warning: could not send the alert to ALERT_WEBHOOK_URL (${failure(err)}); the run's verdict is unchanged`);
  }
}
