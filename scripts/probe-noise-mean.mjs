// Where does a model get a flat background's colour from at high noise: the caption, or the mean of the noise?
// At flow time 0.98 the DiT predicts the clean image from the background probe's noise (probe-background-colour.mjs)
// twice with captions that differ only in the background's colour word, and again with each latent channel of the
// noise shifted by -0.1 and +0.1 (a shift of the noise's mean that sampling's noise never has, about ten times the
// spread of the mean of a 64×64 image's 256 cells). Prints the predicted mean RGB of each and two figures: how far
// the colour word moves the prediction, and how far 0.1 of noise mean moves it at most. A model that reads the
// caption moves more for the word; one that reads the noise's mean, more for the shift.
// Usage: node scripts/probe-noise-mean.mjs [MODEL_DIR] (needs `npm run build`)
import { PROBE_TIME, loadProbePipeline, predictedMeanRgb, probeCaption, probeNoise } from './background-colour.mjs';
import { Tensor } from '../dist/engine/index.js';

const SIZE = 64;
const SHIFT = 0.1;
const dir = process.argv[2];
const pipeline = await loadProbePipeline(dir, 'probe-noise-mean');
const { vae, transformer, text } = pipeline.parts;
const channels = transformer.config.latentChannels;
const cells = SIZE / vae.spatialFactor;
const noise = probeNoise({ vae, transformer }, SIZE);

const distance = (a, b) => Math.hypot(...a.map((v, i) => v - b[i]));
const rgb = (c) => c.map((v) => v.toFixed(0).padStart(4)).join('');
/** The probe's noise with `delta` added to every cell of one channel. */
function shifted(channel, delta) {
  const out = Tensor.from(Float32Array.from(noise.data), noise.shape);
  const plane = cells * cells;
  for (let i = channel * plane; i < (channel + 1) * plane; i++) out.data[i] += delta;
  return out;
}

const predictions = {};
let noiseShift = 0;
for (const colour of ['blue', 'yellow']) {
  const condition = text.encode([probeCaption(colour)]);
  const plain = predictedMeanRgb({ vae, transformer }, noise, PROBE_TIME, condition);
  predictions[colour] = plain;
  console.log(`"${colour}": predicted ${rgb(plain)}`);
  for (let c = 0; c < channels; c++) {
    for (const delta of [-SHIFT, SHIFT]) {
      const moved = predictedMeanRgb({ vae, transformer }, shifted(c, delta), PROBE_TIME, condition);
      noiseShift = Math.max(noiseShift, distance(moved, plain));
      console.log(`  channel ${c} ${delta > 0 ? '+' : '-'}${SHIFT}: ${rgb(moved)}   moved ${distance(moved, plain).toFixed(0)}`);
    }
  }
}
console.log(`colour word moves the prediction ${distance(predictions.blue, predictions.yellow).toFixed(0)} levels; ` +
  `${SHIFT} of noise mean moves it up to ${noiseShift.toFixed(0)} (${dir ?? 'bundled model'})`);
