// Metrics to the team's dashboards: an environment's `publishMetrics:` list becomes Artillery's
// publish-metrics plugin (its figures during the run), and the pack's own results, known only once
// Artillery has ended, are pushed to each Prometheus Pushgateway of that list.
import { errorRateOf, type RunRecord } from '../record/record';
import { failure } from '../common/request-failure';
import { ANY_REFERENCE, type PublishTarget } from '../catalog/publish-targets';

/** Reporters that take "name:value" tags, so the run's labels can be added to them. */
const TAGGED_TYPES = ['prometheus', 'datadog', 'statsd', 'influxdb-statsd'];
const PUSH_TIMEOUT_MS = 5000;
/** The Pushgateway job of the pack's own results (Artillery pushes its figures under a job of its own). */
const RESULTS_JOB = 'voxanne_load_test';

/** The labels of a run, as Artillery's tags and the pack's Prometheus labels. */
function runLabels(run: { environment: string; profile: string; id: string }): Record<string, string> {
  return { environment: run.environment, profile: run.profile, run_id: run.id };
}

/** The publish-metrics plugin's configuration: the environment's list with the run's labels added as tags. */
function publishMetricsPlugin(list: PublishTarget[] | undefined, labels: Record<string, string>): { 'publish-metrics'?: PublishTarget[] } {
  if (!list?.length) return {};
  const tags = Object.entries(labels).map(([k, v]) => `${k}:${v}`);
  return {
    'publish-metrics': list.map((entry) =>
      TAGGED_TYPES.includes(entry.type) ? { ...entry, tags: [...((entry.tags as string[] | undefined) ?? []), ...tags] } : entry,
    ),
  };
}

/** The run's Artillery script with the environment's publish-metrics plugin, labelled with the run. */
export function withPublishMetrics<T extends { config: Record<string, any> }>(
  script: T,
  run: { environment: { name: string; publishMetrics?: PublishTarget[] }; profile: { name: string } },
  id: string,
): T {
  const plugin = publishMetricsPlugin(run.environment.publishMetrics, runLabels({ environment: run.environment.name, profile: run.profile.name, id }));
  script.config.plugins = { ...script.config.plugins, ...plugin };
  return script;
}

/** Replaces "{{ $env.NAME }}" with the variable's value, as Artillery does in the child process. */
const resolveEnv = (text: string, env: NodeJS.ProcessEnv): string => text.replace(ANY_REFERENCE, (_m, name: string) => env[name] ?? '');

const labelName = (name: string) => name.replace(/[^a-zA-Z0-9_]/g, '_').replace(/^(\d)/, '_$1');
const labelValue = (value: string) => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

