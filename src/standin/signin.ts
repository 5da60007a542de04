// A stand-in for the Supabase (GoTrue) password sign-in the pack uses to get real-looking access
// tokens: POST /auth/v1/token?grant_type=password|refresh_token. Loopback only; tokens are signed
// with a secret of its own (the backend does not check signatures anyway).
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { UsageError } from '../common/errors';
import { signJwt } from '../common/jwt';

interface SignInOptions {
  email: string;
  password: string;
  anonKey: string;
  ttlSeconds?: number;
  orgId?: string;
  port?: number;
}

interface SignInStandIn {
  url: string;
  close(): Promise<void>;
  stats(): { passwordGrants: number; refreshGrants: number; failures: number };
  /** Every access and refresh token handed out, so leak tests can look for them. */
  issuedTokens(): string[];
}

const MAX_BODY = 64 * 1024;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) reject(new Error('body too large'));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startSignInStandIn(o: SignInOptions): Promise<SignInStandIn> {
  for (const key of ['email', 'password', 'anonKey'] as const) {
    if (typeof o[key] !== 'string' || !o[key]) throw new UsageError(`sign-in stand-in needs a non-empty ${key}`);
  }
  const ttl = o.ttlSeconds ?? 3600;
  if (!(Number.isFinite(ttl) && ttl > 0)) throw new UsageError(`ttlSeconds must be a number > 0 (got ${ttl})`);
  const port = o.port ?? 0;
  if (!(Number.isInteger(port) && port >= 0 && port <= 65535)) throw new UsageError(`port must be an integer 0-65535 (got ${port})`);

  const secret = randomBytes(32).toString('hex');
  const userId = randomUUID();
  const orgId = o.orgId ?? randomUUID();
  const createdAt = new Date().toISOString();
  const refreshTokens = new Set<string>(); // live refresh tokens; each is good for one refresh
  const issued: string[] = [];
  const counts = { passwordGrants: 0, refreshGrants: 0, failures: 0 };
  let url = '';

  function session() {
    const iat = Math.floor(Date.now() / 1000);
    const exp = iat + ttl;
    const appMetadata = { provider: 'email', providers: ['email'], org_id: orgId };
    const accessToken = signJwt(
      {
        iss: `${url}/auth/v1`,
        sub: userId,
        aud: 'authenticated',
        exp,
        iat,
        email: o.email,
        phone: '',
        app_metadata: appMetadata,
        user_metadata: {},
        role: 'authenticated',
        aal: 'aal1',
        amr: [{ method: 'password', timestamp: iat }],
        session_id: randomUUID(),
        is_anonymous: false,
      },
      secret,
    );
    const refreshToken = randomBytes(9).toString('base64url'); // GoTrue's are short random strings
    refreshTokens.add(refreshToken);
    issued.push(accessToken, refreshToken);
    return {
      access_token: accessToken,
      token_type: 'bearer',
      expires_in: ttl,
      expires_at: exp,
      refresh_token: refreshToken,
      user: {
        id: userId,
        aud: 'authenticated',
        role: 'authenticated',
        email: o.email,
        email_confirmed_at: createdAt,
        app_metadata: appMetadata,
        user_metadata: {},
        created_at: createdAt,
        updated_at: createdAt,
      },
    };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const send = (status: number, body: unknown) => {
      if (status !== 200) counts.failures++;
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    const reqUrl = new URL(req.url ?? '/', 'http://stand-in');
    if (req.method !== 'POST' || reqUrl.pathname !== '/auth/v1/token') {
      return send(404, { code: 404, error_code: 'not_found', msg: 'Not Found' });
    }
    if (req.headers.apikey !== o.anonKey) return send(401, { message: 'Invalid API key' });

    let body: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse((await readBody(req)) || '{}');
      body = parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
    } catch (err) {
      return send(400, { code: 400, error_code: 'bad_json', msg: `Could not parse request body as JSON: ${(err as Error).message}` });
    }

    const grant = reqUrl.searchParams.get('grant_type');
    if (grant === 'password') {
      const emailOk = typeof body.email === 'string' && body.email.toLowerCase() === o.email.toLowerCase();
      if (!emailOk || body.password !== o.password) {
        return send(400, { code: 400, error_code: 'invalid_credentials', msg: 'Invalid login credentials' });
      }
      counts.passwordGrants++;
      return send(200, session());
    }
    if (grant === 'refresh_token') {
      const token = body.refresh_token;
      if (typeof token !== 'string' || !refreshTokens.delete(token)) {
        return send(400, { code: 400, error_code: 'refresh_token_not_found', msg: 'Invalid Refresh Token: Refresh Token Not Found' });
      }
      counts.refreshGrants++;
      return send(200, session());
    }
    return send(400, { code: 400, error_code: 'validation_failed', msg: 'unsupported_grant_type' });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      counts.failures++;
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"code":500,"error_code":"unexpected_failure","msg":"Unexpected failure"}');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}`;

  let closed: Promise<void> | undefined;
  return {
    url,
    close: () =>
      (closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
    stats: () => ({ ...counts }),
    issuedTokens: () => [...issued],
  };
}
