import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, Tensor, noGrad } from '../../src/engine/index.js';
import {
  addNoise,
  combineGuidance,
  flowMatchingLoss,
  guidedVelocity,
  resolutionShift,
  sampleLogitNormal,
  sampleTrainingTimes,
  shiftTime,
  temporalDifferenceLoss,
  unconditionedWeight,
  velocityTarget,
  flowTrainingBatch,
} from '../../src/diffusion/index.js';

test('x_t interpolates data and noise; x_t - t v recovers the data', () => {
  const rng = new Rng(1);
  const x0 = Tensor.randn([2, 3, 4], rng);
  const eps = Tensor.randn([2, 3, 4], rng);
  const t = [0, 0.7];
  const xt = addNoise(x0, eps, t);
  assert.deepEqual(xt.toArray().slice(0, 12), x0.toArray().slice(0, 12));
  const v = velocityTarget(x0, eps);
  for (let i = 12; i < 24; i++) {
    assert.ok(Math.abs(xt.data[i]! - 0.7 * v.data[i]! - x0.data[i]!) < 1e-5);
    assert.ok(Math.abs(xt.data[i]! + 0.3 * v.data[i]! - eps.data[i]!) < 1e-5);
  }
  assert.throws(() => addNoise(x0, eps, [0.5]), /t: expected one time per sample/);
});

test('logit-normal times lie in (0, 1) and centre on sigmoid(mean)', () => {
  const t = sampleLogitNormal(new Rng(2), 4000);
  assert.ok(t.every((v) => v > 0 && v < 1));
  const sorted = Array.from(t).sort((a, b) => a - b);
  assert.ok(Math.abs(sorted[2000]! - 0.5) < 0.03);
  const shifted = Array.from(sampleLogitNormal(new Rng(2), 4000, { mean: 1 })).sort((a, b) => a - b);
  assert.ok(Math.abs(shifted[2000]! - 1 / (1 + Math.exp(-1))) < 0.03);
});

test('training times: a uniform fraction reaches high noise the logit-normal almost never visits; none is the logit-normal itself', () => {
  assert.deepEqual(sampleTrainingTimes(new Rng(3), 500), sampleLogitNormal(new Rng(3), 500), 'fraction 0 draws the same numbers');
  assert.deepEqual(sampleTrainingTimes(new Rng(3), 500, { uniformFraction: 0 }), sampleLogitNormal(new Rng(3), 500));
  const above = (t: Float32Array, x: number) => t.filter((v) => v > x).length / t.length;
  const n = 20000;
  const plain = sampleLogitNormal(new Rng(4), n);
  const mixed = sampleTrainingTimes(new Rng(4), n, { uniformFraction: 0.5 });
  assert.ok(mixed.every((v) => v >= 0 && v <= 1));
  // logit-normal: P(t > 0.95) = P(z > 2.94) = 0.16%; half uniform: 0.5 * 5% + 0.5 * 0.16% = 2.6%
  assert.ok(above(plain, 0.95) < 0.004, `${above(plain, 0.95)}`);
  assert.ok(Math.abs(above(mixed, 0.95) - 0.026) < 0.005, `${above(mixed, 0.95)}`);
  const all = sampleTrainingTimes(new Rng(5), n, { uniformFraction: 1 });
  assert.ok(Math.abs(above(all, 0.9) - 0.1) < 0.01 && Math.abs(above(all, 0.5) - 0.5) < 0.015, 'fraction 1 is uniform');
});

test('time shift keeps endpoints, is monotone and matches s t / (1 + (s-1) t)', () => {
  assert.equal(shiftTime(0, 3), 0);
  assert.equal(shiftTime(1, 3), 1);
  assert.ok(Math.abs(shiftTime(0.5, 3) - 0.75) < 1e-12);
  assert.equal(shiftTime(0.3, 1), 0.3);
  let prev = -1;
  for (let i = 0; i <= 100; i++) {
    const v = shiftTime(i / 100, 2.5);
    assert.ok(v > prev && v >= i / 100 - 1e-12);
    prev = v;
  }
  assert.equal(resolutionShift(256), 1);
  assert.equal(resolutionShift(1024), 2);
  assert.equal(resolutionShift(64), 1, 'clamped at 1 for small latents');
  assert.ok(resolutionShift(1280) > resolutionShift(320));
});

test('flow matching loss: weighted mean that ignores conditioned frames', () => {
  const pred = Tensor.zeros([1, 1, 2, 1, 2]);
  pred.requiresGrad = true;
  const target = Tensor.from([1, 1, 5, 5], [1, 1, 2, 1, 2]);
  assert.ok(Math.abs(flowMatchingLoss(pred, target).item() - 13) < 1e-6); // (1+1+25+25)/4
  const w = unconditionedWeight([1, 1, 2, 1, 2], [0, 1]); // frame 1 is given
  assert.deepEqual(w.toArray(), [1, 1, 0, 0]);
  const loss = flowMatchingLoss(pred, target, w);
  assert.ok(Math.abs(loss.item() - 1) < 1e-6);
  loss.backward();
  assert.deepEqual(pred.grad!.toArray().map((g) => g + 0), [-1, -1, 0, 0]); // d/dp (p-1)^2 / 2 = p-1; +0 folds -0
  assert.throws(() => flowMatchingLoss(pred, target, Tensor.zeros([1, 1, 2, 1, 2])), /all loss weights are zero/);
});

