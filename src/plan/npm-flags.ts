// `npm run test:prod --dry-run` (without `--`) hands --dry-run to npm, not to the pack: npm keeps
// it as its own setting (npm_config_dry_run=true in the environment) and the run would start for
// real. The same goes for every pack option given before or without `--`. Refusing is the safe
// answer: nothing has been sent yet, and the message shows the spelling that works.
import { UsageError } from '../common/errors';

/** The npm setting (environment variable) an option of this name turns into. */
const npmVariable = (option: string) => `npm_config_${option.replace(/-/g, '_')}`;

/**
 * Throws when the pack was started by npm and npm took one of the pack's options as its own.
 * `options` maps option names to their parseArgs type.
 */
export function refuseNpmSwallowedFlags(options: Record<string, { type: 'string' | 'boolean' }>, env: NodeJS.ProcessEnv): void {
  const script = env.npm_lifecycle_event;
  if (!script) return; // not started through npm
  const taken = Object.entries(options).filter(([name]) => name !== 'help' && (env[npmVariable(name)] ?? '') !== '');
  if (!taken.length) return;
  const spelled = taken.map(([name, { type }]) => {
    const value = env[npmVariable(name)];
    return type === 'boolean' ? `--${name}` : `--${name} ${value === 'true' ? '<value>' : value}`;
  });
  const flags = taken.map(([name]) => `--${name}`).join(', ');
  throw new UsageError(`npm took ${flags} as its own flag${taken.length > 1 ? 's' : ''}; write npm run ${script} -- ${spelled.join(' ')}`);
}
