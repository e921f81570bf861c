// Which words of a caption does a model act on at high noise? For captions that differ in one word (a flat
// background's colour, the subject's colour or kind, the setting), prints how far apart the text encoder puts them
// (relative difference of the pooled vector and of the tokens) and the mean RGB of the DiT's clean-image
// prediction from one fixed noise at flow time t, where only the caption can say what the picture holds.
// Usage: node scripts/probe-caption-words.mjs [MODEL_DIR] [SIZE=64] [T=0.98] (needs `npm run build`)
import { predictedMeanRgb, loadProbePipeline, probeNoise } from './background-colour.mjs';

const [dir, sizeArg = '64', timeArg = '0.98'] = process.argv.slice(2);
const size = Number(sizeArg), time = Number(timeArg);
const pipeline = await loadProbePipeline(dir, 'probe-caption-words');
const { vae, transformer, text } = pipeline.parts;
const noise = probeNoise({ vae, transformer }, size);

const PAIRS = [
  ['background colour', 'A pink circle rests in front of a flat blue background.', 'A pink circle rests in front of a flat yellow background.'],
  ['background colour alone', 'a blue background', 'a yellow background'],
  ['subject colour', 'A pink circle rests in front of a flat blue background.', 'A blue circle rests in front of a flat blue background.'],
  ['subject kind', 'A pink circle rests on a snowy meadow.', 'A pink star rests on a snowy meadow.'],
  ['setting', 'A pink circle rests on a snowy meadow.', 'A pink circle rests under a starry night sky.'],
];

const relative = (a, b) => {
  let d = 0, n = 0;
  for (let i = 0; i < a.length; i++) { d += (a[i] - b[i]) ** 2; n += a[i] ** 2; }
  return Math.sqrt(d / n);
};
const predictedRgb = (condition) => predictedMeanRgb({ vae, transformer }, noise, time, condition);
const rgb = (c) => c.map((v) => v.toFixed(0).padStart(3)).join(' ');

console.log(`empty caption: predicted ${rgb(predictedRgb(text.encode([''])))} (t = ${time}, ${size}×${size})`);
for (const [what, a, b] of PAIRS) {
  const ca = text.encode([a]), cb = text.encode([b]);
  const pa = predictedRgb(ca), pb = predictedRgb(cb);
  console.log(`${what.padEnd(24)} text ${relative(ca.pooled.data, cb.pooled.data).toFixed(3)} pooled, ${relative(ca.tokens.data, cb.tokens.data).toFixed(3)} tokens; ` +
    `predicted ${rgb(pa)} against ${rgb(pb)} (distance ${Math.hypot(...pa.map((v, i) => v - pb[i])).toFixed(0)})`);
}
