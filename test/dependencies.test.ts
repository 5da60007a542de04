// The Artillery plugins the pack uses come from Artillery's own bundle, so an Artillery upgrade
// upgrades them together: no pin of the pack's may shadow a bundled plugin.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { loadScenario } from '../src/catalog/scenario';
import { ROOT } from './helpers';
import { importEsm } from '../src/common/import-esm';

const ARTILLERY = join(ROOT, 'node_modules', 'artillery');
const BUNDLE = join(ARTILLERY, 'dist', 'builtin-packages');

/** Artillery's plugins in the pack: the scenario's (but the pack's own) and publish-metrics (environments). */
const usedPlugins = () => [
  ...Object.keys(loadScenario().config.plugins ?? {})
    .filter((name) => name !== 'voxanne')
    .map((name) => `artillery-plugin-${name}`),
  'artillery-plugin-publish-metrics',
];

test('Artillery bundles every plugin the pack uses, and resolves each to its bundled copy', async () => {
  const { BUILTIN_PACKAGE_NAMES, resolveBuiltinPackage } = await importEsm(pathToFileURL(join(ARTILLERY, 'dist', 'lib', 'builtin-packages.js')).href);
  for (const name of usedPlugins()) {
    assert.ok(BUILTIN_PACKAGE_NAMES.includes(name), `${name} is bundled with Artillery`);
    // Artillery tries a copy installed next to it first: one would replace the bundled plugin.
    const resolved: string = resolveBuiltinPackage(name);
    assert.ok(resolved.startsWith(join(BUNDLE, name)), `${name} resolves to ${resolved}, not to Artillery's bundled copy; remove the other copy`);
  }
});

test("package.json pins no plugin that Artillery bundles (they would shadow Artillery's own versions)", () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const declared = { ...pkg.dependencies, ...pkg.devDependencies } as Record<string, string>;
  for (const name of usedPlugins()) {
    const bundled = JSON.parse(readFileSync(join(BUNDLE, name, 'package.json'), 'utf8')).version;
    assert.equal(declared[name], undefined, `package.json pins ${name}@${declared[name]}; Artillery bundles ${bundled}: remove the pin`);
  }
});
