// Names of the pack's own Artillery counters, shared by the processor, the ensure gates and the record.
export const counter = {
  requests: 'voxanne.requests',
  errors: 'voxanne.errors',
  timeouts: 'voxanne.timeouts',
  rateLimited: 'voxanne.rate_limited',
  /** Per endpoint: a 200 that is the endpoint's declared fallback (config/contract.yml). */
  fallback: (endpoint: string) => `voxanne.fallback.${endpoint}`,
  /** Per endpoint: a status outside the expected set, by code. */
  unexpected: (endpoint: string, status: number) => `voxanne.unexpected.${endpoint}.${status}`,
  timeoutOf: (endpoint: string) => `voxanne.timeout.${endpoint}`,
  transportOf: (endpoint: string, code: string) => `voxanne.transport.${endpoint}.${code}`,
  notJson: (endpoint: string) => `voxanne.not_json.${endpoint}`,
  /** The expected status, but the body failed its checks (wrong shape, or JSON that does not parse). */
  badBody: (endpoint: string) => `voxanne.bad_body.${endpoint}`,
  /** Responses whose checks failed (once per response, however many of its checks failed). */
  expectationFailed: (endpoint: string) => `voxanne.expectation_failed.${endpoint}`,
} as const;

/** Artillery's own metric names that the pack reads. */
export const artilleryMetric = {
  responseTime: 'http.response_time',
  endpointResponseTime: (endpoint: string) => `plugins.metrics-by-endpoint.response_time.${endpoint}`,
  endpointCodePrefix: (endpoint: string) => `plugins.metrics-by-endpoint.${endpoint}.codes.`,
  endpointErrorPrefix: (endpoint: string) => `plugins.metrics-by-endpoint.${endpoint}.errors.`,
  endpointHistogramPrefix: 'plugins.metrics-by-endpoint.response_time.',
} as const;

/** Change in active users over one period, from Artillery's user counters. */
export const userChange = (c: Record<string, number>): number => (c['vusers.created'] ?? 0) - (c['vusers.completed'] ?? 0) - (c['vusers.failed'] ?? 0);

/** The load generator's own measurements, per worker and per second (processors/recorder.ts). */
export const generatorMetric = {
  prefix: 'voxanne.generator.',
  cpuPct: 'voxanne.generator.cpu_pct',
  loopDelayMs: 'voxanne.generator.loop_delay_ms',
} as const;
