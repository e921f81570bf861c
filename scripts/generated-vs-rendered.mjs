#!/usr/bin/env node
// Where a count goes wrong: generates eval prompts as `tessera eval` does (the model's default size, steps and
// guidance, expanded prompt, one seed), renders each prompt's own scene at the same size, and writes eight frames
// of both, rendered above generated, as one picture. Prints the judge's tracks in each clip (kind, colour, motion,
// frames seen, mean area, first centre), so extra tracks can be matched to blobs in the picture.
// Usage: node scripts/generated-vs-rendered.mjs OUT.webp SEED MODEL_DIR PROMPT_ID... (needs `npm run build`)
import sharp from 'sharp';
import { pipelineGenerator, readPromptFile } from '../dist/eval/index.js';
import { referenceSpec } from '../dist/eval/run.js';
import { writeFileAtomically } from '../dist/media/index.js';
import { loadPipeline } from '../dist/pipelines/index.js';
import { analyseClip, renderScene } from '../dist/world/index.js';

const [out, seedArg, dir, ...ids] = process.argv.slice(2);
if (!out || !seedArg || !dir || ids.length === 0) {
  console.error('usage: node scripts/generated-vs-rendered.mjs OUT.webp SEED MODEL_DIR PROMPT_ID...');
  process.exit(2);
}
const seed = Number(seedArg);
const all = await readPromptFile('eval/prompts.jsonl');
const prompts = ids.map((id) => all.find((p) => p.id === id) ?? (console.error(`no prompt ${id} in eval/prompts.jsonl`), process.exit(2)));
const generate = pipelineGenerator(await loadPipeline(dir));
const SHOWN = 8;
const rows = [];
for (const prompt of prompts) {
  const generated = await generate(prompt, seed, {});
  const rendered = renderScene(referenceSpec(prompt.spec, generated, seed));
  console.log(`${prompt.id}: ${prompt.prompt}`);
  for (const [name, clip] of [['rendered', rendered], ['generated', generated]]) {
    const a = analyseClip(clip);
    console.log(`  ${name}: background ${a.background.kind}, camera ${a.camera}, ${a.tracks.length} tracks`);
    for (const t of a.tracks) {
      const area = Math.round(t.areas.reduce((s, x) => s + x, 0) / t.areas.length);
      console.log(`    ${t.kind} ${t.colour ?? '-'} ${t.motion}: frames ${t.frames[0]}-${t.frames.at(-1)} (${t.frames.length} seen), area ${area}, at ${t.centres[0].map(Math.round).join(',')}`);
    }
    rows.push(clip);
  }
}
const { width: w, height: h } = rows[0];
const W = SHOWN * w, H = rows.length * h;
const picture = Buffer.alloc(W * H * 3);
rows.forEach((clip, r) => {
  for (let k = 0; k < SHOWN; k++) {
    const f = Math.round((k * (clip.frames - 1)) / (SHOWN - 1));
    for (let y = 0; y < h; y++) {
      Buffer.from(clip.data.buffer, clip.data.byteOffset + (f * w * h + y * w) * 3, w * 3).copy(picture, ((r * h + y) * W + k * w) * 3);
    }
  }
});
const webp = await sharp(picture, { raw: { width: W, height: H, channels: 3 } })
  .resize(Math.round(W * 1.5), Math.round(H * 1.5), { kernel: 'nearest' }).webp({ quality: 80 }).toBuffer();
await writeFileAtomically(out, webp);
