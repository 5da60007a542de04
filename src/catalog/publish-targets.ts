// An environment's `publishMetrics:` list (Artillery's publish-metrics reporters), checked as data:
// credentials only as "{{ $env.NAME }}" references to variables that are set.
import { UsageError } from '../common/errors';
import { treatAsSecret } from '../common/secrets';

/** One entry of Artillery's `config.plugins.publish-metrics` list. */
export type PublishTarget = { type: string } & Record<string, unknown>;

/** "{{ $env.NAME }}" (or $processEnvironment), as Artillery resolves it in the script's config. */
const ENV_REFERENCE = /^\{\{\s*\$(?:env|processEnvironment)\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$/;
export const ANY_REFERENCE = /\{\{\s*\$(?:env|processEnvironment)\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;
/** Keys that hold credentials in Artillery's reporters (apiKey, appKey, licenseKey, apiToken, accessToken, ...). */
const SECRET_KEY = /key|token|secret|password|auth/i;
/**
 * Refuses credentials written into the file: every secret-looking key, every header and every URL
 * with a user or password must be a whole "{{ $env.NAME }}" reference to a variable that is set.
 * The referenced variables are redacted from all output.
 */
export function checkPublishMetrics(list: PublishTarget[], file: string, env: NodeJS.ProcessEnv = process.env): void {
  const visit = (value: unknown, path: string, secret: boolean): void => {
    if (Array.isArray(value)) return value.forEach((v, i) => visit(v, `${path}[${i}]`, secret));
    if (value && typeof value === 'object') {
      for (const [key, v] of Object.entries(value)) visit(v, `${path}.${key}`, secret || SECRET_KEY.test(key) || key === 'headers');
      return;
    }
    if (typeof value !== 'string') return;
    for (const [, name] of value.matchAll(ANY_REFERENCE)) {
      if (!env[name]) throw new UsageError(`${file}: ${path} refers to ${name}, which is not set; export ${name} or remove the entry`);
      treatAsSecret(name);
    }
    const hasCredentials = /^[a-z][\w+.-]*:\/\/[^/@\s]*@/i.test(value);
    if ((secret || hasCredentials) && !ENV_REFERENCE.test(value)) {
      throw new UsageError(`${file}: ${path} holds a credential; write it as "{{ $env.NAME }}" and set NAME in the environment`);
    }
  };
  list.forEach((entry, i) => visit(entry, `publishMetrics[${i}]`, false));
}
