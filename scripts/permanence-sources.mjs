#!/usr/bin/env node
// Where does object permanence get lost before the DiT: in the judge, or in the VAE? For every eval prompt at one
// seed, renders the prompt's scene at the bundled size (128×128, 17 frames, 8 fps), grades it with the judge, then
// encodes and decodes it with a model's VAE and grades that too. Prints permanence (the judge's share of tracks
// with no unexcused appearance, disappearance or gap) by number of objects for both: the rendered figure is the
// judge's own ceiling, the reconstructed one what a DiT that hit the reference latents exactly would score. One-object
// scenes are also split by the object's motion and size.
// Usage: node scripts/permanence-sources.mjs [MODEL_DIR] [SEED] [--one-object] (needs `npm run build`); --one-object
// grades the one-object prompts alone (half the prompts, where the VAE loses permanence), a quicker check mid-run.
import { readPromptFile, vaeReconstructor } from '../dist/eval/index.js';
import { referenceSpec } from '../dist/eval/run.js';
import { loadVae } from '../dist/models/index.js';
import { judgeClip, renderScene } from '../dist/world/index.js';

const dir = process.argv[2] ?? 'models/tessera-world';
const seed = Number(process.argv[3] ?? 6);
const oneObject = process.argv.includes('--one-object');
const prompts = (await readPromptFile('eval/prompts.jsonl')).filter((p) => !oneObject || p.spec.objects.length === 1);
const reconstruct = vaeReconstructor(await loadVae(dir));
const size = { width: 128, height: 128, frames: 17, fps: 8 };

const groups = new Map(); // objects -> { n, rendered, vae }
for (const [i, prompt] of prompts.entries()) {
  const clip = renderScene(referenceSpec(prompt.spec, size, seed));
  const rendered = judgeClip(clip, prompt.spec).permanence;
  const vae = judgeClip(reconstruct(clip), prompt.spec).permanence;
  const keys = [prompt.spec.objects.length, 'all'];
  if (prompt.spec.objects.length === 1) keys.push(`one: ${prompt.spec.objects[0].motion.type}`, `one: ${prompt.spec.objects[0].size}`);
  for (const key of keys) {
    const g = groups.get(key) ?? { n: 0, rendered: 0, vae: 0 };
    g.n++; g.rendered += rendered; g.vae += vae;
    groups.set(key, g);
  }
  if ((i + 1) % 40 === 0) process.stderr.write(`${i + 1}/${prompts.length}\n`);
}
console.log(`permanence at seed ${seed}, ${dir}'s VAE`);
console.log('objects | prompts | rendered | VAE reconstruction');
const order = (k) => (typeof k === 'number' ? k : k === 'all' ? 10 : 20);
for (const key of [...groups.keys()].sort((a, b) => order(a) - order(b) || String(a).localeCompare(String(b)))) {
  const g = groups.get(key);
  if (g) console.log(`${key} | ${g.n} | ${(100 * g.rendered / g.n).toFixed(1)}% | ${(100 * g.vae / g.n).toFixed(1)}%`);
}
