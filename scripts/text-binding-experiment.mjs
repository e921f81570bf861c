// How fast does a small DiT learn a flat background's colour from its caption? Trains a fresh tiny DiT (128 wide,
// 2 blocks) and a world-sized text encoder (128 wide, 2 layers) on 32x32 still images of flat-background scenes,
// with the bundled VAE frozen, and every 150 steps asks it for the clean image from nearly pure noise for seven
// captions that differ only in the background's colour (as scripts/probe-background-colour.mjs does for a model
// folder). Prints the mean distance of the predicted colours from the rendered ones (lower is better; about 125
// means the caption's colour word is ignored).
// Usage: node scripts/text-binding-experiment.mjs [--captions full|bare|mixed] [--pretrain STEPS] [--steps N]
//   [--noise-offset STD] [--text-positions learned|rotary]
//   --captions bare: every caption is just "a flat <colour> background"; full (default): the world's own captions;
//   mixed: half of each (the probe then uses full captions, so it measures whether bare ones teach the full).
//   --pretrain: steps of scene-fact pretraining for the text encoder first (src/train/text-pretrain.ts; 0 = none).
//   --noise-offset: std of the offset noise the DiT trains with (data.noiseOffset of a run config; 0 = none).
//   --text-positions: the text encoder's positions, a learned table (the default) or rotary embeddings.
// Needs `npm run build`. One run of 600 steps takes about 2 minutes on two cores, plus about 4 per 2,500 steps of
// pretraining.
import { parseArgs } from 'node:util';
import { loadModel } from '../dist/models/index.js';
import { DiT } from '../dist/models/dit/model.js';
import { TextEncoder } from '../dist/models/text/encoder.js';
import { Rng } from '../dist/engine/index.js';
import { AdamW, clipGradNorm } from '../dist/optim/index.js';
import { DitTask } from '../dist/train/tasks.js';
import { WorldDataset } from '../dist/data/index.js';
import { pretrainTextEncoder } from '../dist/train/text-pretrain.js';
import { backgroundColourDistances } from './background-colour.mjs';

const fail = (message) => {
  console.error(`text-binding-experiment: ${message}`);
  process.exit(2);
};
let values;
try {
  ({ values } = parseArgs({ options: { captions: { type: 'string', default: 'full' }, pretrain: { type: 'string', default: '0' }, steps: { type: 'string', default: '600' }, 'noise-offset': { type: 'string', default: '0' }, 'text-positions': { type: 'string', default: 'learned' } } }));
} catch (e) {
  fail(e.message);
}
if (!['learned', 'rotary'].includes(values['text-positions'])) fail(`--text-positions: expected learned or rotary, got ${values['text-positions']}`);
if (!['full', 'bare', 'mixed'].includes(values.captions)) fail(`--captions: expected full, bare or mixed, got ${values.captions}`);
for (const flag of ['pretrain', 'steps']) {
  if (!/^\d+$/.test(values[flag])) fail(`--${flag}: expected a whole number of steps, got ${values[flag]}`);
}
const noiseOffset = Number(values['noise-offset']);
if (values['noise-offset'].trim() === '' || !(noiseOffset >= 0 && noiseOffset <= 1)) fail(`--noise-offset: expected a number from 0 to 1, got ${values['noise-offset']}`);
const bare = values.captions === 'bare';
const size = 32;
const levels = { short: 0.4, medium: 0.3, dense: 0.3 };

const { vae, tokenizer } = await loadModel('models/tessera-world', { only: ['vae', 'tokenizer'] });
const transformer = new DiT({ latentChannels: 4, patchSize: [1, 2, 2], hiddenSize: 128, depth: 2, numHeads: 4, textDim: 128, framePositionFrequencies: 4 }, new Rng(1));
const textEncoder = new TextEncoder({ vocabSize: tokenizer.vocabSize, width: 128, layers: 2, heads: 4, maxLength: 64, positions: values['text-positions'] }, new Rng(2));
if (Number(values.pretrain) > 0) {
  const accuracy = pretrainTextEncoder(textEncoder, tokenizer, { steps: Number(values.pretrain), seed: 1, captionLevels: levels });
  console.log(`pretrained ${values.pretrain} steps: background colour ${(100 * accuracy.background_colour).toFixed(1)}%, first subject's colour ${(100 * accuracy.colour).toFixed(1)}%`);
}

// only flat-background scenes, so every step carries the signal
const stream = new WorldDataset({ buckets: [{ width: size, height: size, frames: 1 }], seed: 7, captionLevels: levels });
const source = {
  async nextBatch(_bucket, n) {
    const clips = [];
    const captions = [];
    while (clips.length < n) {
      const s = stream.next();
      if (s.spec.background.kind !== 'solid') continue;
      const bareCaption = bare || (values.captions === 'mixed' && clips.length % 2 === 0);
      captions.push(bareCaption ? `a flat ${s.spec.background.colour} background` : s.caption);
      clips.push(s.clip);
    }
    return { clips, captions };
  },
  cursor: () => 0,
  seek: () => {},
};
const bucket = { width: size, height: size, frames: 1, batch: 16, weight: 1 };
const task = new DitTask({ vae, transformer, textEncoder, tokenizer }, source, [bucket], {
  captionDropout: 0.1, conditionRate: 0, objectWeight: 0, noiseCorrelation: 0, noiseOffset, shiftBaseTokens: 80, maxShift: 4,
});
const params = Object.entries(task.modules).flatMap(([name, module]) => module.namedParameters(name));
const optimizer = new AdamW(params, { lr: 1e-3, weightDecay: 0.01 });

const colourDistance = () => backgroundColourDistances({ vae, transformer, encode: (caption) => textEncoder.encodePrompts(tokenizer, [caption]) }, {
  size,
  caption: (colour) => (bare ? `a flat ${colour} background` : `A red ball on the left bounces in front of a flat ${colour} background.`),
  objectColour: () => 'red',
}).mean;

const rng = new Rng(1);
let lossSum = 0;
for (let step = 1; step <= Number(values.steps); step++) {
  const { loss } = await task.step(rng.fork(`step.${step}`));
  lossSum += loss.item();
  loss.backward();
  clipGradNorm(params.map(([, p]) => p), 1);
  optimizer.step();
  optimizer.zeroGrad();
  if (step % 150 === 0) {
    console.log(`step ${step}: loss ${(lossSum / 150).toFixed(3)}, colour distance ${colourDistance().toFixed(1)}`);
    lossSum = 0;
  }
}
