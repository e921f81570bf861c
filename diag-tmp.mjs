// x0 estimates along the sampling path: decoded frames 0,2,..,16 at several steps, one strip row each
import { loadPipeline } from './dist/index.js';
import { tensorToVideo } from './dist/models/vae/index.js';
import { noGrad } from './dist/engine/index.js';
import sharp from 'sharp';
const [model = 'models/tessera-world', out = '/tmp/s/diag.png', prompt = 'a red ball bounces on a snowy meadow', seed = '1'] = process.argv.slice(2);
const pipe = await loadPipeline(model);
const L = [], T = [];
await pipe.generate({ prompt, width: 128, height: 128, frames: 17, fps: 8, steps: 25, guidanceScale: 4, seed: Number(seed), sampler: 'euler', expandPrompt: true },
  { onStep: (e) => { L.push(e.latents.clone()); T.push(e.timestep); } });
const vae = pipe.parts.vae;
const rows = [];
for (const k of [2, 5, 9, 14, 19, 24]) {
  const tNext = k + 1 < T.length ? T[k + 1] : 0;
  const x0 = L[k - 1].clone();
  const s = T[k] / (T[k] - tNext);
  for (let i = 0; i < x0.size; i++) x0.data[i] = L[k - 1].data[i] - s * (L[k - 1].data[i] - L[k].data[i]);
  const px = noGrad(() => vae.decode(vae.denormalizeLatent(x0)));
  rows.push({ t: T[k], v: tensorToVideo(px) });
}
const idx = [0, 2, 4, 6, 8, 10, 12, 14, 16];
const comps = [];
rows.forEach((r, ri) => idx.forEach((f, k) => {
  const fr = Buffer.from(r.v.data.subarray(f * 128 * 128 * 3, (f + 1) * 128 * 128 * 3));
  comps.push({ input: fr, raw: { width: 128, height: 128, channels: 3 }, left: 128 * k, top: 128 * ri });
}));
await sharp({ create: { width: 128 * idx.length, height: 128 * rows.length, channels: 3, background: '#000' } }).composite(comps).png().toFile(out);
console.log('t per row', rows.map((r) => r.t.toFixed(3)).join(' '));
