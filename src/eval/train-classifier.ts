/**
 * Trains the world classifier on rendered single-object clips and saves it to models/world-classifier/.
 *
 *   npx tsx src/eval/train-classifier.ts [--train 2400] [--test 600] [--epochs 4] [--out models/world-classifier]
 *
 * Train and test scenes come from disjoint seed ranges; scenes with a held-out colour x shape x motion triple are
 * skipped, as in training the video model. Clips are rendered at 64x64x16 and resampled once to the classifier's
 * input grid, so an epoch costs only the network. Prints per-attribute test accuracy, which also goes into
 * config.json.
 */
import { parseArgs } from 'node:util';
import { Rng, Tensor, getKernels } from '../engine/index.js';
import type { VideoClip } from '../media/types.js';
import { AdamW, warmupCosine } from '../optim/index.js';
import { renderScene } from '../world/render.js';
import { randomSpec, type SceneSpec } from '../world/spec.js';
import {
  ATTRIBUTES, WorldClassifier, classifyClips, defaultClassifierConfig, labelsOf, saveClassifier, writeClipInput,
  type Attribute, type WorldClassifierConfig,
} from './classifier.js';
import { hasHeldOutCombination } from './held-out.js';

interface Dataset {
  /** Clips already resampled to the classifier's grid (frames x size x size). */
  clips: VideoClip[];
  specs: SceneSpec[];
}

const TEST_SEED_OFFSET = 1_000_000;

/** Renders `count` single-object scenes from seeds firstSeed, firstSeed+1, ... skipping held-out triples. */
function renderDataset(count: number, firstSeed: number, config: WorldClassifierConfig, log: (s: string) => void): Dataset {
  const clips: VideoClip[] = [];
  const specs: SceneSpec[] = [];
  const grid = { frames: config.frames, size: config.size };
  const floats = new Float32Array(3 * config.frames * config.size * config.size);
  for (let seed = firstSeed; clips.length < count; seed++) {
    const spec = randomSpec(seed, { maxObjects: 1, width: 64, height: 64, frames: 16 });
    if (hasHeldOutCombination(spec)) continue;
    writeClipInput(renderScene(spec), grid, floats);
    clips.push(floatsToClip(floats, config));
    specs.push(spec);
    if (clips.length % 500 === 0) log(`rendered ${clips.length}/${count}`);
  }
  return { clips, specs };
}

/** The [3, T, S, S] input back as an 8-bit clip of the same grid (4x smaller to keep than floats). */
function floatsToClip(x: Float32Array, { frames: T, size: S }: WorldClassifierConfig): VideoClip {
  const data = new Uint8Array(T * S * S * 3);
  const plane = T * S * S;
  for (let i = 0; i < plane; i++) {
    for (let ch = 0; ch < 3; ch++) data[i * 3 + ch] = Math.round(Math.min(255, Math.max(0, (x[ch * plane + i]! + 1) * 127.5)));
  }
  return { frames: T, height: S, width: S, fps: 8, data };
}

function batchOf(data: Dataset, indices: number[], config: WorldClassifierConfig): { x: Tensor; targets: Record<Attribute, Int32Array> } {
  const each = 3 * config.frames * config.size * config.size;
  const x = new Float32Array(indices.length * each);
  const targets = Object.fromEntries(ATTRIBUTES.map((a) => [a, new Int32Array(indices.length)])) as Record<Attribute, Int32Array>;
  indices.forEach((idx, i) => {
    writeClipInput(data.clips[idx]!, config, x, i * each);
    const labels = labelsOf(data.specs[idx]!, config);
    for (const a of ATTRIBUTES) targets[a][i] = labels[a];
  });
  return { x: Tensor.from(x, [indices.length, 3, config.frames, config.size, config.size]), targets };
}

