#!/usr/bin/env node
// Regenerates tests/fixtures/channelcoder/<dataset>/<fixture>/<path below .modes>:
// ChannelCoder's rendering of every fixture mode file with the two data sets
// that src/template/channelcoder_tests.rs renders with.
//
//   cd scripts/channelcoder && npm install && node render-all.mjs

import { readdirSync, statSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { join, dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderBody } from './render.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const fixtures = join(repo, 'tests/fixtures');
const trees = ['scopecraft-modes-head', 'scopecraft-v2'];
const base = {
  taskId: 'fix-bug-05A',
  parentId: '',
  taskInstruction: 'Do the thing.',
  mode: 'implementation',
  additionalInstructions: '',
  area: 'cli',
  task_title: 'Fix the bug',
};
const datasets = {
  'no-parent': base,
  'with-parent': { ...base, parentId: 'parent-06A', additionalInstructions: 'Be careful.' },
};

const walk = (dir) =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });

const outRoot = join(fixtures, 'channelcoder');
for (const dataset of Object.keys(datasets)) rmSync(join(outRoot, dataset), { recursive: true, force: true });
for (const [dataset, data] of Object.entries(datasets)) {
  for (const tree of trees) {
    const modes = join(fixtures, tree, '.tasks/.modes');
    for (const file of walk(modes).sort()) {
      const out = join(outRoot, dataset, tree, relative(modes, file));
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, await renderBody(file, data));
    }
  }
}
console.log(`wrote ${outRoot}`);
