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
