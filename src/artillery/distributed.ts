// Scale-out through Artillery's own distributed runners (run-fargate, run-lambda): the run's bundle
// (src/artillery/bundle.ts), run from its own folder so that Artillery uploads only it, with secrets
// passed the way each runner intends; the record is built from the combined output Artillery writes back.
import type { RunOptions } from '../plan/options';
import { referencedSecrets, SECRET_ENV } from '../common/secrets';
import { BUNDLE_SCRIPT, SECRETS_FILE } from './bundle';

/** The secrets the workers need, by name, for the variables that are set here. */
export function secretNames(env: NodeJS.ProcessEnv = process.env): string[] {
  const needed = [...SECRET_ENV, 'SUPABASE_URL', 'LOAD_TEST_EMAIL', ...referencedSecrets()];
  return needed.filter((name) => env[name]);
}

/** The Lambda dotenv's variables: the secrets set here, by name. */
export const secretValues = (env: NodeJS.ProcessEnv = process.env): Record<string, string> =>
  Object.fromEntries(secretNames(env).map((n) => [n, String(env[n])]));

export interface PlatformCommand {
  /** Arguments after `artillery`, run from the bundle's folder. */
  args: string[];
  /** What the user should know: where secrets come from, what each worker runs. */
  notes: string[];
}

/**
 * The command for --platform fargate|lambda, run from the bundle's folder. Fargate workers read
 * secrets from SSM Parameter Store (`--secret NAME` -> /artilleryio/NAME in the region); Lambda
 * workers get the bundle's secrets.env, which run-lambda uploads with it and names by its base name.
 */
export function platformCommand(opts: RunOptions, outputFile: string, env = process.env): PlatformCommand {
  const names = secretNames(env);
  const base = [
    opts.platform === 'fargate' ? 'run-fargate' : 'run-lambda',
    BUNDLE_SCRIPT,
    '--count',
    String(opts.count),
    '--region',
    opts.region,
    '--output',
    outputFile,
  ];
  const each = `each of the ${opts.count} workers runs the whole profile (${opts.count}x the users in all) and its own breaker; the preflight runs once, from here, before they start`;
  if (opts.platform === 'fargate') {
    return {
      args: [...base, ...names.flatMap((n) => ['--secret', n])],
      notes: [
        each,
        names.length
          ? `secrets ${names.join(', ')}: read on the workers from SSM Parameter Store /artilleryio/<NAME> in ${opts.region}; store them there first (SecureString)`
          : 'no secrets to pass',
      ],
    };
  }
  return {
    args: names.length ? [...base, '--dotenv', SECRETS_FILE] : base,
    notes: [
      each,
      names.length
        ? `secrets ${names.join(', ')}: in the bundle's ${SECRETS_FILE} (owner-only, removed after the run), which run-lambda uploads with it`
        : 'no secrets to pass',
    ],
  };
}
