// How robust is a VAE decoder to latent error? Decodes z + sigma * eps (sigma in the DiT's unit-variance latent
// units) for 4 held-out 128x128 17-frame world clips and prints PSNR against the input. Usage, after npm run build:
//   node scripts/vae-latent-noise.mjs VAE_DIR [VAE_DIR ...]
import { CausalVideoVAE, videosToTensor, psnr } from '../dist/models/vae/index.js';
import { noGrad, Rng } from '../dist/engine/index.js';
import { WorldClipSource } from '../dist/train/sources.js';
const b = { width: 128, height: 128, frames: 17, batch: 1, weight: 1 };
const { clips } = await new WorldClipSource({ buckets: [b], seed: 4242 }).nextBatch(b, 4);
const x = videosToTensor(clips);
for (const dir of process.argv.slice(2)) {
  const vae = await CausalVideoVAE.fromPretrained(dir);
  const z = noGrad(() => vae.encode(x).mean);
  const row = [];
  for (const sigma of [0, 0.05, 0.1, 0.2, 0.3]) {
    const zn = z.clone(); const rng = new Rng(1);
    for (let i = 0; i < zn.size; i++) zn.data[i] += (sigma / vae.config.scalingFactor) * rng.normal();
    row.push(`${sigma}: ${noGrad(() => psnr(vae.decode(zn), x)).toFixed(2)}`);
  }
  console.log(dir, '| PSNR vs input at latent noise', row.join(', '));
}
