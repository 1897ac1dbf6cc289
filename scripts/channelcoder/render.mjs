#!/usr/bin/env node
// Prints ChannelCoder's rendering of a mode file's body with the given data:
// gray-matter's body, then ChannelCoder's own interpolation (its inline-prompt
// path of claude() with dryRun, so nothing is spawned). Front matter and input
// validation are skipped, so files ChannelCoder's strict schema refuses still
// show how their template renders.
//
//   node render.mjs <mode-file.md> '<json data>'

import { readFileSync } from 'node:fs';
import matter from 'gray-matter';
import { claude } from 'channelcoder';

export async function renderBody(file, data) {
  const body = matter(readFileSync(file, 'utf-8')).content;
  if (body === '') return '';
  const result = await claude(body, { data, dryRun: true });
  if (!result.success) throw new Error(result.error);
  return result.data.prompt;
}

if (process.argv[1]?.endsWith('render.mjs')) {
  const [file, json] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: node render.mjs <file.md> [json]\n');
    process.exit(2);
  }
  process.stdout.write(await renderBody(file, JSON.parse(json || '{}')));
}
