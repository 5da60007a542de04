#!/usr/bin/env node
// Starts one of the pack's commands from compiled output (.build/). Sources that changed since the
// last start are transpiled first; TypeScript itself is loaded only then, so a run starts fast.
// Type-checking is separate: `npm run typecheck` (tsc --noEmit), part of `npm test`.
'use strict';
const { existsSync, mkdirSync, readFileSync, symlinkSync } = require('node:fs');
const { delimiter, dirname, join, relative } = require('node:path');

const { build, compileFile, BUILD, COMPILE_CACHE, ROOT, SOURCES } = require('./build.js');
/** The pack's commands and their modules in .build/ (test/in-process.ts calls the same ones). */
const COMMANDS = {
  run: 'src/cli/run.js',
  demo: 'src/cli/demo.js',
  standin: 'src/standin/cli.js',
  report: 'src/cli/report.js',
  live: 'src/live/replay.js',
  history: 'src/outputs/ci-history.js',
};

/**
 * What stops the pack before anything else, as one line: dependencies not installed, or a Node older
 * than Artillery's own engines field asks for (2.0.34: 22.18; on an older Node, Artillery fails in
 * ways that look like a target problem). The pack's engines field says what `npm ci` needs.
 */
function startProblem() {
  let engines;
  try {
    engines = JSON.parse(readFileSync(join(ROOT, 'node_modules', 'artillery', 'package.json'), 'utf8')).engines.node;
  } catch {
    return { message: "the pack's dependencies are not installed; run npm ci" };
  }
  const need = /(\d+)\.(\d+)\.(\d+)/.exec(engines).slice(1).map(Number);
  const have = process.versions.node.split('.').map(Number);
  const i = need.findIndex((n, k) => n !== have[k]);
  if (i < 0 || have[i] > need[i]) return undefined;
  return {
    oldNode: true,
    message: `this pack needs Node ${need.join('.')} or newer and found Node ${process.versions.node}; install Node 22 (see .nvmrc: nvm install), then npm ci`,
  };
}

/**
 * The pack's own Node: this platform's Node binary package, which npm ci installs as an optional
 * dependency (package.json) and links as node_modules/.bin/node, first on the PATH of npm scripts
 * and npx. Undefined where the registry has none for this platform.
 */
function packNode() {
  const os = process.platform === 'win32' ? 'win' : process.platform;
  const cpu = process.arch === 'ia32' ? 'x86' : process.arch;
  const bin = join(ROOT, 'node_modules', `node-${os}-${cpu}`, 'bin', process.platform === 'win32' ? 'node.exe' : 'node');
  return existsSync(bin) ? bin : undefined;
}

/**
 * npm 10 (Node 18, 20 and 22's own npm) deletes node_modules/.bin/node after linking it, when it
 * skips the other platforms' packages, which have a `node` bin too (npm 11 keeps it). Put it back,
 * so npm scripts and npx find the pack's Node from now on. Windows keeps npm's own shims.
 */
function restoreNodeLink(bin) {
  const link = join(ROOT, 'node_modules', '.bin', 'node');
  if (process.platform === 'win32' || existsSync(link)) return;
  try {
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(relative(dirname(link), bin), link);
  } catch {
    // another start made it at the same moment, or the folder is read-only: the re-run still works
  }
}

const RERUN_ENV = 'VOXANNE_RERUN';

/** Runs this same command again on the pack's Node, which then comes first on the PATH of its children. */
function rerunOn(bin) {
  const child = require('node:child_process').spawn(bin, process.argv.slice(1), {
    stdio: 'inherit',
    env: { ...process.env, PATH: `${dirname(bin)}${delimiter}${process.env.PATH ?? ''}`, [RERUN_ENV]: '1' },
  });
  // Passed on: a stop sent to this process alone (kill <pid>, a process manager) must reach the command.
  // Ctrl-C reaches both, through the process group; the command takes a repeat within SIGNAL_REPEAT_MS as one.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? 128 + (require('node:os').constants.signals[signal] ?? 0)));
}

module.exports = { build, compileFile, BUILD, COMMANDS, COMPILE_CACHE, ROOT };

if (require.main === module) {
  const [command, ...args] = process.argv.slice(2);
  const bin = packNode();
  if (bin) restoreNodeLink(bin);
  const problem = startProblem();
  // Once only: should a later Artillery ask for more than the pack's Node, the re-run says so.
  if (problem?.oldNode && bin && !process.env[RERUN_ENV]) {
    rerunOn(bin);
    return;
  }
  if (problem) {
    console.error(`error: ${problem.message}`);
    process.exit(2);
  }
  if (command === 'build') {
    // Compile now, the tests too (bin/register.js loads them from here): before a test suite starts
    // its files and runs at once.
    console.log(`compiled ${build([...SOURCES, 'test'])} changed file(s) into ${relative(ROOT, BUILD)}/`);
    process.exit(0);
  }
  if (!COMMANDS[command]) {
    console.error(`error: unknown command "${command ?? ''}"; use one of: ${[...Object.keys(COMMANDS), 'build'].join(', ')}`);
    process.exit(2);
  }
  // V8's compiled code of every module the pack loads, kept between runs: a faster start.
  require('node:module').enableCompileCache?.(COMPILE_CACHE);
  build();
  require(join(BUILD, COMMANDS[command]))
    .main(args)
    .then(
      (code) => process.exit(code),
      (err) => {
        console.error(`error: ${err && err.message ? err.message : err} (unexpected; please report it)`);
        process.exit(1);
      },
    );
}
