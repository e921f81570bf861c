// Native row-wise, elementwise, layout and optimiser kernels against the reference kernels, on odd sizes
// (not multiples of any vector width), broadcasting patterns and reductions over various axes, every ISA.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { referenceKernels as ref } from '../../src/engine/kernels/reference.js';
import type { BinaryOp, ReduceOp, UnaryOp } from '../../src/engine/kernels/types.js';
import { Rng } from '../../src/engine/random.js';
import { assertClose, forEachIsa, loadAddon, randn, randu } from './ops-helpers.js';

const { addon, reason } = loadAddon();
const skip = addon === null ? reason : false;
const shapes: Array<[number, number]> = [[1, 1], [3, 7], [5, 24], [4, 65], [2, 300], [70, 33]];

test('softmax forward and backward match the reference', { skip }, () => {
  const rng = new Rng(1);
  forEachIsa(addon!, (isa) => {
    for (const [rows, cols] of shapes) {
      const x = randn(rng, rows * cols, 3), dy = randn(rng, rows * cols);
      const yRef = new Float32Array(rows * cols), dxRef = new Float32Array(rows * cols);
      ref.softmaxForward(x, yRef, rows, cols);
      ref.softmaxBackward(yRef, dy, dxRef, rows, cols);
      const y = new Float32Array(rows * cols), dx = new Float32Array(rows * cols);
      addon!['softmaxForward'](x, y, rows, cols);
      addon!['softmaxBackward'](yRef, dy, dx, rows, cols);
      assertClose(y, yRef, `softmax y ${isa} ${rows}x${cols}`, 1e-5, 1e-7);
      assertClose(dx, dxRef, `softmax dx ${isa} ${rows}x${cols}`, 1e-4, 1e-6);
    }
  });
});

test('layerNorm forward and backward match the reference, with and without affine parameters', { skip }, () => {
  const rng = new Rng(2);
  forEachIsa(addon!, (isa) => {
    for (const [rows, cols] of shapes) {
      for (const affine of [true, false]) {
        const x = randn(rng, rows * cols, 2), dy = randn(rng, rows * cols);
        for (let i = 0; i < x.length; i++) x[i]! += 5; // a large mean must not cost precision
        const gamma = affine ? randn(rng, cols) : null, beta = affine ? randn(rng, cols) : null;
        const n = rows * cols, label = `${isa} ${rows}x${cols} affine=${affine}`;
        const yRef = new Float32Array(n), meanRef = new Float32Array(rows), rstdRef = new Float32Array(rows);
        ref.layerNormForward(x, gamma, beta, yRef, meanRef, rstdRef, rows, cols, 1e-5);
        const y = new Float32Array(n), mean = new Float32Array(rows), rstd = new Float32Array(rows);
        addon!['layerNormForward'](x, gamma, beta, y, mean, rstd, rows, cols, 1e-5);
        assertClose(y, yRef, `layerNorm y ${label}`, 1e-4, 1e-5);
        assertClose(mean, meanRef, `layerNorm mean ${label}`, 1e-5, 1e-6);
        assertClose(rstd, rstdRef, `layerNorm rstd ${label}`, 1e-4, 1e-6);
        // Parameter gradients accumulate (+=) onto what is there.
        const dxRef = new Float32Array(n), dgRef = randn(rng, cols), dbRef = randn(rng, cols);
        const dg = dgRef.slice(), db = dbRef.slice(), dx = new Float32Array(n);
        ref.layerNormBackward(x, gamma, dy, meanRef, rstdRef, dxRef, affine ? dgRef : null, affine ? dbRef : null, rows, cols);
        addon!['layerNormBackward'](x, gamma, dy, meanRef, rstdRef, dx, affine ? dg : null, affine ? db : null, rows, cols);
        assertClose(dx, dxRef, `layerNorm dx ${label}`, 1e-3, 1e-4);
        assertClose(dg, dgRef, `layerNorm dgamma ${label}`, 1e-4, 1e-4);
        assertClose(db, dbRef, `layerNorm dbeta ${label}`, 1e-4, 1e-4);
      }
    }
  });
});

test('rmsNorm forward and backward match the reference', { skip }, () => {
  const rng = new Rng(3);
  forEachIsa(addon!, (isa) => {
    for (const [rows, cols] of shapes) {
      for (const affine of [true, false]) {
        const x = randn(rng, rows * cols), dy = randn(rng, rows * cols), gamma = affine ? randn(rng, cols) : null;
        const n = rows * cols, label = `${isa} ${rows}x${cols} affine=${affine}`;
        const yRef = new Float32Array(n), rstdRef = new Float32Array(rows);
        ref.rmsNormForward(x, gamma, yRef, rstdRef, rows, cols, 1e-6);
        const y = new Float32Array(n), rstd = new Float32Array(rows);
        addon!['rmsNormForward'](x, gamma, y, rstd, rows, cols, 1e-6);
        assertClose(y, yRef, `rmsNorm y ${label}`, 1e-4, 1e-6);
        assertClose(rstd, rstdRef, `rmsNorm rstd ${label}`, 1e-4, 1e-6);
        const dxRef = new Float32Array(n), dgRef = randn(rng, cols), dx = new Float32Array(n), dg = dgRef.slice();
        ref.rmsNormBackward(x, gamma, dy, rstdRef, dxRef, affine ? dgRef : null, rows, cols);
        addon!['rmsNormBackward'](x, gamma, dy, rstdRef, dx, affine ? dg : null, rows, cols);
        assertClose(dx, dxRef, `rmsNorm dx ${label}`, 1e-3, 1e-4);
        assertClose(dg, dgRef, `rmsNorm dgamma ${label}`, 1e-4, 1e-4);
      }
    }
  });
});

