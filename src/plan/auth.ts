// Chooses how the authenticated endpoints are called, and checks the credentials before any load.
import type { Environment } from '../catalog/config';
import { UsageError } from '../common/errors';
import { decodeJwt } from '../common/jwt';
import { signIn, signInConfigured } from '../checks/signin';
import { z } from 'zod';

/** How the authenticated endpoints are called: a token, a password sign-in, a development token, or 401 probes. */
export const AuthMode = z.enum(['token', 'sign-in', 'dev-token', 'probe']);
export type AuthMode = z.infer<typeof AuthMode>;

export interface AuthChoice {
  mode: AuthMode;
  /** Claims of the development token (not secret). */
  devOrgId: string;
  devEmail: string;
  /** Secret-free, for the summary and the report. */
  description: string;
  /** Said before the load, e.g. a token that will expire before the run ends. */
  warning?: string;
}

export async function chooseAuth(
  environment: Environment,
  env: NodeJS.ProcessEnv = process.env,
  { verify = true, now = Date.now(), runSeconds = 0 } = {},
): Promise<AuthChoice> {
  const dev = { devOrgId: env.DEV_ORG_ID ?? 'load-test-org', devEmail: env.DEV_EMAIL ?? 'load-test@voxanne.local' };
  if (env.API_TOKEN) {
    const claims = decodeJwt(env.API_TOKEN);
    if (!claims) throw new UsageError('API_TOKEN is not a JWT (three base64url parts); copy the access token itself, without "Bearer "');
    if (typeof claims.exp === 'number' && claims.exp * 1000 <= now) {
      const ago = Math.round((now - claims.exp * 1000) / 60000);
      throw new UsageError(`API_TOKEN expired ${ago} min ago; get a fresh token or use the sign-in variables (docs/production.md, Auth)`);
    }
    const left = typeof claims.exp === 'number' ? claims.exp - now / 1000 : Infinity;
    return {
      ...dev,
      mode: 'token',
      description: `API_TOKEN (${who(claims.email, claims.app_metadata?.org_id)})`,
      ...(left < runSeconds && {
        warning: `API_TOKEN expires in ${left < 120 ? `${Math.round(left)} s` : `${Math.round(left / 60)} min`}, before the run ends; use the sign-in variables for runs this long.`,
      }),
    };
  }
  if (signInConfigured(env)) {
    if (verify) await signIn(env); // fails here, with a clear message, rather than as a storm of 401s
    return { ...dev, mode: 'sign-in', description: `password sign-in as ${env.LOAD_TEST_EMAIL}, renewed before expiry` };
  }
  if (environment.authFallback === 'dev-token') {
    return { ...dev, mode: 'dev-token', description: `development token (org ${dev.devOrgId}; accepted only by a backend that skips signature checks)` };
  }
  return { ...dev, mode: 'probe', description: 'no token: authenticated endpoints probed unauthenticated, expecting 401' };
}

function who(email: unknown, org: unknown): string {
  return [email ? `user ${String(email)}` : 'no email claim', org ? `org ${String(org)}` : 'no org_id claim'].join(', ');
}