test('flicker loss: an error shared by every latent frame costs nothing; one that changes costs t^2 times its change', () => {
  // [B=2, C=1, T=3, H=1, W=2]; the target is zero, so the error is the prediction
  const target = Tensor.zeros([2, 1, 3, 1, 2]);
  const steady = Tensor.from([1, -2, 1, -2, 1, -2, 3, 3, 3, 3, 3, 3], [2, 1, 3, 1, 2]);
  assert.equal(temporalDifferenceLoss(steady, target, [0.5, 0.9])!.item(), 0);
  // sample 0 changes by (1, 0) then (0, 2) at t = 0.5; sample 1 by (-1, -1) then (1, 1) at t = 1
  const flicker = Tensor.from([0, 0, 1, 0, 1, 2, 5, 5, 4, 4, 5, 5], [2, 1, 3, 1, 2]);
  const expected = (0.25 * (1 + 4) + 1 * (1 + 1 + 1 + 1)) / 8;
  assert.ok(Math.abs(temporalDifferenceLoss(flicker, target, [0.5, 1])!.item() - expected) < 1e-6);
  // the same change in the target as in the prediction is no error
  assert.equal(temporalDifferenceLoss(flicker, flicker, [0.5, 1])!.item(), 0);
});

test('flicker loss: pairs touching a given frame are left out; nothing to compare gives null', () => {
  const target = Tensor.zeros([2, 1, 3, 1, 2]);
  const flicker = Tensor.from([0, 0, 1, 0, 1, 2, 5, 5, 4, 4, 5, 5], [2, 1, 3, 1, 2]);
  // sample 0 gives its first frame (only the pair 1-2 counts); sample 1 gives its last (only 0-1 counts)
  const mask = [1, 0, 0, 0, 0, 1];
  const expected = (0.25 * 4 + 1 * 2) / 4;
  assert.ok(Math.abs(temporalDifferenceLoss(flicker, target, [0.5, 1], mask)!.item() - expected) < 1e-6);
  assert.equal(temporalDifferenceLoss(flicker, target, [0.5, 1], [1, 1, 1, 0, 1, 0]), null);
  assert.equal(temporalDifferenceLoss(Tensor.ones([2, 1, 1, 1, 2]), Tensor.zeros([2, 1, 1, 1, 2]), [0.5, 1]), null);
  assert.throws(() => temporalDifferenceLoss(flicker, target, [0.5]), /t: expected one time per sample/);
  assert.throws(() => temporalDifferenceLoss(flicker, target, [0.5, 1], [0, 0]), /frameMask: expected 6 entries/);
});

test('flicker loss: its gradient matches central differences', () => {
  const rng = new Rng(7);
  const pred = Tensor.randn([2, 2, 3, 2, 2], rng, 1, 'float64').requireGrad();
  const target = Tensor.randn([2, 2, 3, 2, 2], rng, 1, 'float64');
  const t = [0.3, 0.8];
  const mask = [0, 0, 1, 0, 0, 0];
  temporalDifferenceLoss(pred, target, t, mask)!.backward();
  const h = 1e-6;
  for (let i = 0; i < pred.size; i += 5) {
    const keep = pred.data[i]!;
    pred.data[i] = keep + h;
    const up = noGrad(() => temporalDifferenceLoss(pred, target, t, mask)!.item());
    pred.data[i] = keep - h;
    const down = noGrad(() => temporalDifferenceLoss(pred, target, t, mask)!.item());
    pred.data[i] = keep;
    assert.ok(Math.abs((up - down) / (2 * h) - pred.grad!.data[i]!) < 1e-6, `element ${i}`);
  }
});

test('guidance: uncond + s (cond - uncond) from one doubled forward pass', () => {
  const x = Tensor.from([1, 2], [1, 2]);
  let calls = 0;
  const v = guidedVelocity(x, 3, (doubled) => {
    calls++;
    assert.deepEqual(doubled.shape, [2, 2]);
    // cond branch returns 2x, uncond branch returns x
    return Tensor.from([2 * doubled.data[0]!, 2 * doubled.data[1]!, doubled.data[2]!, doubled.data[3]!], [2, 2]);
  });
  assert.equal(calls, 1);
  assert.deepEqual(v.toArray(), [1 + 3 * 1, 2 + 3 * 2]);
  assert.deepEqual(combineGuidance(Tensor.from([4, 0], [2, 1]), 1).toArray(), [4]);
  const single = guidedVelocity(x, 1, () => assert.fail('no pair pass at scale 1'), (y) => y);
  assert.equal(single, x);
});

test('training batch: shifted logit-normal times, and given frames out of the loss', () => {
  const rng = new Rng(5);
  const x0 = Tensor.randn([2, 3, 2, 2, 2], rng);
  const b = flowTrainingBatch(x0, rng, { shift: 3, frameMask: [1, 0, 0, 0] });
  assert.equal(b.t.length, 2);
  assert.ok(b.t.every((t) => t > 0 && t < 1));
  assert.deepEqual(b.xt.toArray(), addNoise(x0, b.noise, b.t).toArray());
  assert.deepEqual(b.target.toArray(), velocityTarget(x0, b.noise).toArray());
  const plane = 4;
  for (let c = 0; c < 3; c++) {
    assert.equal(b.weight!.data[(c * 2 + 0) * plane], 0); // sample 0, frame 0: given
    assert.equal(b.weight!.data[(c * 2 + 1) * plane], 1);
    assert.equal(b.weight!.data[24 + (c * 2) * plane], 1); // sample 1: nothing given
  }
  assert.equal(flowTrainingBatch(x0, new Rng(5)).weight, undefined);
  // the shift pushes times towards noise: compare medians over many draws
  const median = (shift: number) => {
    const ts = Array.from({ length: 200 }, (_, i) => flowTrainingBatch(Tensor.zeros([1, 1]), new Rng(i), { shift }).t[0]!).sort((p, q) => p - q);
    return ts[100]!;
  };
  assert.ok(median(3) > median(1) + 0.15);
});
