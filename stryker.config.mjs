// Mutation testing of the decision code (npm run mutation; not part of CI: about 11 minutes).
// StrykerJS changes one thing at a time in the files below (a `<` into `<=`, a condition into
// `true`, ...) and runs the fast decision tests, which read recordings of real runs: a change that
// every test still passes ("survived") is a decision nothing checks. Reports: reports/mutation/.

// `npx --yes` leaves npm_config_yes set, which the pack rightly refuses as a swallowed --yes: the
// tests run without it.
delete process.env.npm_config_yes;

/** The files whose decisions are mutated: add a file here when its decisions move into src/. */
const DECISIONS = [
  'src/record/gates.ts',
  'src/record/diagnosis.ts',
  'src/search/*.ts',
  'src/record/capacity-answer.ts',
  'src/record/breaker.ts',
  'src/record/responses.ts',
  'src/record/worker-periods.ts',
];

/** The fast tests that judge those decisions (no Artillery run of their own: seconds in all). */
const FAST_TESTS = [
  'test/decisions.test.ts',
  'test/capacity-search.test.ts',
  'test/diagnosis.test.ts',
  'test/record.test.ts',
  'test/gates.test.ts',
  'test/responses.test.ts',
  'test/worker-periods.test.ts',
  'test/search-driver.test.ts',
  'test/breaker.test.ts',
  'test/capacity-answer.test.ts',
  'test/generator-watch.test.ts',
];

// A narrower run while working on some files, against the tests that judge them (faster, and a lower
// bound: a mutant another fast test would kill counts as survived):
//   VOXANNE_MUTATE=src/record/breaker.ts VOXANNE_FAST_TESTS=test/breaker.test.ts npm run mutation
const only = process.env.VOXANNE_MUTATE?.split(',').filter(Boolean);
const tests = process.env.VOXANNE_FAST_TESTS?.split(',').filter(Boolean) ?? FAST_TESTS;

export default {
  mutate: only?.length ? only : DECISIONS,
  testRunner: 'command',
  commandRunner: {
    // The test files in one process (node:test runs what they declare and exits 1 on a failure), each
    // file compiled on first use by bin/register.js: about 1.5 s a mutant, half of `node --test`'s.
    command: `node --require ./bin/register.js ${tests.map((file) => `--require ./${file}`).join(' ')} --eval ""`,
  },
  coverageAnalysis: 'off',
  // tsconfig.json has no extends or references to rewrite for the sandbox; naming no file skips that
  // step, which would load TypeScript from Stryker's own npx folder (where it is not installed).
  tsconfigFile: 'stryker-none.json',
  concurrency: 2,
  timeoutMS: 30_000,
  ignorePatterns: ['.build', 'reports', '.history-carry'],
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
};
