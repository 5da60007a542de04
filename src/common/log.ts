// Lines that Artillery's child process prints for the user carry this mark; the runner shows them
// and keeps everything else of Artillery's output in the run's log file.
export const USER_LINE_MARK = '[voxanne] ';

export function logLine(text: string): void {
  process.stdout.write(`${USER_LINE_MARK}${text}\n`);
}
