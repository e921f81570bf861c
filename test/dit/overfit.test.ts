import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, Tensor, noGrad } from '../../src/engine/index.js';
import { DiT } from '../../src/models/dit/index.js';
import type { TextCondition } from '../../src/models/dit/index.js';
import { AdamW, clipGradNorm, warmupCosine } from '../../src/optim/index.js';
import { FlowEulerScheduler, addNoise, flowMatchingLoss, sampleLogitNormal, velocityTarget } from '../../src/diffusion/index.js';

function repeat(t: Tensor, n: number): Tensor {
  const out = new Float32Array(t.size * n);
  for (let i = 0; i < n; i++) out.set(t.data, i * t.size);
  return Tensor.from(out, [n * t.shape[0]!, ...t.shape.slice(1)]);
}

function sampleEuler(model: DiT, text: TextCondition, shape: number[], rng: Rng, steps: number): Tensor {
  const scheduler = new FlowEulerScheduler();
  scheduler.setTimesteps(steps);
  let x = Tensor.randn(shape, rng);
  noGrad(() => {
    for (const t of scheduler.timesteps) x = scheduler.step(model.forward({ latents: x, timesteps: [t], text }), t, x);
  });
  return x;
}

function relativeError(a: Tensor, b: Tensor): number {
  let err = 0, norm = 0;
  for (let i = 0; i < a.size; i++) {
    err += (a.data[i]! - b.data[i]!) ** 2;
    norm += b.data[i]! ** 2;
  }
  return Math.sqrt(err / norm);
}

test('a tiny DiT memorises one latent clip and its Euler sample reproduces it', () => {
  const rng = new Rng(0);
  const model = new DiT(
    { latentChannels: 4, hiddenSize: 32, depth: 2, numHeads: 2, mlpRatio: 4, textDim: 16, timestepFeatures: 32 },
    rng.fork('model'),
  );
  const data = rng.fork('data');
  const clip = Tensor.randn([1, 4, 2, 4, 4], data); // 2 latent frames of 4x4: 8 tokens
  const caption: TextCondition = { tokens: Tensor.randn([1, 3, 16], data), pooled: Tensor.randn([1, 16], data), mask: null };

  const before = relativeError(sampleEuler(model, caption, [1, 4, 2, 4, 4], rng.fork('sample'), 20), clip);

  const B = 4;
  const clips = repeat(clip, B);
  const captions: TextCondition = { tokens: repeat(caption.tokens, B), pooled: repeat(caption.pooled, B), mask: null };
  const steps = 400;
  const opt = new AdamW(model.namedParameters(), { lr: 5e-3, weightDecay: 0 });
  const lr = warmupCosine({ baseLr: 5e-3, warmupSteps: 10, totalSteps: steps });
  const noise = rng.fork('noise');
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    const eps = Tensor.randn(clips.shape, noise);
    const t = sampleLogitNormal(noise, B);
    const pred = model.forward({ latents: addNoise(clips, eps, t), timesteps: t, text: captions });
    const loss = flowMatchingLoss(pred, velocityTarget(clips, eps));
    opt.zeroGrad();
    loss.backward();
    clipGradNorm(model.parameters(), 1);
    opt.lr = lr(step);
    opt.step();
    losses.push(loss.item());
  }
  const first = losses.slice(0, 20).reduce((a, b) => a + b) / 20;
  const last = losses.slice(-40).reduce((a, b) => a + b) / 40;
  assert.ok(last < 0.1 && last < first / 15, `loss ${first.toFixed(3)} -> ${last.toFixed(3)}`);

  const after = relativeError(sampleEuler(model, caption, [1, 4, 2, 4, 4], rng.fork('sample'), 20), clip);
  assert.ok(after < 0.2 && after < before / 5, `sample error ${before.toFixed(3)} -> ${after.toFixed(3)}`);
});
