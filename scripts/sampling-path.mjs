#!/usr/bin/env node
// Where does a sample's layout get decided? Samples one 128x128 17-frame clip and, at six of its 25 Euler steps,
// decodes the running estimate of the clean latent, x0 = x_t - t v (v from two consecutive steps), into one row of
// frames 0, 2, ..., 16. Usage, after npm run build:
//   node scripts/sampling-path.mjs [MODEL_DIR] [OUT.png] [PROMPT] [SEED]
import sharp from 'sharp';
import { loadPipeline } from '../dist/index.js';
import { tensorToVideo } from '../dist/models/vae/index.js';
import { noGrad } from '../dist/engine/index.js';

const [model = 'models/tessera-world', out = 'sampling-path.png', prompt = 'a red ball bounces on a snowy meadow', seed = '1'] = process.argv.slice(2);
const SIDE = 128;
const pipe = await loadPipeline(model);
const latents = [];
const times = [];
await pipe.generate(
  { prompt, width: SIDE, height: SIDE, frames: 17, fps: 8, steps: 25, guidanceScale: 4, seed: Number(seed), sampler: 'euler', expandPrompt: true },
  { onStep: (e) => { latents.push(e.latents.clone()); times.push(e.timestep); } },
);
// onStep k reports the step that starts at times[k] and the latent it ends at (time times[k + 1], or 0 at the end)
const vae = pipe.parts.vae;
const rows = [];
for (const k of [2, 5, 9, 14, 19, 24]) {
  const before = latents[k - 1];
  const after = latents[k];
  const next = k + 1 < times.length ? times[k + 1] : 0;
  const x0 = before.clone();
  const scale = times[k] / (times[k] - next);
  for (let i = 0; i < x0.size; i++) x0.data[i] = before.data[i] - scale * (before.data[i] - after.data[i]);
  rows.push({ t: times[k], clip: tensorToVideo(noGrad(() => vae.decode(vae.denormalizeLatent(x0)))) });
}
const frames = [0, 2, 4, 6, 8, 10, 12, 14, 16];
const tiles = [];
const plane = SIDE * SIDE * 3;
rows.forEach((row, r) => frames.forEach((f, c) => {
  tiles.push({ input: Buffer.from(row.clip.data.subarray(f * plane, (f + 1) * plane)), raw: { width: SIDE, height: SIDE, channels: 3 }, left: SIDE * c, top: SIDE * r });
}));
await sharp({ create: { width: SIDE * frames.length, height: SIDE * rows.length, channels: 3, background: '#000' } }).composite(tiles).png().toFile(out);
console.log(`${out}: rows at t = ${rows.map((r) => r.t.toFixed(3)).join(', ')}; columns are frames ${frames.join(', ')}`);