export function accuracy(model: WorldClassifier, data: Dataset): Record<Attribute, number> {
  const predictions = classifyClips(model, data.clips, 32);
  const correct = Object.fromEntries(ATTRIBUTES.map((a) => [a, 0])) as Record<Attribute, number>;
  predictions.forEach((p, i) => {
    const truth = labelsOf(data.specs[i]!, model.config);
    for (const a of ATTRIBUTES) if (p.labels[a] === model.config.labels[a][truth[a]]) correct[a]++;
  });
  for (const a of ATTRIBUTES) correct[a] = Math.round((1000 * correct[a]) / data.clips.length) / 1000;
  return correct;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      train: { type: 'string', default: '2400' },
      test: { type: 'string', default: '600' },
      epochs: { type: 'string', default: '4' },
      batch: { type: 'string', default: '32' },
      lr: { type: 'string', default: '0.003' },
      seed: { type: 'string', default: '0' },
      out: { type: 'string', default: 'models/world-classifier' },
    },
  });
  const log = (s: string) => process.stderr.write(`[classifier] ${s}\n`);
  const config = defaultClassifierConfig();
  const started = performance.now();
  const seconds = () => ((performance.now() - started) / 1000).toFixed(0);

  const train = renderDataset(Number(values.train), 0, config, log);
  const test = renderDataset(Number(values.test), TEST_SEED_OFFSET, config, log);
  log(`rendered ${train.clips.length} train + ${test.clips.length} test clips in ${seconds()} s`);

  const rng = new Rng(Number(values.seed));
  const model = new WorldClassifier(config, rng.fork('init'));
  log(`${model.numParameters()} parameters, ${getKernels().name} kernels`);
  const batch = Number(values.batch);
  const stepsPerEpoch = Math.floor(train.clips.length / batch);
  const totalSteps = stepsPerEpoch * Number(values.epochs);
  const lrAt = warmupCosine({ baseLr: Number(values.lr), warmupSteps: Math.min(50, totalSteps >> 3), totalSteps, minLr: Number(values.lr) / 20 });
  const optimiser = new AdamW(model.namedParameters(), { lr: lrAt(0), weightDecay: 0.01 });
  const order = rng.fork('shuffle');

  let step = 0;
  let smoothed = NaN;
  for (let epoch = 0; epoch < Number(values.epochs); epoch++) {
    const perm = Array.from({ length: train.clips.length }, (_, i) => i);
    for (let i = perm.length - 1; i > 0; i--) {
      const j = order.int(i + 1);
      [perm[i], perm[j]] = [perm[j]!, perm[i]!];
    }
    for (let b = 0; b < stepsPerEpoch; b++, step++) {
      const { x, targets } = batchOf(train, perm.slice(b * batch, (b + 1) * batch), config);
      optimiser.lr = lrAt(step);
      optimiser.zeroGrad();
      const { loss } = model.loss(x, targets);
      loss.backward();
      optimiser.step();
      smoothed = Number.isNaN(smoothed) ? loss.item() : 0.95 * smoothed + 0.05 * loss.item();
      if (step % 25 === 0) log(`step ${step}/${totalSteps} loss ${smoothed.toFixed(3)} (${seconds()} s)`);
    }
    model.eval();
    log(`epoch ${epoch + 1}: test accuracy ${JSON.stringify(accuracy(model, test))} (${seconds()} s)`);
    model.train();
  }

  model.eval();
  const testAccuracy = accuracy(model, test);
  const trainAccuracy = accuracy(model, { clips: train.clips.slice(0, test.clips.length), specs: train.specs.slice(0, test.clips.length) });
  await saveClassifier(model, values.out!, {
    training: {
      trainClips: train.clips.length, testClips: test.clips.length, epochs: Number(values.epochs), batch,
      steps: totalSteps, seconds: Number(seconds()), testAccuracy, trainAccuracy,
      data: 'randomSpec single-object scenes, 64x64x16 rendered, held-out triples excluded; test seeds from 1e6',
    },
  });
  console.log(JSON.stringify({ out: values.out, parameters: model.numParameters(), testAccuracy, trainAccuracy, seconds: Number(seconds()) }));
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
