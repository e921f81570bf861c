// Shared by probe-background-colour.mjs and text-binding-experiment.mjs: how far a DiT's guess of a flat background
// is from the colour its caption names. At flow time 0.98 the input is nearly pure noise, so only the caption can say
// the colour; the DiT's clean-image prediction is decoded and its mean RGB compared with the world's render.
import { loadPipeline, renderScene, validateSpec } from '../dist/index.js';
import { Rng, Tensor, noGrad } from '../dist/engine/index.js';
import { SOLID_BACKGROUND_COLOURS } from '../dist/world/index.js';

/** The probes' flow time: nearly pure noise, so only the caption can say the picture's colour. */
export const PROBE_TIME = 0.98;

/** The probes' caption for a flat background of `colour`, with a small pink circle on it. */
export const probeCaption = (colour) => `A pink circle rests in front of a flat ${colour} background.`;

/** The probes' fixed noise for one still image of size × size (the same draw in every probe). */
export function probeNoise({ vae, transformer }, size) {
  const cells = size / vae.spatialFactor;
  return Tensor.randn([1, transformer.config.latentChannels, 1, cells, cells], new Rng(5), 1);
}

/** Mean [r, g, b] (0-255) of a flat background as the world renders it, with one small circle of `objectColour` on it. */
function renderedColour(colour, size, objectColour) {
  const { data } = renderScene(validateSpec({
    width: size, height: size, frames: 1, background: { kind: 'solid', colour },
    objects: [{ kind: 'circle', colour: objectColour, size: 'small', motion: { type: 'stay' } }],
  }));
  return [0, 1, 2].map((c) => {
    let sum = 0;
    for (let i = c; i < data.length; i += 3) sum += data[i];
    return sum / (data.length / 3);
  });
}

/** The probes' model folder (the bundled one when dir is absent); a folder that will not load ends the script with code 2. */
export async function loadProbePipeline(dir, script) {
  try {
    return await loadPipeline(dir);
  } catch (e) {
    console.error(`${script}: ${e.message}`);
    process.exit(2);
  }
}

/** Mean [r, g, b] (0-255) of the DiT's clean-image prediction from `noise` at flow time `time`, decoded. */
export function predictedMeanRgb({ vae, transformer }, noise, time, condition) {
  return noGrad(() => {
    const v = transformer.forward({ latents: noise, timesteps: [time], text: condition });
    const pixels = vae.decode(vae.denormalizeLatent(noise.sub(v.mul(time)))).toArray(); // [1, 3, 1, H, W] in [-1, 1]
    const plane = pixels.length / 3;
    return [0, 1, 2].map((c) => {
      let sum = 0;
      for (let i = c * plane; i < (c + 1) * plane; i++) sum += pixels[i];
      return (255 * (sum / plane + 1)) / 2;
    });
  });
}

/**
 * For every flat background colour: the predicted and rendered mean RGB and their distance, and the mean distance.
 * encode(caption) gives the DiT's text condition; caption(colour) and objectColour(colour) set each probe's scene.
 */
export function backgroundColourDistances({ vae, transformer, encode }, { size, caption, objectColour }) {
  const noise = probeNoise({ vae, transformer }, size);
  const rows = SOLID_BACKGROUND_COLOURS.map((colour) => {
    const rendered = renderedColour(colour, size, objectColour(colour));
    const predicted = predictedMeanRgb({ vae, transformer }, noise, PROBE_TIME, encode(caption(colour)));
    return { colour, predicted, rendered, distance: Math.hypot(...predicted.map((v, i) => v - rendered[i])) };
  });
  return { rows, mean: rows.reduce((s, r) => s + r.distance, 0) / rows.length };
}
