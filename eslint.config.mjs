// Lint (npm run lint): typescript-eslint with type information, so a promise left unawaited and code
// left unused are errors. Formatting is Prettier's job (npm run format), not the linter's.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The folders of src/, top to bottom: each imports only from folders after it (docs/developing.md,
 * "How the pack is built"). The processors and the plugin sit with artillery/.
 */
export const IMPORT_ORDER = ['cli', 'live', 'standin', 'outputs', 'artillery', 'search', 'record', 'channel', 'plan', 'checks', 'catalog', 'common'];

/** For each folder, an import of a folder above it is an error. */
const importOrder = IMPORT_ORDER.slice(1).map((folder, k) => {
  const above = IMPORT_ORDER.slice(0, k + 1);
  const files = folder === 'artillery' ? ['src/artillery/**', 'processors/**', 'plugins/**'] : [`src/${folder}/**`];
  const rule = {
    regex: `^(\\.\\./)+(src/)?(${above.join('|')})/`,
    message: `src/ is layered one way (${IMPORT_ORDER.join(' → ')}): ${folder}/ may import only the folders after it (docs/developing.md)`,
  };
  return { files, rules: { 'no-restricted-imports': ['error', { patterns: [rule] }] } };
});

const node = Object.fromEntries(
  ['process', 'console', 'Buffer', 'URL', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'AbortController', 'fetch'].map(
    (name) => [name, 'readonly'],
  ),
);

export default tseslint.config(
  { ignores: ['node_modules/', '.build/', 'reports/', 'processors/dist/', '.history-carry/', '.stryker-tmp/', 'test/fixtures/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // What the linter is here for: a promise nobody awaits, and code nobody uses.
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test collects top-level test() and describe() itself; a test's own promises must be awaited.
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-unused-expressions': 'error',
      'no-unreachable': 'error',
      // Artillery hands the pack untyped objects (its events, scripts, contexts): reading them is
      // checked with zod where it matters, not by banning `any` flows.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      // String(x) of an unknown value is how the pack turns what it was sent into text, on purpose.
      '@typescript-eslint/no-base-to-string': 'off',
      // The commands share one async signature (bin/pack.js awaits them), whether or not they await.
      '@typescript-eslint/require-await': 'off',
      // Artillery's modules and optional tools are loaded on demand, where they are needed.
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    // The launcher and the plugin's loader are plain CommonJS, outside the TypeScript project.
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { sourceType: 'commonjs', globals: { ...node, require: 'readonly', module: 'writable', __dirname: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  { files: ['eslint.config.mjs'], languageOptions: { sourceType: 'module' } },
  ...importOrder,
);
