// Keeps secrets out of everything the pack writes: known secret values from the environment and
// anything shaped like a JWT are replaced before a line reaches the terminal or a file.
export const SECRET_ENV = ['API_TOKEN', 'LOAD_TEST_PASSWORD', 'SUPABASE_ANON_KEY', 'SUPABASE_SERVICE_ROLE_KEY'];
/** Secrets of this machine only (distributed workers never get them). */
const LOCAL_SECRET_ENV = ['ALERT_WEBHOOK_URL'];
/** Variables the environment file's publishMetrics refers to: redacted, and given to distributed workers. */
const referenced = new Set<string>();
export const treatAsSecret = (name: string): void => void referenced.add(name);
export const referencedSecrets = (): string[] => [...referenced];
const JWT_SHAPE = /eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*/g;

/** Anything shaped like a JWT, replaced: the last line of defence for text that reaches a file. */
export const redactTokens = (text: string): string => text.replace(JWT_SHAPE, '[redacted token]');

export function redactor(env: NodeJS.ProcessEnv = process.env): (text: string) => string {
  const values = [...SECRET_ENV, ...LOCAL_SECRET_ENV, ...referenced].map((name) => env[name]).filter((v): v is string => Boolean(v && v.length >= 4));
  return (text) => {
    let out = redactTokens(text);
    for (const v of values) out = out.split(v).join('[redacted]');
    return out;
  };
}
