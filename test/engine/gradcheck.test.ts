// Backward of every differentiable op against central finite differences, in float64 (reference kernels).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as E from '../../src/engine/index.js';
import { Rng, Tensor } from '../../src/engine/index.js';

const rng = new Rng(20240601);

function randn(shape: number[], std = 1): Tensor {
  return Tensor.randn(shape, rng, std, 'float64').requireGrad();
}
/** Values bounded away from 0 (for log, sqrt, reciprocal, abs, relu kinks). */
function positive(shape: number[]): Tensor {
  const t = Tensor.rand(shape, rng, 'float64');
  for (let i = 0; i < t.size; i++) t.data[i] = 0.5 + t.data[i]!;
  return t.requireGrad();
}
/** Values with |v| in [0.2, 1.2] and random sign: no kinks within the finite-difference step. */
function awayFromZero(shape: number[]): Tensor {
  const t = positive(shape);
  for (let i = 0; i < t.size; i++) t.data[i] = (rng.uniform() < 0.5 ? -1 : 1) * (t.data[i]! - 0.3);
  return t;
}

/**
 * Checks d(sum(f(inputs) * R))/d(input) against central differences for every element of every input that
 * requires grad; R is a fixed random projection so each output element matters differently.
 */
function gradcheck(name: string, f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], tol = 1e-6): void {
  const out = f(...inputs);
  const projection = Tensor.randn(out.shape as number[], rng, 1, 'float64');
  const objective = (): number => {
    const y = E.noGrad(() => f(...inputs));
    let s = 0;
    for (let i = 0; i < y.size; i++) s += y.data[i]! * projection.data[i]!;
    return s;
  };
  for (const x of inputs) x.zeroGrad();
  E.sum(E.mul(out, projection)).backward();
  const h = 1e-6;
  inputs.forEach((x, which) => {
    if (!x.requiresGrad) return;
    assert.ok(x.grad !== null, `${name}: input ${which} got no gradient`);
    for (let i = 0; i < x.size; i++) {
      const saved = x.data[i]!;
      x.data[i] = saved + h;
      const plus = objective();
      x.data[i] = saved - h;
      const minus = objective();
      x.data[i] = saved;
      const numeric = (plus - minus) / (2 * h);
      const analytic = x.grad!.data[i]!;
      const err = Math.abs(numeric - analytic) / Math.max(1, Math.abs(numeric));
      assert.ok(err < tol, `${name}: input ${which} element ${i}: analytic ${analytic} vs numeric ${numeric}`);
    }
  });
}

test('broadcasting arithmetic', () => {
  gradcheck('add', E.add, [randn([3, 1, 4]), randn([2, 4])]);
  gradcheck('sub', E.sub, [randn([2, 3]), randn([3])]);
  gradcheck('mul', E.mul, [randn([2, 1, 3]), randn([2, 5, 1])]);
  gradcheck('div', E.div, [randn([4, 3]), awayFromZero([4, 1])]);
  gradcheck('add number', (x) => E.add(2, E.mul(x, 3)), [randn([5])]);
  gradcheck('sub number', (x) => E.sub(1, E.sub(x, 0.5)), [randn([5])]);
  gradcheck('div number', (x) => E.add(E.div(2, x), E.div(x, 4)), [awayFromZero([5])]);
  gradcheck('scaleShift', (x) => E.scaleShift(x, -1.5, 0.25), [randn([2, 3])]);
  gradcheck('pow', (x) => E.pow(x, 3), [randn([7])]);
  gradcheck('pow fractional', (x) => E.pow(x, 1.5), [positive([7])]);
  const a = randn([3, 4]);
  const b = Tensor.from(a.data.map((v) => v + (rng.uniform() < 0.5 ? -0.5 : 0.5)), [3, 4], 'float64').requireGrad();
  gradcheck('maximum', E.maximum, [a, b]);
  gradcheck('minimum', E.minimum, [a, b]);
  gradcheck('maximum broadcast', E.maximum, [randn([2, 3]), randn([3])]);
  const cond = Tensor.from([1, 0, 1, 0, 0, 1], [2, 3], 'float64');
  gradcheck('where', (x, y) => E.where(cond, x, y), [randn([2, 3]), randn([3])]);
});

