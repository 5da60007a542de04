// The files of a run folder (reports/<run id>/) and of the reports folder, by name: what the pack
// writes, what `npm run report` and a replay read back.

/** The run record: everything the report, JUnit file and history are made from. */
export const RUN_FILE = 'run.json';
export const REPORT_FILE = 'report.html';
export const JUNIT_FILE = 'junit.xml';
/** The script Artillery runs (plain `npx artillery run` runs it again). */
export const SCRIPT_FILE = 'script.yml';
/** Artillery's own output, as it printed it. */
export const ARTILLERY_LOG = 'artillery.log';
/** Artillery's own output (-o JSON): a distributed run's record is built from it. */
export const OUTPUT_FILE = 'artillery.json';
/** The resolved plan and how Artillery ended: with the channel, what a replay rebuilds the record from. */
export const PLAN_FILE = 'plan.json';
export const END_FILE = 'end.json';
/** The channel from Artillery's main thread to the pack (src/channel/channel.ts). */
export const EVENTS_FILE = 'events.ndjson';
export const TAIL_FILE = 'tail.json';
/** In the reports folder: the list of runs. */
export const INDEX_FILE = 'index.html';
