// Does a model draw the flat background its caption names? For each solid background colour, the DiT predicts the
// clean image from nearly pure noise (flow time 0.98), where only the caption can say what the colour is, and the
// VAE decodes that prediction. A model that reads the colour word gives each caption its own colour; one that
// does not gives every caption the same. Prints the mean RGB of each prediction and its distance to the colour's
// mean in the world's renders, then the average distance (lower is better).
// Usage: node scripts/probe-background-colour.mjs [MODEL_DIR] (needs `npm run build`)
import { loadPipeline, renderScene, validateSpec } from '../dist/index.js';
import { Rng, Tensor, noGrad } from '../dist/engine/index.js';
import { SOLID_BACKGROUND_COLOURS } from '../dist/world/index.js';

const dir = process.argv[2];
let pipeline;
try {
  pipeline = await loadPipeline(dir);
} catch (e) {
  console.error(`probe-background-colour: ${e.message}`);
  process.exit(2);
}
const { vae, transformer, text } = pipeline.parts;
const size = 64;
const cells = size / vae.spatialFactor;
const noise = Tensor.randn([1, transformer.config.latentChannels, 1, cells, cells], new Rng(5), 1);
const time = 0.98;

const meanRgb = (data, stride, offsets) => offsets.map((o) => {
  let sum = 0;
  for (let i = o; i < data.length; i += stride) sum += data[i];
  return sum / (data.length / stride);
});

let total = 0;
for (const colour of SOLID_BACKGROUND_COLOURS) {
  // what the world draws: a lone small object on this background, in daylight
  const scene = renderScene(validateSpec({
    width: size, height: size, frames: 1, background: { kind: 'solid', colour },
    objects: [{ kind: 'circle', colour: colour === 'pink' ? 'blue' : 'pink', size: 'small', motion: { type: 'stay' } }],
  }));
  const target = meanRgb(scene.data, 3, [0, 1, 2]);
  const predicted = noGrad(() => {
    const v = transformer.forward({ latents: noise, timesteps: [time], text: text.encode([`A pink circle rests in front of a flat ${colour} background.`]) });
    const pixels = vae.decode(vae.denormalizeLatent(noise.sub(v.mul(time)))).toArray(); // [1, 3, 1, H, W] in [-1, 1]
    const plane = pixels.length / 3;
    return [0, 1, 2].map((c) => {
      let sum = 0;
      for (let i = c * plane; i < (c + 1) * plane; i++) sum += pixels[i];
      return (255 * (sum / plane + 1)) / 2;
    });
  });
  const distance = Math.hypot(...predicted.map((v, i) => v - target[i]));
  total += distance;
  console.log(`${colour.padEnd(7)} predicted ${predicted.map((v) => v.toFixed(0).padStart(3)).join(' ')}   rendered ${target.map((v) => v.toFixed(0).padStart(3)).join(' ')}   distance ${distance.toFixed(0)}`);
}
console.log(`mean distance ${(total / SOLID_BACKGROUND_COLOURS.length).toFixed(1)} (${dir ?? 'bundled model'})`);
