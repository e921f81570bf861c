#!/usr/bin/env node
// A quick VAE A/B: trains one VAE architecture for a few hundred steps on a fixed world stream of small clips
// and prints the held-out PSNR every 50 steps (step 0 included), so recipes can be compared in a minute each.
// Numbers are comparable only between runs of this script (same stream, same held-out clips).
//
//   npm run build
//   node scripts/vae-ab.mjs NAME 'VAE_CONFIG_JSON' ['OPTIONS_JSON'] [STEPS]
//   node scripts/vae-ab.mjs shortcuts '{"latentChannels":16,"downsample":["time","time"],"shortcuts":true}' '{"lr":1e-4}' 400
//
// OPTIONS_JSON: lr (default 1e-3, 50 warm-up steps), mse (true: plain MSE on the mean instead of vaeLoss),
// useMean, gradientWeight, klWeight (passed to vaeLoss). Clips: 64x64, 5 frames, batches of 2.
import { CausalVideoVAE, videosToTensor, vaeLoss, psnr } from '../dist/models/vae/index.js';
import { Rng, noGrad, mseLoss } from '../dist/engine/index.js';
import { AdamW } from '../dist/optim/adamw.js';
import { clipGradNorm } from '../dist/optim/clip.js';
import { WorldClipSource } from '../dist/train/sources.js';

const [name, configJson, optionsJson = '{}', stepsArg = '300'] = process.argv.slice(2);
if (!name || !configJson) {
  console.error("usage: node scripts/vae-ab.mjs NAME 'VAE_CONFIG_JSON' ['OPTIONS_JSON'] [STEPS]");
  process.exit(2);
}
const config = JSON.parse(configJson);
const options = JSON.parse(optionsJson);
const steps = Number(stepsArg);
const lr = options.lr ?? 1e-3;

const bucket = { width: 64, height: 64, frames: 5, batch: 2, weight: 1 };
const stream = new WorldClipSource({ buckets: [bucket], seed: 5 });
const heldOut = videosToTensor((await new WorldClipSource({ buckets: [bucket], seed: 777 }).nextBatch(bucket, 2)).clips);
const vae = new CausalVideoVAE(config, new Rng(1));
const optimizer = new AdamW(vae.namedParameters(), { lr, weightDecay: 0 });
const rng = new Rng(2);
const heldOutPsnr = () => noGrad(() => psnr(vae.decode(vae.encode(heldOut).mean), heldOut)).toFixed(2);

const started = performance.now();
const row = [`0:${heldOutPsnr()}`];
for (let step = 1; step <= steps; step++) {
  const x = videosToTensor((await stream.nextBatch(bucket, 2)).clips);
  optimizer.zeroGrad();
  const loss = options.mse
    ? mseLoss(vae.decode(vae.encode(x).mean), x)
    : vaeLoss(vae, x, { rng: rng.fork(`posterior${step}`), useMean: options.useMean, gradientWeight: options.gradientWeight, klWeight: options.klWeight }).loss;
  loss.backward();
  clipGradNorm(vae.parameters(), 1);
  optimizer.lr = lr * Math.min(1, step / 50);
  optimizer.step();
  if (step % 50 === 0) row.push(`${step}:${heldOutPsnr()}`);
}
console.log(`${name}  held-out PSNR (dB) by step  ${row.join(' ')}  (${((performance.now() - started) / 1000).toFixed(0)} s)`);