test('unary and activations', () => {
  const cases: [string, (x: Tensor) => Tensor, Tensor][] = [
    ['neg', E.neg, randn([6])],
    ['exp', E.exp, randn([6])],
    ['log', E.log, positive([6])],
    ['sqrt', E.sqrt, positive([6])],
    ['rsqrt', E.rsqrt, positive([6])],
    ['abs', E.abs, awayFromZero([6])],
    ['tanh', E.tanh, randn([6])],
    ['sigmoid', E.sigmoid, randn([6])],
    ['sin', E.sin, randn([6])],
    ['cos', E.cos, randn([6])],
    ['square', E.square, randn([6])],
    ['reciprocal', E.reciprocal, awayFromZero([6])],
    ['relu', E.relu, awayFromZero([6])],
    ['gelu', E.gelu, randn([2, 5], 2)],
    ['silu', E.silu, randn([2, 5], 2)],
    ['clamp', (x) => E.clamp(x, -0.1, 0.1), awayFromZero([8])],
  ];
  for (const [name, f, x] of cases) gradcheck(name, f, [x]);
});

test('matmul and linear', () => {
  gradcheck('matmul 2d', E.matmul, [randn([3, 4]), randn([4, 5])]);
  gradcheck('matmul batched, matrix rhs', E.matmul, [randn([2, 3, 4]), randn([4, 2])]);
  gradcheck('matmul batched', E.matmul, [randn([2, 3, 4]), randn([2, 4, 5])]);
  gradcheck('matmul batch broadcast', E.matmul, [randn([2, 1, 3, 4]), randn([3, 4, 2])]);
  gradcheck('matmul lhs broadcast', E.matmul, [randn([3, 2]), randn([2, 2, 3])]);
  gradcheck('linear', E.linear, [randn([2, 3, 5]), randn([4, 5]), randn([4])]);
  gradcheck('linear no bias', (x, w) => E.linear(x, w), [randn([3, 5]), randn([2, 5])]);
});

test('shape ops', () => {
  gradcheck('reshape', (x) => E.mul(E.reshape(x, [3, -1]), E.reshape(x, [3, 4])), [randn([2, 6])]);
  gradcheck('permute', (x) => E.permute(x, [2, 0, 1]), [randn([2, 3, 4])]);
  gradcheck('transpose', (x) => E.transpose(x, 0, -1), [randn([2, 3, 4])]);
  gradcheck('flatten', (x) => E.flatten(x, 1), [randn([2, 3, 2])]);
  gradcheck('unsqueeze squeeze', (x) => E.squeeze(E.unsqueeze(x, 1), 1), [randn([3, 2])]);
  gradcheck('expand', (x) => E.expand(x, [2, 3, 4]), [randn([3, 1])]);
  gradcheck('concat', (a, b) => E.concat([a, b, a], 1), [randn([2, 1, 3]), randn([2, 2, 3])]);
  gradcheck('slice inner', (x) => E.slice(x, 1, 1, -1), [randn([2, 5, 3])]);
  gradcheck('slice outer', (x) => E.slice(x, 0, 1, 3), [randn([4, 3])]);
  gradcheck('split', (x) => { const [a, b] = E.split(x, [1, 3], 1); return E.mul(E.sum(a!), b!); }, [randn([2, 4])]);
  gradcheck('chunk', (x) => { const [a, b, c] = E.chunk(x, 3, -1); return E.add(E.mul(a!, b!), c!); }, [randn([2, 6])]);
  gradcheck('pad', (x) => E.pad(x, [[1, 0], [0, 2], [1, 1]], 0.5), [randn([2, 3, 2])]);
  gradcheck('repeatInterleave', (x) => E.repeatInterleave(x, 3, 1), [randn([2, 2, 3])]);
  const index = Int32Array.from([2, 0, 2, 1]);
  gradcheck('gather', (x) => E.gather(x, 1, index), [randn([2, 3, 2])]);
  gradcheck('embedding', (w) => E.embedding(w, index, [2, 2]), [randn([3, 4])]);
});