test('GELU and SiLU forward and backward match the reference, including large and tiny inputs', { skip }, () => {
  const rng = new Rng(4);
  const x = randn(rng, 1031, 4);
  x.set([0, 1e-6, -1e-6, 30, -30, 100, -100, 0.6249, 0.6251], 0);
  const dy = randn(rng, x.length);
  forEachIsa(addon!, (isa) => {
    for (const name of ['gelu', 'silu'] as const) {
      const yRef = new Float32Array(x.length), dxRef = new Float32Array(x.length);
      ref[`${name}Forward`](x, yRef, x.length);
      ref[`${name}Backward`](x, dy, dxRef, x.length);
      const y = new Float32Array(x.length), dx = new Float32Array(x.length);
      addon![`${name}Forward`](x, y, x.length);
      addon![`${name}Backward`](x, dy, dx, x.length);
      assertClose(y, yRef, `${name} y ${isa}`, 1e-5, 1e-7);
      assertClose(dx, dxRef, `${name} dx ${isa}`, 1e-5, 1e-6);
    }
  });
});

test('unary ops match the reference on their domains', { skip }, () => {
  const rng = new Rng(5);
  const ops: Array<[UnaryOp, number, number]> = [
    ['neg', -5, 5], ['exp', -90, 80], ['log', 1e-3, 50], ['sqrt', 0, 50], ['rsqrt', 1e-3, 50], ['abs', -5, 5],
    ['tanh', -12, 12], ['sigmoid', -30, 30], ['sin', -10, 10], ['cos', -10, 10], ['relu', -5, 5],
    ['square', -5, 5], ['recip', 0.1, 5],
  ];
  forEachIsa(addon!, (isa) => {
    for (const [op, lo, hi] of ops) {
      for (const n of [1, 17, 70001]) {
        const x = randu(rng, n, lo, hi);
        if (op === 'tanh' && n > 1) x.set([0, 1e-5, -1e-5, 0.6249, 0.6251]);
        if ((op === 'exp' || op === 'sigmoid') && n > 1) x.set([100, -100, NaN, Infinity, -Infinity]);
        const yRef = new Float32Array(n), y = new Float32Array(n);
        ref.unary(op, x, yRef, n);
        addon!['unary'](op, x, y, n);
        assertClose(y, yRef, `unary ${op} ${isa} n=${n}`, 2e-6, 1e-30);
      }
    }
    const inPlace = Float32Array.from([1, 4, 9]);
    addon!['unary']('sqrt', inPlace, inPlace, 3);
    assert.deepEqual([...inPlace], [1, 2, 3], 'unary works in place');
  });
  assert.throws(() => addon!['unary']('cube', new Float32Array(1), new Float32Array(1), 1), /unknown unary op 'cube'/);
});

test('binary ops broadcast like the reference (same shape, scalars, last dim, leading dims, middle)', { skip }, () => {
  const rng = new Rng(6);
  const cases: Array<[number[], number[], number[]]> = [
    [[3, 5, 7], [3, 5, 7], [3, 5, 7]],
    [[3, 5, 7], [1, 1, 1], [3, 5, 7]],
    [[1, 1, 1], [3, 5, 7], [3, 5, 7]],
    [[2, 9, 24], [1, 1, 24], [2, 9, 24]], // [B,T,C] op [C]
    [[2, 9, 24], [2, 1, 24], [2, 9, 24]], // [B,T,C] op [B,1,C]
    [[2, 9, 24], [2, 9, 1], [2, 9, 24]], // [B,T,C] op [B,T,1]
    [[2, 4, 3, 5], [1, 4, 1, 1], [2, 4, 3, 5]], // NCHW op [C]
    [[1, 33], [65, 1], [65, 33]], // outer product
    [[2, 1, 3, 1, 5], [1, 4, 1, 6, 1], [2, 4, 3, 6, 5]], // alternating broadcasts
    [[1, 40000], [1, 40000], [1, 40000]], // one long row, split over the pool
  ];
  const ops: BinaryOp[] = ['add', 'sub', 'mul', 'div', 'max', 'min', 'pow'];
  const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
  forEachIsa(addon!, (isa) => {
    for (const [aShape, bShape, outShape] of cases) {
      for (const op of ops) {
        const a = op === 'pow' ? randu(rng, size(aShape), 0.1, 3) : randn(rng, size(aShape));
        const b = op === 'div' ? randu(rng, size(bShape), 0.5, 2) : randn(rng, size(bShape));
        const outRef = new Float32Array(size(outShape)), out = new Float32Array(size(outShape)).fill(NaN);
        ref.binary(op, a, aShape, b, bShape, outRef, outShape);
        addon!['binary'](op, a, aShape, b, bShape, out, outShape);
        assertClose(out, outRef, `binary ${op} ${isa} ${JSON.stringify([aShape, bShape])}`, 1e-6, 1e-30);
      }
    }
  });
  assert.throws(
    () => addon!['binary']('add', new Float32Array(2), [2], new Float32Array(3), [3], new Float32Array(3), [3]),
    /do not broadcast/,
  );
});

