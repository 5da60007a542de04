// Password sign-in against the backend's Supabase project (GoTrue's token endpoint), and refresh.
// Credentials come from the environment; nothing here logs them or the tokens.
import { UsageError } from '../common/errors';
import { redirectDetail } from './health';
import { redactor } from '../common/secrets';

export interface Session {
  accessToken: string;
  refreshToken?: string;
  /** Epoch ms at which the access token expires. */
  expiresAt: number;
  /** How long the token was valid when issued, ms. */
  lifetimeMs: number;
}

const WHOLE_SECOND_MS = 1000;

const SIGN_IN_ENV = ['SUPABASE_URL', 'SUPABASE_ANON_KEY', 'LOAD_TEST_EMAIL', 'LOAD_TEST_PASSWORD'] as const;

export function signInConfigured(env = process.env): boolean {
  return SIGN_IN_ENV.some((name) => env[name]);
}

export function signIn(env = process.env): Promise<Session> {
  const missing = SIGN_IN_ENV.filter((name) => !env[name]);
  if (missing.length) {
    return Promise.reject(new UsageError(`sign-in needs ${missing.join(', ')}; set them or use API_TOKEN instead`));
  }
  return tokenRequest('password', { email: env.LOAD_TEST_EMAIL, password: env.LOAD_TEST_PASSWORD }, env);
}

export function refresh(refreshToken: string, env = process.env): Promise<Session> {
  return tokenRequest('refresh_token', { refresh_token: refreshToken }, env);
}

async function tokenRequest(grant: string, body: object, env: NodeJS.ProcessEnv): Promise<Session> {
  const url = `${String(env.SUPABASE_URL).replace(/\/+$/, '')}/auth/v1/token?grant_type=${grant}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { apikey: String(env.SUPABASE_ANON_KEY), 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
      redirect: 'manual', // a redirect would send the password on to wherever it points
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
    throw new UsageError(`sign-in failed: cannot reach SUPABASE_URL (${cause}); check the URL and the network`);
  }
  const redirect = redirectDetail(res);
  if (redirect)
    throw new UsageError(`sign-in failed: SUPABASE_URL answered ${res.status}, a ${redirect}; not followed: set SUPABASE_URL to the project's own URL`);
  const answer = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok || typeof answer.access_token !== 'string') {
    // The auth server's own words, through the redaction: a server may echo the password or the key back.
    const reason = redactor(env)(String(answer.msg ?? answer.error_description ?? answer.message ?? answer.error ?? `HTTP ${res.status}`)).slice(0, 300);
    throw new UsageError(`sign-in failed: ${reason} (HTTP ${res.status}); check LOAD_TEST_EMAIL, LOAD_TEST_PASSWORD and SUPABASE_ANON_KEY`);
  }
  const expiresIn = Number(answer.expires_in ?? 3600);
  return {
    accessToken: answer.access_token,
    refreshToken: typeof answer.refresh_token === 'string' ? answer.refresh_token : undefined,
    // The token's exp is whole seconds from when it was issued, so it can fall up to 1 s before now + expires_in.
    expiresAt: Date.now() + expiresIn * 1000 - WHOLE_SECOND_MS,
    lifetimeMs: expiresIn * 1000,
  };
}
