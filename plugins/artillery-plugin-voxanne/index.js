// Artillery loads plugins as packages (artillery-plugin-<name>; package.json lists this folder as
// one). The plugin is TypeScript: the pack's launcher compiles what changed into .build/ first.
'use strict';
const { join } = require('node:path');
const { build, BUILD } = require('../../bin/pack.js');

build();
module.exports = require(join(BUILD, 'plugins', 'artillery-plugin-voxanne', 'index.js'));
