import { UsageError } from './errors';

/**
 * Seconds in a duration as the pack's config files and Artillery's phases write them: "90", "1.5s",
 * "2m", "4h", "250ms" (plain numbers are seconds). Anything else is a user's mistake: it throws.
 */
export function parseDurationSeconds(value: number | string): number {
  if (typeof value === 'number') return value;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(value);
  if (!match) throw new UsageError(`"${value}" is not a duration; use e.g. 30s, 2m or 1h`);
  const scale = { ms: 0.001, s: 1, m: 60, h: 3600 }[match[2] ?? 's'] ?? 1;
  return Number(match[1]) * scale;
}
