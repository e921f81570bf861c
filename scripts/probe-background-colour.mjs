// Does a model draw the flat background its caption names? For each solid background colour, the DiT predicts the
// clean image from nearly pure noise (flow time 0.98), where only the caption can say what the colour is, and the
// VAE decodes that prediction. A model that reads the colour word gives each caption its own colour; one that
// does not gives every caption the same. Prints the mean RGB of each prediction and its distance to the colour's
// mean in the world's renders, then the average distance (lower is better).
// Usage: node scripts/probe-background-colour.mjs [MODEL_DIR] (needs `npm run build`)
import { backgroundColourDistances, loadProbePipeline, probeCaption } from './background-colour.mjs';

const dir = process.argv[2];
const pipeline = await loadProbePipeline(dir, 'probe-background-colour');
const { vae, transformer, text } = pipeline.parts;
const { rows, mean } = backgroundColourDistances({ vae, transformer, encode: (caption) => text.encode([caption]) }, {
  size: 64,
  caption: probeCaption,
  // a lone small object, in a colour that stands out from the background
  objectColour: (colour) => (colour === 'pink' ? 'blue' : 'pink'),
});
const rgb = (c) => c.map((v) => v.toFixed(0).padStart(3)).join(' ');
for (const r of rows) console.log(`${r.colour.padEnd(7)} predicted ${rgb(r.predicted)}   rendered ${rgb(r.rendered)}   distance ${r.distance.toFixed(0)}`);
console.log(`mean distance ${mean.toFixed(1)} (${dir ?? 'bundled model'})`);