test('scale, axpy and adamw match the reference', { skip }, () => {
  const rng = new Rng(7);
  forEachIsa(addon!, (isa) => {
    for (const n of [1, 13, 50001]) {
      const x = randn(rng, n), yRef = randn(rng, n);
      const outRef = new Float32Array(n), out = new Float32Array(n);
      ref.scale(x, 1.5, -0.25, outRef, n);
      addon!['scale'](x, 1.5, -0.25, out, n);
      assertClose(out, outRef, `scale ${isa} n=${n}`, 1e-6, 1e-6);
      const y = yRef.slice();
      ref.axpy(-0.75, x, yRef, n);
      addon!['axpy'](-0.75, x, y, n);
      assertClose(y, yRef, `axpy ${isa} n=${n}`, 1e-6, 1e-6);
      // Several AdamW steps from zero moments, so the bias correction of each step matters.
      const pRef = randn(rng, n), mRef = new Float32Array(n), vRef = new Float32Array(n);
      const p = pRef.slice(), m = mRef.slice(), v = vRef.slice();
      for (let step = 1; step <= 3; step++) {
        const g = randn(rng, n);
        ref.adamw(pRef, g, mRef, vRef, n, 1e-2, 0.9, 0.999, 1e-8, 0.1, step);
        addon!['adamw'](p, g, m, v, n, 1e-2, 0.9, 0.999, 1e-8, 0.1, step);
      }
      assertClose(p, pRef, `adamw param ${isa} n=${n}`, 1e-5, 1e-6);
      assertClose(m, mRef, `adamw m ${isa} n=${n}`, 1e-5, 1e-7);
      assertClose(v, vRef, `adamw v ${isa} n=${n}`, 1e-5, 1e-9);
    }
  });
});

test('reduce matches the reference over last, leading, middle, alternating and all axes', { skip }, () => {
  const rng = new Rng(8);
  const cases: Array<[number[], number[]]> = [
    [[5, 33], [1]], [[5, 33], [0]], [[4, 7, 24], [1]], [[4, 7, 24], [0, 1]], [[4, 7, 24], [1, 2]],
    [[4, 7, 24], [0, 2]], [[3, 1, 5, 2, 6], [0, 3]], [[2, 3, 4, 5], [0, 1, 2, 3]], [[70001], [0]],
    [[6, 1, 5], [1]], [[3, 4], []], [[300, 700], [0]], [[2000, 40], [0]],
  ];
  forEachIsa(addon!, (isa) => {
    for (const [shape, axes] of cases) {
      for (const op of ['sum', 'max', 'min'] as ReduceOp[]) {
        const n = shape.reduce((a, b) => a * b, 1);
        const outSize = shape.filter((_, i) => !axes.includes(i)).reduce((a, b) => a * b, 1);
        const x = randn(rng, n);
        const outRef = new Float32Array(outSize), out = new Float32Array(outSize).fill(NaN);
        ref.reduce(op, x, shape, axes, outRef);
        addon!['reduce'](op, x, shape, axes, out);
        assertClose(out, outRef, `reduce ${op} ${isa} ${JSON.stringify([shape, axes])}`, 1e-4, 1e-4);
      }
    }
  });
});

test('permute matches the reference (2D transposes, heads split, general N-d)', { skip }, () => {
  const rng = new Rng(9);
  const cases: Array<[number[], number[]]> = [
    [[7, 5], [1, 0]], [[65, 129], [1, 0]], [[2, 9, 3, 8], [0, 2, 1, 3]], [[2, 9, 3, 8], [0, 2, 3, 1]],
    [[3, 4, 5, 6, 2], [4, 2, 0, 3, 1]], [[1, 6, 1, 5], [3, 2, 1, 0]], [[4, 5, 6], [0, 1, 2]], [[3, 70, 90], [0, 2, 1]],
  ];
  for (const [shape, perm] of cases) {
    const n = shape.reduce((a, b) => a * b, 1);
    const x = randn(rng, n), outRef = new Float32Array(n), out = new Float32Array(n).fill(NaN);
    ref.permute(x, shape, perm, outRef);
    addon!['permute'](x, shape, perm, out);
    assert.deepEqual(out, outRef, `permute ${JSON.stringify([shape, perm])}`);
  }
  assert.throws(() => addon!['permute'](new Float32Array(4), [2, 2], [0, 0], new Float32Array(4)), /permutation/);
});
