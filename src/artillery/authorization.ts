// Bearer tokens for the authenticated endpoints. The runner chooses the mode (the run's
// configuration, src/channel/channel.ts); secrets come from the environment (on Fargate/Lambda workers: from the runner's secret
// store) and live only in this module's memory (one per Artillery thread), never in VU variables.
import type { RunConfig } from '../channel/channel';
import { decodeJwt, signJwt } from '../common/jwt';
import { signIn, refresh, type Session } from '../checks/signin';

// Renew this long before `exp` (a quarter of a short token's life), so no request carries an expired token.
const renewMarginMs = (s: Session) => Math.min(120_000, s.lifetimeMs / 4);

let session: Session | undefined;
let pending: Promise<Session> | undefined;

/** The Authorization header for an authenticated request, or undefined in probe mode. */
export async function authorizationFor(auth: RunConfig['auth']): Promise<string | undefined> {
  const mode = auth.mode;
  switch (mode) {
    case 'probe':
      return undefined;
    case 'token':
      return `Bearer ${process.env.API_TOKEN}`;
    default:
      if (!session || session.expiresAt - renewMarginMs(session) < Date.now()) {
        // One renewal at a time per worker, shared by all its users.
        pending ??= renew(auth, session).finally(() => (pending = undefined));
        session = await pending;
      }
      return `Bearer ${session.accessToken}`;
  }
}

async function renew(auth: RunConfig['auth'], current: Session | undefined): Promise<Session> {
  if (auth.mode === 'dev-token') return developmentSession(auth.devOrgId, auth.devEmail);
  if (current?.refreshToken) {
    try {
      return await refresh(current.refreshToken);
    } catch {
      // A refresh token can be revoked or used up; a new password sign-in still works.
    }
  }
  return signIn();
}

/**
 * A token with the claims the backend reads (sub, email, app_metadata.org_id). A local backend
 * decodes tokens without checking the signature, so this one is accepted there.
 */
function developmentSession(orgId: string, email: string, now = Date.now()): Session {
  const iat = Math.floor(now / 1000);
  const claims = {
    sub: '00000000-0000-4000-8000-00000000load',
    email,
    role: 'authenticated',
    aud: 'authenticated',
    app_metadata: { org_id: orgId },
    iat,
    exp: iat + 3600,
  };
  const accessToken = signJwt(claims, 'voxanne-load-test-development-only');
  return { accessToken, expiresAt: (decodeJwt(accessToken)?.exp ?? iat) * 1000, lifetimeMs: 3600_000 };
}
