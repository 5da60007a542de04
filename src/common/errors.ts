// Errors the pack turns into a one-line message and a documented exit code (never a stack trace).
export const EXIT = {
  passed: 0,
  gateFailed: 1,
  badInput: 2,
  unhealthyAtStart: 3,
  unhealthyAtEnd: 4,
  /** Artillery died part-way (killed, or crashed): the record keeps what was measured. */
  crashed: 5,
  /** Ctrl-C; SIGTERM and SIGHUP give 143 and 129 (128 + the signal's number). */
  interrupted: 130,
} as const;

/** Bad input or configuration: exit 2, nothing sent. */
export class UsageError extends Error {
  readonly exitCode: number = EXIT.badInput;
}