/** The pack's results in Prometheus' text exposition format: the verdict, each gate and the key figures. */
export function resultsExposition(record: RunRecord, extraTags: string[] = []): string {
  const base: Record<string, string> = {};
  for (const tag of extraTags) {
    const at = tag.indexOf(':');
    if (at > 0) base[labelName(tag.slice(0, at))] = tag.slice(at + 1);
  }
  Object.assign(base, runLabels({ environment: record.environment, profile: record.profile.name, id: record.id }));
  const lines: string[] = [];
  const metric = (name: string, help: string, samples: Array<[Record<string, string>, number | null | undefined]>) => {
    const present = samples.filter((s): s is [Record<string, string>, number] => typeof s[1] === 'number' && Number.isFinite(s[1]));
    if (!present.length) return;
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    for (const [labels, value] of present) {
      const all = Object.entries({ ...base, ...labels }).map(([k, v]) => `${k}="${labelValue(v)}"`);
      lines.push(`${name}{${all.join(',')}} ${value}`);
    }
  };
  const t = record.totals;
  metric('voxanne_run_passed', 'Whether the run passed (1) or not (0); outcome label: passed, failed, aborted, interrupted, unhealthy or refused.', [
    [{ outcome: record.outcome }, record.outcome === 'passed' ? 1 : 0],
  ]);
  metric('voxanne_run_exit_code', "The pack's exit code for the run.", [[{}, record.exitCode]]);
  metric(
    'voxanne_gate_passed',
    'Whether each gate passed (1) or failed (0); strict gates fail the run.',
    record.gates.map((g) => [{ gate: g.id, strict: String(g.strict) }, g.passed ? 1 : 0]),
  );
  metric(
    'voxanne_gate_value',
    "Each gate's measured value, in the gate's unit.",
    record.gates.map((g) => [{ gate: g.id, unit: g.unit }, g.value]),
  );
  metric('voxanne_run_requests', 'Requests sent during the run.', [[{}, t.requests]]);
  metric('voxanne_run_errors', 'Requests counted as errors.', [[{}, t.errorCount]]);
  metric('voxanne_run_error_rate_percent', 'Errors per 100 requests (429s only with --count-429); absent when no load was sent.', [[{}, errorRateOf(t)]]);
  metric('voxanne_run_rate_limited', 'Requests answered 429 (rate limited).', [[{}, record.rateLimit.limited]]);
  metric('voxanne_run_requests_per_second', 'Requests per second over the planned load.', [[{}, t.requestsPerSecond]]);
  metric('voxanne_run_response_time_ms', 'Whole-run response time quantiles, ms.', [
    [{ quantile: '0.5' }, t.latency?.p50],
    [{ quantile: '0.95' }, t.latency?.p95],
    [{ quantile: '0.99' }, t.latency?.p99],
  ]);
  // The users the backend saw: a capacity search's largest step, and its steps one by one.
  metric('voxanne_run_users_max', 'The most users that sent at once (a capacity search: its largest step).', [[{}, t.maxUsers]]);
  const c = record.capacity;
  if (c) {
    metric(
      'voxanne_capacity_step_users',
      'Users of each step of the capacity search, in the order it ran them.',
      c.steps.map((s, i) => [{ step: String(i + 1), verdict: s.verdict }, s.users]),
    );
    metric('voxanne_capacity_users', 'The capacity answer in users: the most held, and the fewest that broke a gate.', [
      [{ side: 'held' }, c.held === null ? null : c.steps[c.held].users],
      [{ side: 'broke' }, c.stoppedAt === null || c.result === 'generator-limit' ? null : c.steps[c.stoppedAt].users],
    ]);
    metric('voxanne_capacity_requests_per_second', 'The highest throughput any step of the search reached.', [[{}, c.knee?.requestsPerSecond]]);
  }
  metric('voxanne_run_end_timestamp_seconds', 'When the run ended, Unix seconds.', [[{}, Math.round(Date.parse(record.endedAt) / 1000)]]);
  return `${lines.join('\n')}\n`;
}

/**
 * Pushes the run's results to every Prometheus Pushgateway of the list. The group (job, environment,
 * profile) holds the latest run of each environment and profile; Prometheus keeps the trend.
 * A push that fails is a one-line warning: it never changes the run's verdict or exit code.
 */
export async function publishResults(record: RunRecord, list: PublishTarget[] | undefined, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  for (const entry of (list ?? []).filter((e) => e.type === 'prometheus' && typeof e.pushgateway === 'string')) {
    const gateway = resolveEnv(entry.pushgateway as string, env).replace(/\/+$/, '');
    const group = `job/${RESULTS_JOB}/environment/${encodeURIComponent(record.environment)}/profile/${encodeURIComponent(record.profile.name)}`;
    try {
      const res = await fetch(`${gateway}/metrics/${group}`, {
        method: 'PUT',
        headers: { 'content-type': 'text/plain; version=0.0.4' },
        body: resultsExposition(record, (entry.tags as string[] | undefined) ?? []),
        signal: AbortSignal.timeout(PUSH_TIMEOUT_MS),
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
    } catch (err) {
      // The gateway's address may hold credentials: the warning names only what went wrong.
      console.error(`warning: could not push the results to the Pushgateway (${failure(err)}); the run's verdict is unchanged`);
    }
  }
}
