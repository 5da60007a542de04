// `node --require ./bin/register.js file.ts`: loads the project's TypeScript from the pack's build (bin/build.js),
// each file transpiled once into .build/ and reused while it is unchanged. The test suite starts about
// 25 processes; ts-node would load the compiler and transpile every import again in each of them
// (2 to 4 CPU-seconds a process), this costs a few file reads. Types are checked by tsc, not here.
'use strict';
const { readFileSync } = require('node:fs');
const { relative } = require('node:path');
const { compileFile, COMPILE_CACHE, ROOT } = require('./build.js');

require('node:module').enableCompileCache?.(COMPILE_CACHE);
process.setSourceMapsEnabled(true);

const fallback = require.extensions['.ts'] ?? ((module, filename) => module._compile(readFileSync(filename, 'utf8'), filename));
require.extensions['.ts'] = (module, filename) => {
  if (relative(ROOT, filename).startsWith('..') || filename.includes('/node_modules/')) return fallback(module, filename);
  module._compile(readFileSync(compileFile(filename), 'utf8'), filename);
};
