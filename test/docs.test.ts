// The README and docs/ say only what is true of the pack: every relative link and anchor resolves,
// every `npm run` script exists, every --option is one a command knows, the options' reference is
// the run's own --help, and every command the README gives is a plan that --dry-run accepts.
// No Artillery and no request: the commands are dry runs, in this process.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { ROOT } from '../src/catalog/config';
import { packInProcess } from './in-process';

const PAGES = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
const text = (file: string) => readFileSync(join(ROOT, file), 'utf8');

/** A page's prose: fenced code blocks blanked out (their lines kept, so line numbers hold). */
const prose = (md: string) => md.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, (block) => block.replace(/[^\n]/g, ''));

/** The code of a page: fenced blocks and inline code spans, one string each. */
function codeOf(md: string): string[] {
  const blocks = [...md.matchAll(/^(```|~~~)[^\n]*\n([\s\S]*?)^\1[^\n]*$/gm)].map((m) => m[2]);
  const spans = [...prose(md).matchAll(/(`+)([^`]+?)\1/g)].map((m) => m[2]);
  return [...blocks, ...spans];
}

/** GitHub's anchor for a heading: its text lowercased, punctuation dropped, spaces as hyphens. */
export function slug(heading: string): string {
  const plain = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // links and images: their text
    .replace(/`/g, '')
    .trim()
    .toLowerCase();
  return plain.replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
}

/** The anchors a page's headings make, with GitHub's -1, -2 for repeated ones. */
function anchorsOf(md: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of prose(md).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = slug(m[1]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n ? `${base}-${n}` : base);
  }
  return out;
}

/** Every link and image target in a page's prose (not in code). */
function linksOf(md: string): Array<{ target: string; line: number }> {
  const withoutSpans = prose(md).replace(/(`+)[^`]+?\1/g, (span) => span.replace(/[^\n]/g, ' '));
  return withoutSpans
    .split('\n')
    .flatMap((line, i) => [...line.matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => ({ target: m[1], line: i + 1 })));
}

/** The run's options as `node bin/pack.js run --help` prints them. */
async function runHelp(): Promise<string> {
  const r = await packInProcess('run', ['--help'], {}, { noReports: true });
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trimEnd();
}
const flagsIn = (source: string) => new Set([...source.matchAll(/(?<![\w-])--([a-z][a-z0-9-]*)/g)].map((m) => m[1]));

/** Artillery's own `run`, `run-fargate` and `run-lambda` flags, read from its command definitions. */
function artilleryFlags(): Set<string> {
  const files = ['lib/cmds/run.ts', 'lib/cmds/run-fargate.ts', 'lib/cmds/run-lambda.ts', 'lib/cli/common-flags.ts'];
  const source = files.map((f) => readFileSync(join(ROOT, 'node_modules/artillery', f), 'utf8')).join('\n');
  return new Set([...source.matchAll(/^\s+'?([a-z][a-z-]*)'?: Flags\./gm)].map((m) => m[1]));
}

/** Options of other programs the docs show (npm, node and its test runner, gh), not the pack's. */
const OTHER_PROGRAMS = new Set(['no-audit', 'no-fund', 'ignore-scripts', 'require', 'test', 'test-concurrency', 'version', 'all']);
/** Shown on purpose as what the pack refuses: this text alone is let through. */
const REFUSED_EXAMPLE = 'unknown option --users';
const optionText = (page: string) => text(page).replaceAll(REFUSED_EXAMPLE, '');

describe('the README and docs/', { concurrency: true }, () => {
  test('the README stays short: at most 16 KB', () => {
    assert.ok(Buffer.byteLength(text('README.md')) <= 16 * 1024, `README.md is ${Buffer.byteLength(text('README.md'))} bytes`);
  });

  test('every docs page is linked from the README', () => {
    const linked = new Set(linksOf(text('README.md')).map((l) => l.target.split('#')[0]));
    for (const page of PAGES.filter((p) => p !== 'README.md')) assert.ok(linked.has(page), `${page} is not linked from README.md`);
  });

  test('every relative link and anchor resolves', () => {
    const broken: string[] = [];
    for (const page of PAGES) {
      for (const { target, line } of linksOf(text(page))) {
        if (/^[a-z][a-z+.-]*:/i.test(target)) continue; // http:, https:, mailto:
        const [path, anchor] = target.split('#');
        const file = path ? relative(ROOT, resolve(ROOT, dirname(page), path)) : page;
        if (file.startsWith('..') || !existsSync(join(ROOT, file))) broken.push(`${page}:${line}: ${target}: no such file`);
        else if (anchor !== undefined && file.endsWith('.md') && !anchorsOf(text(file)).has(anchor))
          broken.push(`${page}:${line}: ${target}: no heading #${anchor} in ${file}`);
      }
    }
    assert.deepEqual(broken, []);
  });

  test('nothing in the repository refers to a file outside it', () => {
    const tracked = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' }).split('\n');
    const sources = tracked.filter((f) => /\.(md|ts|js|mjs|yml|yaml)$/.test(f));
    const outside: string[] = [];
    for (const file of sources) {
      const body = text(file);
      // A relative path that climbs out of the repository, or, in a page, to nothing in it.
      for (const m of body.matchAll(/(?:\.\.\/)+[\w.-]+(?:\/[\w.-]+)*/g)) {
        const path = relative(ROOT, resolve(ROOT, dirname(file), m[0].replace(/\.+$/, '')));
        if (path.startsWith('..') || (/\.(md|ya?ml)$/.test(file) && !existsSync(join(ROOT, path)))) outside.push(`${file}: ${m[0]}`);
      }
      // A document named by an upper-case file name that the repository does not have.
      for (const m of body.matchAll(/\b[A-Z][A-Z0-9_-]+\.md\b/g)) if (!tracked.some((f) => f.split('/').pop() === m[0])) outside.push(`${file}: ${m[0]}`);
    }
    assert.deepEqual(outside, []);
  });

  test('every npm run script exists in package.json', () => {
    const scripts = Object.keys(JSON.parse(text('package.json')).scripts);
    const unknown = PAGES.flatMap((page) =>
      [...text(page).matchAll(/npm run ([a-z][\w:-]*)/g)].filter((m) => !scripts.includes(m[1])).map((m) => `${page}: npm run ${m[1]}`),
    );
    assert.deepEqual(unknown, []);
  });

  test('every --option is one a command knows', async () => {
    const run = flagsIn(await runHelp());
    run.add('help');
    // The pack's other commands, their options read from their own source.
    const commands = [
      'src/standin/cli.ts',
      'src/cli/demo.ts',
      'src/cli/report.ts',
      'src/outputs/ci-history.ts',
      'src/live/replay.ts',
      'test/record-fixtures.ts',
      ...readdirSync(join(ROOT, 'bench'))
        .filter((f) => f.endsWith('.ts'))
        .map((f) => `bench/${f}`),
    ];
    const known = new Set([...run, ...commands.flatMap((f) => [...flagsIn(text(f))]), ...artilleryFlags(), ...OTHER_PROGRAMS]);
    const unknown = PAGES.flatMap((page) => [...flagsIn(optionText(page))].filter((f) => !known.has(f)).map((f) => `${page}: --${f}`));
    assert.deepEqual(unknown, []);

    // What follows a run command (and the demo, which passes its options on) must be a run option.
    const misplaced: string[] = [];
    for (const page of PAGES) {
      for (const code of codeOf(optionText(page))) {
        for (const m of code.matchAll(/(npm run (?:test:local|test:prod|demo)|node bin\/pack\.js run)\b([^`\n#]*)/g)) {
          const own = m[1] === 'npm run demo' ? new Set([...run, 'fault']) : run;
          for (const f of flagsIn(m[2])) if (!own.has(f)) misplaced.push(`${page}: ${m[0].trim()}: --${f}`);
        }
      }
    }
    assert.deepEqual(misplaced, []);
  });

  test("the options' reference is the run's --help", async () => {
    const block = /```text\n(usage: npm run test:local\|test:prod[\s\S]*?)\n```/.exec(text('docs/reference.md'));
    assert.ok(block, 'docs/reference.md holds the --help output in a ```text block');
    assert.equal(block[1], await runHelp());
  });

  test('every command in the README is a plan that --dry-run accepts (nothing is sent)', async () => {
    // `VAR=value npm run test:local -- --opt ...` or `node bin/pack.js run --opt ...`, comments dropped.
    const commands = codeOf(text('README.md'))
      .flatMap((code) => code.split('\n'))
      .map((line) => line.replace(/\s#.*$/, '').trim())
      .filter((line) => /^(?:[A-Z_]+=\S+\s+)*(?:npm run test:(?:local|prod)|node bin\/pack\.js run)(?:\s|$)/.test(line));
    assert.ok(commands.length >= 5, `found only: ${commands.join('; ')}`);
    const refused: string[] = [];
    for (const command of commands) {
      const words = command.split(/\s+/);
      const env: Record<string, string> = {};
      while (/^[A-Z_]+=/.test(words[0])) {
        const [name, ...value] = words.shift()!.split('=');
        env[name] = value.join('=');
      }
      const args = words[0] === 'npm' ? ['--env', words[2] === 'test:prod' ? 'prod' : 'local', ...words.slice(3).filter((w) => w !== '--')] : words.slice(3);
      const r = await packInProcess('run', [...args, '--dry-run'], env, { noReports: true });
      const planned = args.includes('--help') || /^Dry run: nothing is sent\./.test(r.stdout);
      if (r.code !== 0 || !planned) refused.push(`${command} --dry-run: exit ${r.code} ${r.stderr.trim()}`);
    }
    assert.deepEqual(refused, []);
  });
});
