// Autograd mechanics: reuse, accumulation, noGrad, detach, graph release, and errors that name op and shapes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as E from '../../src/engine/index.js';
import { Rng, Tensor } from '../../src/engine/index.js';
import { TesseraError } from '../../src/errors.js';

const f64 = (data: number[], shape: number[]): Tensor => Tensor.from(data, shape, 'float64').requireGrad();

test('a tensor used twice receives the sum of both gradients', () => {
  const x = f64([1, 2, 3], [3]);
  E.sum(E.mul(x, x)).backward(); // d/dx sum(x^2) = 2x
  assert.deepEqual(x.grad!.toArray(), [2, 4, 6]);

  const y = f64([1, -1], [2]);
  const h = E.add(y, 1); // used by two branches, one through a pass-through add
  E.sum(E.add(E.mul(h, 3), E.add(h, h))).backward(); // 3 + 2 per element
  assert.deepEqual(y.grad!.toArray(), [5, 5]);
});

test('gradients accumulate across backward calls until zeroGrad', () => {
  const w = f64([1, 2], [2]);
  E.sum(E.mul(w, 2)).backward();
  E.sum(E.mul(w, 3)).backward();
  assert.deepEqual(w.grad!.toArray(), [5, 5]);
  w.zeroGrad();
  assert.equal(w.grad, null);
});

test('leaves sharing one incoming gradient get independent .grad buffers', () => {
  const a = f64([1, 2], [2]), b = f64([3, 4], [2]);
  E.sum(E.add(a, b)).backward();
  assert.notEqual(a.grad!.data.buffer, b.grad!.data.buffer);
  a.grad!.data[0] = 100;
  assert.equal(b.grad!.data[0], 1);
  const seed = Tensor.from([1, 1], [2], 'float64');
  const c = f64([0, 0], [2]);
  E.reshape(c, [2]).backward(seed);
  c.grad!.data[0] = 7;
  assert.equal(seed.data[0], 1, 'the caller-provided seed must not become a leaf gradient');
});

test('noGrad records no graph and detach cuts it', () => {
  const x = f64([1, 2], [2]);
  const y = E.noGrad(() => E.mul(x, 2));
  assert.equal(y.requiresGrad, false);
  assert.equal(E.isGradEnabled(), true);
  const d = E.mul(x, 2).detach();
  assert.equal(d.requiresGrad, false);
  const z = E.add(E.mul(x, d), x);
  E.sum(z).backward();
  assert.deepEqual(x.grad!.toArray(), [3, 5]); // d(x*d + x)/dx with d constant = d + 1
});

test('inputs without requiresGrad get no gradient', () => {
  const x = Tensor.from([1, 2], [2], 'float64');
  const w = f64([3, 4], [2]);
  E.sum(E.mul(x, w)).backward();
  assert.equal(x.grad, null);
  assert.deepEqual(w.grad!.toArray(), [1, 2]);
});

test('backward errors: no grad, non-scalar without seed, consumed graph', () => {
  assert.throws(() => Tensor.zeros([1]).backward(), /does not require grad/);
  const x = f64([1, 2], [2]);
  const y = E.mul(x, x);
  assert.throws(() => y.backward(), (e: unknown) => e instanceof TesseraError && /1-element/.test(e.message));
  const loss = E.sum(y);
  loss.backward();
  assert.throws(() => E.sum(E.add(y, 1)).backward(), /already consumed/);
});

test('shape errors name the op and the shapes', () => {
  const check = (fn: () => unknown, pattern: RegExp): void => {
    assert.throws(fn, (e: unknown) => e instanceof TesseraError && e.code === 'shape_mismatch' && pattern.test(e.message));
  };
  check(() => E.matmul(Tensor.zeros([2, 3]), Tensor.zeros([4, 5])), /^matmul: \[2,3\] x \[4,5\]: inner dims 3 != 4/);
  check(() => E.add(Tensor.zeros([2, 3]), Tensor.zeros([4])), /^add: \[2,3\] and \[4\] cannot broadcast/);
  check(() => E.linear(Tensor.zeros([2, 3]), Tensor.zeros([4, 5])), /^linear: input \[2,3\] with weight \[4,5\]/);
  check(() => E.reshape(Tensor.zeros([2, 3]), [4, -1]), /^reshape: cannot reshape \[2,3\] to \[4,-1\]/);
  check(() => E.attention(Tensor.zeros([1, 2, 3, 4]), Tensor.zeros([1, 2, 3, 5]), Tensor.zeros([1, 2, 3, 5])), /^attention: q \[1,2,3,4\]/);
  check(() => E.concat([Tensor.zeros([2, 3]), Tensor.zeros([3, 3])], 1), /^concat: shapes \[2,3\], \[3,3\]/);
  check(() => E.permute(Tensor.zeros([2, 3]), [0, 0]), /^permute:/);
  check(() => E.sum(Tensor.zeros([2, 3]), 2), /^sum: axis 2 out of range/);
  check(() => E.layerNorm(Tensor.zeros([2, 3]), Tensor.zeros([4])), /^layerNorm: weight \[4\] for input \[2,3\]/);
  check(() => E.conv3d(Tensor.zeros([1, 2, 3, 3, 3]), Tensor.zeros([1, 3, 1, 1, 1])), /^conv3d: input \[1,2,3,3,3\], weight \[1,3,1,1,1\]/);
  assert.throws(() => E.add(Tensor.zeros([2]), Tensor.zeros([2], 'float64')), /mixed dtypes/);
});

