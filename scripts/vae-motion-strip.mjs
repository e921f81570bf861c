#!/usr/bin/env node
// What a VAE does to motion inside one latent frame: renders one eval prompt's scene (128×128, 17 frames, 8 fps),
// encodes and decodes it, and writes the first nine frames of both as one picture (rendered above, reconstructed
// below). Also prints the judge's track of the object in each, frame by frame, and each clip's permanence.
// Usage: node scripts/vae-motion-strip.mjs PROMPT_ID OUT.webp [SEED] [VAE_OR_MODEL_DIR] (needs `npm run build`)
import sharp from 'sharp';
import { readPromptFile, vaeReconstructor } from '../dist/eval/index.js';
import { referenceSpec } from '../dist/eval/run.js';
import { loadVae } from '../dist/models/index.js';
import { frameView, writeFileAtomically } from '../dist/media/index.js';
import { analyseClip, renderScene } from '../dist/world/index.js';

const [id, out, seedArg = '6', dir = 'models/tessera-world'] = process.argv.slice(2);
if (!id || !out) {
  console.error('usage: node scripts/vae-motion-strip.mjs PROMPT_ID OUT.webp [SEED] [VAE_OR_MODEL_DIR]');
  process.exit(2);
}
const prompt = (await readPromptFile('eval/prompts.jsonl')).find((p) => p.id === id);
if (!prompt) {
  console.error(`no prompt ${id} in eval/prompts.jsonl`);
  process.exit(2);
}
const rendered = renderScene(referenceSpec(prompt.spec, { width: 128, height: 128, frames: 17, fps: 8 }, Number(seedArg)));
const reconstructed = vaeReconstructor(await loadVae(dir))(rendered);
const FRAMES = 9;
const tiles = [];
for (const [row, clip] of [rendered, reconstructed].entries()) {
  const analysis = analyseClip(clip);
  console.log(`${row === 0 ? 'rendered' : 'reconstructed'}: permanence ${analysis.permanence}`);
  for (const t of analysis.tracks) console.log(`  ${t.kind} (${t.motion}) seen in frames ${t.frames.join(',')}`);
  for (let f = 0; f < FRAMES; f++) {
    const input = await sharp(Buffer.from(frameView(clip, f)), { raw: { width: clip.width, height: clip.height, channels: 3 } }).png().toBuffer();
    tiles.push({ input, left: f * clip.width, top: row * clip.height });
  }
}
const picture = await sharp({ create: { width: FRAMES * 128, height: 256, channels: 3, background: '#000' } }).composite(tiles).webp({ quality: 80 }).toBuffer();
await writeFileAtomically(out, picture);
console.log(`${prompt.prompt}\nwrote ${out}`);