test('reductions', () => {
  gradcheck('sum all', (x) => E.sum(x), [randn([3, 4])]);
  gradcheck('sum axes', (x) => E.sum(x, [0, 2]), [randn([2, 3, 4])]);
  gradcheck('sum keepDim', (x) => E.mul(E.sum(x, -1, true), x), [randn([2, 3])]);
  gradcheck('mean', (x) => E.mean(x, 1), [randn([2, 3, 4])]);
  gradcheck('max', (x) => E.max(x, 1), [randn([3, 5, 2])]);
  gradcheck('max keepDim', (x) => E.max(x, 0, true), [randn([4, 3])]);
  gradcheck('variance', (x) => E.variance(x, [1, 2], true), [randn([2, 3, 4])]);
});

test('softmax and normalisation', () => {
  gradcheck('softmax', (x) => E.softmax(x), [randn([3, 5])]);
  gradcheck('softmax axis 0', (x) => E.softmax(x, 0), [randn([4, 3])]);
  gradcheck('logSoftmax', (x) => E.logSoftmax(x), [randn([3, 5])]);
  gradcheck('logSoftmax axis 1', (x) => E.logSoftmax(x, 1), [randn([2, 4, 3])]);
  gradcheck('layerNorm', (x, w, b) => E.layerNorm(x, w, b, 1e-5), [randn([2, 3, 7]), randn([7]), randn([7])]);
  gradcheck('layerNorm plain', (x) => E.layerNorm(x), [randn([4, 5])]);
  gradcheck('rmsNorm', (x, w) => E.rmsNorm(x, w), [randn([3, 6]), randn([6])]);
  gradcheck('rmsNorm plain', (x) => E.rmsNorm(x), [randn([3, 5])]);
  gradcheck('groupNorm', (x, w, b) => E.groupNorm(x, 2, w, b, 1e-5), [randn([2, 4, 3, 2]), randn([4]), randn([4])]);
});

test('attention and rope', () => {
  gradcheck('attention', (q, k, v) => E.attention(q, k, v), [randn([2, 2, 3, 4]), randn([2, 2, 5, 4]), randn([2, 2, 5, 4])]);
  const keyMask = Uint8Array.from([1, 1, 0, 1, 0, 1, 0, 0, 0, 0]); // second sequence fully masked
  gradcheck('attention masked', (q, k, v) => E.attention(q, k, v, { keyMask, scale: 0.7 }), [randn([2, 1, 3, 2]), randn([2, 1, 5, 2]), randn([2, 1, 5, 2])]);
  const angles = Tensor.randn([3, 2], rng, 1, 'float64');
  const cos = E.cos(angles), sin = E.sin(angles);
  gradcheck('rope', (x) => E.rope(x, cos, sin), [randn([2, 2, 3, 4])]);
});

test('convolution', () => {
  gradcheck('conv3d', (x, w, b) => E.conv3d(x, w, b, { stride: [1, 2, 1], padding: [2, 0, 1, 1] }),
    [randn([2, 2, 3, 4, 3]), randn([3, 2, 3, 3, 2]), randn([3])]);
  gradcheck('conv3d strided time', (x, w) => E.conv3d(x, w, null, { stride: [2, 1, 1] }), [randn([1, 1, 5, 2, 2]), randn([2, 1, 2, 1, 1])]);
  gradcheck('conv2d', (x, w, b) => E.conv2d(x, w, b, { stride: [2, 2], padding: [1, 1] }), [randn([1, 2, 5, 4]), randn([2, 2, 3, 3]), randn([2])]);
});

test('losses', () => {
  gradcheck('mseLoss', E.mseLoss, [randn([3, 4]), randn([3, 4])]);
  gradcheck('mseLoss weighted', (p, t, w) => E.mseLoss(p, t, w), [randn([3, 4]), randn([3, 4]), positive([3, 1])]);
  gradcheck('l1Loss', E.l1Loss, [awayFromZero([3, 4]), Tensor.zeros([3, 4], 'float64')]);
  gradcheck('crossEntropy', (x) => E.crossEntropy(x, Int32Array.from([2, 0, 1])), [randn([3, 4])]);
});

test('loss values match their definitions', () => {
  const logits = Tensor.from([0, 0, Math.log(2)], [1, 3], 'float64');
  assert.ok(Math.abs(E.crossEntropy(logits, Int32Array.from([2])).item() - -Math.log(0.5)) < 1e-12);
  const p = Tensor.from([1, 2], [2], 'float64'), t = Tensor.from([0, 4], [2], 'float64');
  assert.equal(E.mseLoss(p, t).item(), 2.5);
  assert.equal(E.l1Loss(p, t).item(), 1.5);
});
