// The backend's contract catalog (config/contract.yml): its shape, and what the rest of the pack
// derives from it (a request's expectations, the rate-limited paths, the period length). Kept free of
// file access so the processor (in Artillery's workers) can use it from the run's configuration.
import { z } from 'zod';

/** One body check, as the expect plugin takes it: { jmespath: "..." }, { hasProperty: "..." }, ... */
const Check = z.record(z.string(), z.unknown()).refine((c) => Object.keys(c).length === 1, 'a check has exactly one key, e.g. hasProperty: calls');
const Answer = z.object({ status: z.number().int().min(100).max(599), checks: z.array(Check).default([]) });
const Baseline = z.object({ p50: z.number().nonnegative(), p95: z.number().nonnegative(), p99: z.number().nonnegative() });

export const Endpoint = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9_]*$/, 'use lower-case letters, digits and _ (it names metrics)'),
    path: z.string().regex(/^\/[^?#\s]*$/, 'a path starting with /, without a query'),
    auth: z.enum(['none', 'bearer']),
    devAnonymous: z.boolean().default(false),
    status: Answer.shape.status,
    checks: Answer.shape.checks,
    withoutToken: Answer.optional(),
    budgetP95Ms: z.number().positive(),
    baseline: Baseline,
    example: z.unknown(),
    standIn: z.enum(['health', 'calls-dashboard']).optional(),
    fallback: z.object({ body: z.unknown(), meaning: z.string().min(1), slowness: z.string().optional() }).optional(),
  })
  .refine((e) => e.example !== undefined || e.standIn, { message: 'give an example body (what the stand-in answers)', path: ['example'] })
  .refine((e) => (e.auth === 'bearer') === Boolean(e.withoutToken), {
    message: 'a bearer endpoint needs withoutToken (its answer without a token); others have none',
    path: ['withoutToken'],
  });

export const Contract = z
  .object({
    endpoints: z.array(Endpoint).min(1),
    rateLimit: z.object({
      requests: z.number().int().positive(),
      windowSeconds: z.number().positive(),
      under: z.string().startsWith('/'),
      except: z.array(z.string().startsWith('/')).default([]),
    }),
    periodSeconds: z.number().positive(),
    preflight: z.object({ open: z.string(), authenticated: z.string(), query: z.string().default('') }),
  })
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    for (const [i, e] of c.endpoints.entries()) {
      for (const key of [e.name, `path ${e.path.toLowerCase()}`]) {
        if (seen.has(key)) ctx.addIssue({ code: 'custom', message: `${key} is listed twice`, path: ['endpoints', i] });
        seen.add(key);
      }
    }
    for (const key of ['open', 'authenticated'] as const) {
      if (!c.endpoints.some((e) => e.name === c.preflight[key]))
        ctx.addIssue({ code: 'custom', message: `preflight.${key}: no endpoint named ${c.preflight[key]}`, path: ['preflight', key] });
    }
  });

export type Endpoint = z.infer<typeof Endpoint>;
export type Contract = z.infer<typeof Contract>;

/** Paths the backend's rate limiter counts (case-insensitive, as Express routes). */
export function isRateLimitedPath(contract: Pick<Contract, 'rateLimit'>, path: string): boolean {
  const lower = path.toLowerCase();
  const { under, except } = contract.rateLimit;
  return (lower === under || lower.startsWith(`${under}/`)) && !except.some((p) => lower.startsWith(p.toLowerCase()));
}

/** The preflight's /api paths (contract.yml's `preflight:`): without a token, and with one. */
export function preflightPaths(contract: Pick<Contract, 'endpoints' | 'preflight'>): { open: string; authenticated: string } {
  const path = (name: string) => contract.endpoints.find((e) => e.name === name)!.path;
  const { open, authenticated, query } = contract.preflight;
  return { open: path(open), authenticated: query ? `${path(authenticated)}?${query}` : path(authenticated) };
}

export const periodMs = (contract: Pick<Contract, 'periodSeconds'>): number => contract.periodSeconds * 1000;

export function endpointNamed(contract: Contract, name: string): Endpoint | undefined {
  return contract.endpoints.find((e) => e.name === name);
}

/** The expect plugin's list for a request: the status first, then the body checks. */
export function expectationsFor(endpoint: Endpoint, withToken: boolean): Array<Record<string, unknown>> {
  const answer = endpoint.auth === 'bearer' && !withToken ? endpoint.withoutToken! : endpoint;
  return [{ statusCode: answer.status }, ...answer.checks];
}

/** The fallback body as JSON without any whitespace, for comparing with a response's text stripped the same way. */
export const fallbackText = (endpoint: Endpoint): string | undefined =>
  endpoint.fallback ? JSON.stringify(endpoint.fallback.body).replace(/\s+/g, '') : undefined;

/** What a request of the scenario needs of its endpoint's catalog entry, worked out once per worker. */
export interface RequestContract {
  bearer: boolean;
  expectWithToken: Array<Record<string, unknown>>;
  expectWithoutToken: Array<Record<string, unknown>>;
  /** The fallback's body as compact JSON, when the endpoint has one. */
  fallback?: string;
}

/** The catalog by request name (the scenario names each request after its endpoint). */
export const requestsByName = (contract: Contract): Map<string, RequestContract> =>
  new Map(
    contract.endpoints.map((e) => [
      e.name,
      { bearer: e.auth === 'bearer', expectWithToken: expectationsFor(e, true), expectWithoutToken: expectationsFor(e, false), fallback: fallbackText(e) },
    ]),
  );