test('forward values of a few ops', () => {
  const x = Tensor.from([1, 2, 3, 4, 5, 6], [2, 3]);
  assert.deepEqual(E.transpose(x, 0, 1).toArray(), [1, 4, 2, 5, 3, 6]);
  assert.deepEqual(E.sum(x, 0).toArray(), [5, 7, 9]);
  assert.deepEqual(E.max(x, 1).toArray(), [3, 6]);
  assert.deepEqual(E.slice(x, 1, 1).toArray(), [2, 3, 5, 6]);
  assert.deepEqual(E.pad(Tensor.from([1, 2], [1, 2]), [[0, 1], [1, 0]], 9).toArray(), [9, 1, 2, 9, 9, 9]);
  assert.deepEqual(E.repeatInterleave(Tensor.from([1, 2], [2]), 2, 0).toArray(), [1, 1, 2, 2]);
  assert.deepEqual(E.expand(Tensor.from([1, 2], [2, 1]), [2, 2]).toArray(), [1, 1, 2, 2]);
  assert.deepEqual(E.matmul(x, Tensor.from([1, 0, 0, 1, 1, 1], [3, 2])).toArray(), [4, 5, 10, 11]);
  assert.deepEqual(E.linear(x, Tensor.from([1, 1, 1], [1, 3]), Tensor.from([10], [1])).toArray(), [16, 25]);
  const rows = E.softmax(Tensor.from([0, Math.log(3)], [1, 2]));
  assert.ok(Math.abs(rows.data[1]! - 0.75) < 1e-6);
  assert.equal(x.reshape([3, 2]).data, x.data, 'reshape shares data');
});

test('Tensor constructors', () => {
  const rng = new Rng(3);
  const a = Tensor.randn([1000], rng, 2);
  const values = Array.from(a.data);
  const m = values.reduce((s, v) => s + v, 0) / a.size;
  const sd = Math.sqrt(values.reduce((s, v) => s + (v - m) ** 2, 0) / a.size);
  assert.ok(Math.abs(m) < 0.2 && Math.abs(sd - 2) < 0.2, `mean ${m} std ${sd}`);
  const u = Tensor.rand([100], new Rng(4));
  assert.ok(u.data.every((v) => v >= 0 && v < 1));
  assert.deepEqual(Tensor.full([2], 7).toArray(), [7, 7]);
  assert.equal(Tensor.ones([2, 2], 'float64').dtype, 'float64');
  assert.throws(() => Tensor.from([1, 2, 3], [2, 2]), /does not fit shape \[2,2\]/);
  const shared = new Float32Array(4);
  assert.equal(Tensor.from(shared, [4]).data, shared);
  assert.equal(Tensor.from([5], [1]).item(), 5);
});

test('recycled gradient buffers never alias live data: repeated steps give identical gradients', () => {
  const rng = new Rng(5);
  const w1 = Tensor.randn([64, 32], rng, 0.2).requireGrad(), w2 = Tensor.randn([32, 64], rng, 0.2).requireGrad();
  const x = Tensor.randn([16, 32], rng);
  const step = (): number[][] => {
    w1.zeroGrad();
    w2.zeroGrad();
    const h = E.gelu(E.linear(x, w1)); // [16, 64], big enough to be pooled
    const [a, b] = E.chunk(h, 2, 1);
    const y = E.add(E.linear(h, w2), E.mul(E.concat([b!, a!], 1), E.sum(h, 1, true)).slice(1, 0, 32));
    const z = E.add(y, E.layerNorm(y));
    E.mseLoss(E.add(z, z), x).backward();
    return [w1.grad!.toArray(), w2.grad!.toArray(), h.toArray()];
  };
  const first = step();
  for (let i = 0; i < 3; i++) assert.deepEqual(step(), first);
});

test('a residual chain of same-size tensors matches its float64 reference gradient', () => {
  // Every activation and gradient has one size, so any buffer recycled while still in use would be handed out
  // again within the same backward pass and corrupt it.
  const rng = new Rng(6);
  const weights = Array.from({ length: 4 }, () => Tensor.randn([64, 64], rng, 0.1));
  const x0 = Tensor.randn([32, 64], rng);
  const grads = (dtype: 'float32' | 'float64'): number[][] => {
    const ws = weights.map((w) => Tensor.from(w.data, w.shape, dtype).requireGrad());
    let x = Tensor.from(x0.data, x0.shape, dtype).requireGrad();
    const input = x;
    for (const w of ws) x = E.add(x, E.gelu(E.linear(x, w)));
    E.sum(E.mul(x, x)).backward();
    return [input, ...ws].map((t) => t.grad!.toArray());
  };
  const expected = grads('float64');
  for (let repeat = 0; repeat < 2; repeat++) {
    grads('float32').forEach((g, i) => g.forEach((v, j) => {
      assert.ok(Math.abs(v - expected[i]![j]!) <= 1e-3 * Math.max(1, Math.abs(expected[i]![j]!)), `tensor ${i} element ${j}: ${v} vs ${expected[i]![j]}`);
    }));
  }
});
