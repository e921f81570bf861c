#!/usr/bin/env node
// Permanence of generated clips by the prompt's motion: reads `tessera eval --json --out` reports and groups their
// per-sample permanence by the motion of the prompt's objects (one-object prompts alone, and all), so a model's
// flicker can be laid beside what its VAE keeps (scripts/permanence-sources.mjs).
// Usage: node scripts/permanence-by-motion.mjs REPORT.json [REPORT.json ...]
import { readFileSync } from 'node:fs';
import { readPromptFile } from '../dist/eval/index.js';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node scripts/permanence-by-motion.mjs REPORT.json [REPORT.json ...]');
  process.exit(2);
}
const prompts = new Map((await readPromptFile('eval/prompts.jsonl')).map((p) => [p.id, p]));
const groups = new Map(); // key -> { n, sum }
const add = (key, value) => {
  const g = groups.get(key) ?? { n: 0, sum: 0 };
  g.n++; g.sum += value;
  groups.set(key, g);
};
for (const file of files) {
  for (const r of JSON.parse(readFileSync(file, 'utf8')).results) {
    const prompt = prompts.get(r.id);
    if (!prompt || r.scores.permanence === null) continue;
    const objects = prompt.spec.objects;
    add(`${objects.length} object${objects.length === 1 ? '' : 's'}`, r.scores.permanence);
    add('all', r.scores.permanence);
    if (objects.length === 1) add(`one: ${objects[0].motion.type}`, r.scores.permanence);
  }
}
console.log(`permanence over ${files.length} report(s)`);
for (const [key, g] of [...groups].sort(([a], [b]) => a.localeCompare(b))) console.log(`${key} | ${g.n} | ${(100 * g.sum / g.n).toFixed(1)}%`);
