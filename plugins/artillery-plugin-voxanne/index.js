// Artillery loads plugins as packages (artillery-plugin-<name>; package.json lists this folder as
// one). The plugin is TypeScript, compiled into .build/ by the pack's build (bin/build.js, not the
// launcher). Artillery loads it first in its main thread, before any worker starts: only that thread
// compiles what changed (a plain `npx artillery run` too); the workers load the compiled copy.
'use strict';
const { isMainThread } = require('node:worker_threads');
const { build, BUILD } = require('../../bin/build.js');

if (isMainThread) build();
module.exports = require(`${BUILD}/plugins/artillery-plugin-voxanne/index.js`);
