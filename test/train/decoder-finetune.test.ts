/** Fine-tuning a VAE's decoder on noisy latents, with the encoder (and so the latent space) left exactly as it was. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TesseraError } from '../../src/errors.js';
import { parseTrainConfig } from '../../src/train/config.js';
import { runTraining } from '../../src/train/run.js';
import { CausalVideoVAE } from '../../src/models/vae/index.js';

const work = mkdtempSync(join(tmpdir(), 'tessera-decoder-'));
const data = { buckets: [{ width: 32, height: 32, frames: 5, batch: 2 }] };

test('a frozen-encoder run with latent noise changes the decoder only and keeps the latent scaling', async () => {
  const base = join(work, 'base');
  await runTraining(parseTrainConfig({
    task: 'vae', runDir: base, seed: 3, preset: 'tiny', data,
    optim: { lr: 0.002, warmupSteps: 1, totalSteps: 3 }, checkpointEvery: 3, logEvery: 1,
  }));
  const tuned = join(work, 'tuned');
  await runTraining(parseTrainConfig({
    task: 'vae', runDir: tuned, seed: 4, preset: 'tiny', data, initFrom: join(base, 'export', 'vae'),
    vaeLoss: { latentNoise: 0.5, freezeEncoder: true },
    optim: { lr: 0.002, warmupSteps: 1, totalSteps: 3, emaDecay: 0 }, checkpointEvery: 3, logEvery: 1,
  }));
  const before = await CausalVideoVAE.fromPretrained(join(base, 'export', 'vae'));
  const after = await CausalVideoVAE.fromPretrained(join(tuned, 'export', 'vae'));
  assert.equal(after.config.scalingFactor, before.config.scalingFactor);
  assert.equal(after.config.shiftFactor, before.config.shiftFactor);
  const was = new Map(before.namedParameters());
  let decoderChanged = 0;
  for (const [name, p] of after.namedParameters()) {
    const same = p.data.every((v, i) => v === was.get(name)!.data[i]);
    if (name.startsWith('encoder.')) assert.ok(same, `${name} must not change`);
    else if (!same) decoderChanged++;
  }
  assert.ok(decoderChanged > 0, 'the decoder learned');
});

test('vaeLoss config errors name the field', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ vaeLoss: { freezeEncoder: true } }, /vaeLoss\.freezeEncoder: a frozen encoder needs a trained VAE/],
    [{ vaeLoss: { freezeEncoder: 'yes' }, initFrom: 'x' }, /vaeLoss\.freezeEncoder: expected true or false/],
    [{ vaeLoss: { latentNoise: -0.1 } }, /vaeLoss\.latentNoise: expected a number >= 0/],
    [{ vaeLoss: [] }, /vaeLoss: expected/],
    [{ vaeLoss: { motionWeight: -1 } }, /vaeLoss\.motionWeight: expected a number >= 0/],
    [{ vaeLoss: { motionWieght: 5 } }, /motionWieght/],
  ];
  for (const [extra, re] of cases) {
    const json = { task: 'vae', runDir: 'x', preset: 'tiny', data, optim: { lr: 0.1, totalSteps: 1 }, ...extra };
    assert.throws(() => parseTrainConfig(json, 'cfg'), (e: unknown) => e instanceof TesseraError && re.test(e.message), JSON.stringify(extra));
  }
});

test('latent noise reaches the decoder: the same clip decodes differently, and more so at larger noise', async () => {
  const { Rng, Tensor } = await import('../../src/engine/index.js');
  const { vaeLoss } = await import('../../src/models/vae/index.js');
  const vae = new CausalVideoVAE({ channels: [8, 8, 16], groups: 4, latentChannels: 4 }, new Rng(1));
  const x = Tensor.rand([2, 3, 5, 32, 32], new Rng(2)).mul(2).sub(1);
  const decode = (latentNoise: number) => vaeLoss(vae, x, { rng: new Rng(5), useMean: true, latentNoise }).output;
  const clean = decode(0);
  const distance = (a: typeof clean) => {
    let sum = 0;
    for (let i = 0; i < a.size; i++) sum += Math.abs(a.data[i]! - clean.data[i]!);
    return sum;
  };
  assert.equal(distance(decode(0)), 0);
  const small = distance(decode(0.1));
  const large = distance(decode(1));
  assert.ok(small > 0 && large > small, `${small} then ${large}`);
});

test('motion weights: 1 on still pixels, 1 + weight × half the largest change to a neighbouring frame elsewhere', async () => {
  const { Tensor } = await import('../../src/engine/index.js');
  const { motionWeights } = await import('../../src/models/vae/index.js');
  // one clip, 2 channels, 3 frames of 1×2 pixels; pixel 0 still, pixel 1 changes by 1 (channel 0) then by 2 (channel 1)
  const x = Tensor.from([
    0.5, -1, 0.5, 0, 0.5, 0, // channel 0, frames 0..2
    0, 1, 0, 1, 0, -1, // channel 1
  ], [1, 2, 3, 1, 2]);
  const w = motionWeights(x, 10);
  assert.deepEqual(w.shape, [1, 1, 3, 1, 2]);
  // frame 0 sees frame 1 (change 1 → 1 + 10·0.5); frame 1 sees both (largest 2 → 1 + 10·1); frame 2 sees frame 1 (2)
  assert.deepEqual(Array.from(w.data), [1, 6, 1, 11, 1, 11]);
  const image = motionWeights(Tensor.from([0.3, -0.7, 0.1], [1, 3, 1, 1, 1]), 10);
  assert.deepEqual(Array.from(image.data), [1]);
});

test('the motion-weighted loss is Σ w·|error| / (channels · Σ w), and plain L1 at weight 0 or on a still clip', async () => {
  const { Rng, Tensor } = await import('../../src/engine/index.js');
  const { vaeLoss, motionWeights } = await import('../../src/models/vae/index.js');
  const vae = new CausalVideoVAE({ channels: [8, 8, 16], groups: 4, latentChannels: 4 }, new Rng(1));
  const loss = (x: InstanceType<typeof Tensor>, motionWeight: number) => vaeLoss(vae, x, { rng: new Rng(5), useMean: true, motionWeight });
  const moving = Tensor.rand([1, 3, 5, 32, 32], new Rng(3)).mul(2).sub(1);
  const plain = loss(moving, 0);
  const weighted = loss(moving, 20);
  const w = motionWeights(moving, 20);
  let num = 0;
  let den = 0;
  const plane = 5 * 32 * 32;
  for (let i = 0; i < plane; i++) den += w.data[i]!;
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < plane; i++) num += w.data[i]! * Math.abs(plain.output.data[c * plane + i]! - moving.data[c * plane + i]!);
  }
  assert.ok(Math.abs(weighted.reconstruction - num / (3 * den)) < 1e-5, `${weighted.reconstruction} vs ${num / (3 * den)}`);
  assert.notEqual(weighted.reconstruction, plain.reconstruction);
  const still = Tensor.rand([1, 3, 1, 32, 32], new Rng(2)).mul(2).sub(1).repeatInterleave(5, 2);
  assert.ok(Math.abs(loss(still, 20).reconstruction - loss(still, 0).reconstruction) < 1e-6);
});
