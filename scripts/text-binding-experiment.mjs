// How fast does a small DiT learn a flat background's colour from its caption? Trains a fresh tiny DiT (128 wide,
// 2 blocks) and a world-sized text encoder (128 wide, 2 layers) on 32x32 still images of flat-background scenes,
// with the bundled VAE frozen, and every 150 steps asks it for the clean image from nearly pure noise for seven
// captions that differ only in the background's colour (as scripts/probe-background-colour.mjs does for a model
// folder). Prints the mean distance of the predicted colours from the rendered ones (lower is better; about 125
// means the caption's colour word is ignored).
// Usage: node scripts/text-binding-experiment.mjs [--captions full|bare|mixed|named] [--pretrain STEPS] [--steps N]
//   [--noise-offset STD] [--text-positions learned|rotary] [--uniform-time FRACTION] [--text-path both|tokens|pooled]
//   [--cross-attention-gain G]
//   --captions bare: every caption is just "a flat <colour> background"; full (default): the world's own captions;
//   mixed: half of each (the probe then uses full captions, so it measures whether bare ones teach the full);
//   named: the world's own captions, only those that name the background's colour (short ones often do not).
//   --pretrain: steps of scene-fact pretraining for the text encoder first (src/train/text-pretrain.ts; 0 = none).
//   --noise-offset: std of the offset noise the DiT trains with (data.noiseOffset of a run config; 0 = none).
//   --text-positions: the text encoder's positions, a learned table (the default) or rotary embeddings.
//   --uniform-time: fraction of samples whose flow time is drawn uniformly (data.uniformTimeFraction; 0 = none).
//   --text-path: what of the caption reaches the DiT: both (the default), only the token features (cross-attention;
//   the pooled vector zeroed) or only the pooled vector (adaLN; the token features zeroed).
//   --cross-attention-gain: starting gain of the cross-attention's query and key RMS norms (1 = the model's own).
//   With both normalised, a head's logits are at most sqrt(head width) times the two gains (5.7 here), so a larger
//   gain lets a query single out one word of a long caption from the start.
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
  ({ values } = parseArgs({ options: { captions: { type: 'string', default: 'full' }, pretrain: { type: 'string', default: '0' }, steps: { type: 'string', default: '600' }, 'noise-offset': { type: 'string', default: '0' }, 'text-positions': { type: 'string', default: 'learned' }, 'uniform-time': { type: 'string', default: '0' }, 'text-path': { type: 'string', default: 'both' }, 'cross-attention-gain': { type: 'string', default: '1' } } }));
} catch (e) {
  fail(e.message);
}
/** The value of a flag that takes one of `choices`. */
const choice = (flag, choices) => {
  if (!choices.includes(values[flag])) fail(`--${flag}: expected one of ${choices.join(', ')}, got ${values[flag]}`);
  return values[flag];
};
/** The value of a numeric flag, which must satisfy ok(value, text); `expected` says what it must be. */
const number = (flag, ok, expected) => {
  const v = Number(values[flag]);
  if (values[flag].trim() === '' || !ok(v, values[flag])) fail(`--${flag}: expected ${expected}, got ${values[flag]}`);
  return v;
};
const textPath = choice('text-path', ['both', 'tokens', 'pooled']);
const textPositions = choice('text-positions', ['learned', 'rotary']);
const captions = choice('captions', ['full', 'bare', 'mixed', 'named']);
const wholeNumber = (_v, text) => /^\d+$/.test(text);
const pretrainSteps = number('pretrain', wholeNumber, 'a whole number of steps');
const steps = number('steps', wholeNumber, 'a whole number of steps');
const noiseOffset = number('noise-offset', (v) => v >= 0 && v <= 1, 'a number from 0 to 1');
const uniformTimeFraction = number('uniform-time', (v) => v >= 0 && v <= 1, 'a fraction from 0 to 1');
const crossAttentionGain = number('cross-attention-gain', (v) => v > 0, 'a positive number');
const bare = captions === 'bare';
const size = 32;
const levels = { short: 0.4, medium: 0.3, dense: 0.3 };

const { vae, tokenizer } = await loadModel('models/tessera-world', { only: ['vae', 'tokenizer'] });
const transformer = new DiT({ latentChannels: 4, patchSize: [1, 2, 2], hiddenSize: 128, depth: 2, numHeads: 4, textDim: 128, framePositionFrequencies: 4 }, new Rng(1));
const textEncoder = new TextEncoder({ vocabSize: tokenizer.vocabSize, width: 128, layers: 2, heads: 4, maxLength: 64, positions: textPositions }, new Rng(2));
if (pretrainSteps > 0) {
  const accuracy = pretrainTextEncoder(textEncoder, tokenizer, { steps: pretrainSteps, seed: 1, captionLevels: levels });
  console.log(`pretrained ${pretrainSteps} steps: background colour ${(100 * accuracy.background_colour).toFixed(1)}%, first subject's colour ${(100 * accuracy.colour).toFixed(1)}%`);
}

for (const block of transformer.blocks) {
  block.crossAttn.qNorm.weight.data.fill(crossAttentionGain);
  block.crossAttn.kNorm.weight.data.fill(crossAttentionGain);
}

// cut one of the two ways the caption reaches the DiT, in training and in the probe alike
if (textPath !== 'both') {
  const encode = textEncoder.forward.bind(textEncoder);
  textEncoder.forward = (batch) => {
    const out = encode(batch);
    return textPath === 'tokens' ? { ...out, pooled: out.pooled.mul(0) } : { ...out, tokens: out.tokens.mul(0) };
  };
}

/** Whether a caption says the flat background's colour (the world's phrases: SOLID_PHRASES in world/caption.ts). */
const namesBackgroundColour = (caption, colour) => new RegExp(`\\b${colour} (background|backdrop)\\b`).test(caption);

// only flat-background scenes, so every step carries the signal
const stream = new WorldDataset({ buckets: [{ width: size, height: size, frames: 1 }], seed: 7, captionLevels: levels });
const source = {
  async nextBatch(_bucket, n) {
    const clips = [];
    const captions = [];
    while (clips.length < n) {
      const s = stream.next();
      if (s.spec.background.kind !== 'solid') continue;
      if (captions === 'named' && !namesBackgroundColour(s.caption, s.spec.background.colour)) continue;
      const bareCaption = bare || (captions === 'mixed' && clips.length % 2 === 0);
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
  captionDropout: 0.1, conditionRate: 0, objectWeight: 0, noiseCorrelation: 0, noiseOffset, uniformTimeFraction, shiftBaseTokens: 80, maxShift: 4,
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
for (let step = 1; step <= steps; step++) {
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
