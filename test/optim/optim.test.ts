import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, Tensor } from '../../src/engine/index.js';
import { Linear, Module, parameter } from '../../src/nn/index.js';
import { AdamW, EMA, clipGradNorm, warmupCosine } from '../../src/optim/index.js';

/** Sets grad = 2 (p - target), the gradient of |p - target|^2. */
function quadraticGrad(p: Tensor, target: number[]): void {
  p.grad = Tensor.from(Array.from(p.data, (v, i) => 2 * (v - target[i]!)), p.shape);
}

test('AdamW: first step moves each weight by lr against its gradient sign; decay only on matrices', () => {
  const w = parameter(Tensor.from([1, -1, 2, 0.5], [2, 2]));
  const b = parameter(Tensor.from([1, 1], [2]));
  const opt = new AdamW([['w', w], ['b', b]], { lr: 0.1, weightDecay: 0.5 });
  w.grad = Tensor.from([3, -0.001, 100, -2], [2, 2]);
  b.grad = Tensor.from([1, -1], [2]);
  opt.step();
  // bias-corrected first step is +-lr; decoupled decay subtracts lr * wd * p on matrices only
  const expectW = [1 - 0.1 - 0.05 * 1, -1 + 0.1 - 0.05 * -1, 2 - 0.1 - 0.05 * 2, 0.5 + 0.1 - 0.05 * 0.5];
  w.toArray().forEach((v, i) => assert.ok(Math.abs(v - expectW[i]!) < 1e-4, `w[${i}] = ${v}, expected ${expectW[i]}`));
  b.toArray().forEach((v, i) => assert.ok(Math.abs(v - [0.9, 1.1][i]!) < 1e-4));
});

test('AdamW minimises a quadratic and skips parameters without gradients', () => {
  const p = parameter(Tensor.from([5, -3, 0], [3]));
  const frozen = parameter(Tensor.from([7], [1]));
  const opt = new AdamW([['p', p], ['frozen', frozen]], { lr: 0.05, weightDecay: 0 });
  const target = [1, 2, -1];
  for (let i = 0; i < 600; i++) {
    quadraticGrad(p, target);
    opt.step();
    opt.zeroGrad();
  }
  p.toArray().forEach((v, i) => assert.ok(Math.abs(v - target[i]!) < 0.05, `p[${i}] = ${v}`));
  assert.equal(frozen.data[0], 7);
});

test('AdamW state round trip resumes bit-exactly', () => {
  const make = () => parameter(Tensor.from([1, 2, 3, 4], [2, 2]));
  const a = make();
  const optA = new AdamW([['a', a]], { lr: 0.01 });
  for (let i = 0; i < 5; i++) { quadraticGrad(a, [0, 0, 0, 0]); optA.step(); }
  const saved = optA.state();
  const snapshot = a.data.slice();
  quadraticGrad(a, [0, 0, 0, 0]); optA.step();
  const b = make();
  b.data.set(snapshot);
  const optB = new AdamW([['a', b]], { lr: 0.5 });
  optB.loadState(saved);
  assert.equal(optB.stepCount, 5);
  assert.equal(optB.lr, 0.01);
  quadraticGrad(b, [0, 0, 0, 0]); optB.step();
  assert.deepEqual(b.toArray(), a.toArray());
  assert.throws(() => optB.loadState({ ...saved, m: {} }), /no moments for parameter a/);
});

test('clipGradNorm returns the global norm and scales down to maxNorm', () => {
  const a = parameter(Tensor.zeros([2]));
  const b = parameter(Tensor.zeros([1]));
  a.grad = Tensor.from([3, 0], [2]);
  b.grad = Tensor.from([4], [1]);
  assert.equal(clipGradNorm([a, b], 10), 5);
  assert.deepEqual(b.grad.toArray(), [4]); // under the limit: untouched
  const norm = clipGradNorm([a, b], 1);
  assert.equal(norm, 5);
  const after = Math.hypot(...a.grad.toArray(), ...b.grad.toArray());
  assert.ok(Math.abs(after - 1) < 1e-5);
});

test('warmupCosine: linear warm-up, cosine to minLr, then flat', () => {
  const lr = warmupCosine({ baseLr: 1e-3, warmupSteps: 10, totalSteps: 110, minLr: 1e-5 });
  assert.ok(Math.abs(lr(0) - 1e-4) < 1e-12);
  assert.ok(Math.abs(lr(9) - 1e-3) < 1e-12);
  assert.ok(Math.abs(lr(10) - 1e-3) < 1e-12);
  assert.ok(Math.abs(lr(60) - (1e-5 + 0.5 * (1e-3 - 1e-5))) < 1e-12);
  assert.ok(Math.abs(lr(110) - 1e-5) < 1e-12);
  assert.equal(lr(500), lr(110));
  for (let s = 10; s < 110; s++) assert.ok(lr(s + 1) <= lr(s));
  assert.throws(() => warmupCosine({ baseLr: 1, warmupSteps: 10, totalSteps: 10 }), /totalSteps/);
});

class Tiny extends Module {
  lin = new Linear(2, 2, { rng: new Rng(0) });
}

test('EMA decay warms up and tracks a short run (the 0.999 pitfall)', () => {
  const model = new Tiny();
  const ema = new EMA(model, { decay: 0.999 });
  assert.equal(ema.currentDecay(), 0.1); // (1+0)/(10+0)
  const target = [1, 2, 3, 4];
  // the raw weights jump to their trained values and stay; after 580 updates the average must be close
  model.lin.weight.data.set(target);
  for (let i = 0; i < 580; i++) ema.update();
  const avg = ema.averagedStateDict().get('lin.weight')!.toArray();
  avg.forEach((v, i) => assert.ok(Math.abs(v - target[i]!) / target[i]! < 0.05, `ema weight ${v} vs ${target[i]}`));
  // a fixed 0.999 decay still holds ~56% of the initial (here zero) weights after the same run
  const stale = new Tiny();
  stale.lin.weight.data.fill(0);
  const fixed = new EMA(stale, { decay: 0.999, warmup: false });
  stale.lin.weight.data.set(target);
  for (let i = 0; i < 580; i++) fixed.update();
  const fixedAvg = fixed.averagedStateDict().get('lin.weight')!.toArray();
  fixedAvg.forEach((v, i) => assert.ok(Math.abs(v / target[i]! - (1 - 0.999 ** 580)) < 1e-3));
});

test('EMA update follows the formula; swap and state round trip', () => {
  const model = new Tiny();
  const ema = new EMA(model, { decay: 0.5, warmup: false });
  const init = model.lin.weight.toArray();
  model.lin.weight.data.fill(10);
  ema.update();
  const expected = init.map((v) => 0.5 * v + 5);
  ema.averagedStateDict().get('lin.weight')!.toArray().forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) < 1e-6));
  ema.swap();
  model.lin.weight.toArray().forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) < 1e-6));
  ema.swap();
  assert.deepEqual(model.lin.weight.toArray(), [10, 10, 10, 10]);
  const saved = ema.state();
  const other = new EMA(new Tiny(), { decay: 0.5, warmup: false });
  other.loadState(saved);
  assert.equal(other.step, 1);
  assert.deepEqual(other.averagedStateDict().get('lin.weight')!.toArray(), ema.averagedStateDict().get('lin.weight')!.toArray());
  const copy = new Tiny();
  ema.copyTo(copy);
  assert.deepEqual(copy.lin.weight.toArray(), ema.averagedStateDict().get('lin.weight')!.toArray());
});
