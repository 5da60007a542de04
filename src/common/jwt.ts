// Minimal HS256 JWTs: enough to build development tokens and to read claims the way the backend does
// (decode without verifying). Never log a token; log its claims at most.
import { createHmac } from 'node:crypto';

export interface Claims {
  sub?: string;
  email?: string;
  exp?: number;
  iat?: number;
  app_metadata?: { org_id?: string; [key: string]: unknown };
  [key: string]: unknown;
}

const b64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');

export function signJwt(claims: Claims, secret: string): string {
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64url(JSON.stringify(claims));
  const signature = createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${signature}`;
}

/** The token's claims, or undefined when it is not a decodable JWT. Does not check the signature. */
export function decodeJwt(token: string): Claims | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    return claims && typeof claims === 'object' && !Array.isArray(claims) ? (claims as Claims) : undefined;
  } catch {
    return undefined;
  }
}
