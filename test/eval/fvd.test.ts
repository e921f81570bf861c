import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/engine/random.js';
import { frechetDistance, frechetDistanceOf, gaussianStats } from '../../src/eval/fvd.js';
import { matmulSquare, sqrtSymmetric, symmetricEigen } from '../../src/eval/linalg.js';

function randomSymmetric(rng: Rng, n: number): Float64Array {
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const v = rng.normal();
      a[i * n + j] = v;
      a[j * n + i] = v;
    }
  }
  return a;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

test('Jacobi eigendecomposition reconstructs random symmetric matrices with orthonormal vectors', () => {
  const rng = new Rng(7);
  for (const n of [1, 2, 5, 24]) {
    const a = randomSymmetric(rng, n);
    const { values, vectors } = symmetricEigen(a, n);
    for (let i = 1; i < n; i++) assert.ok(values[i - 1]! >= values[i]!, 'eigenvalues come in descending order');
    // V diag(λ) Vᵀ = A
    const scaled = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) scaled[i * n + j] = vectors[i * n + j]! * values[j]!;
    const vt = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) vt[i * n + j] = vectors[j * n + i]!;
    assert.ok(maxAbsDiff(matmulSquare(scaled, vt, n), a) < 1e-10, `reconstruction n=${n}`);
    // Vᵀ V = I
    const identity = new Float64Array(n * n);
    for (let i = 0; i < n; i++) identity[i * n + i] = 1;
    assert.ok(maxAbsDiff(matmulSquare(vt, vectors, n), identity) < 1e-10, `orthonormal n=${n}`);
  }
});

test('Jacobi eigenvalues of a known matrix', () => {
  // [[2, 1], [1, 2]] has eigenvalues 3 and 1
  const { values, vectors } = symmetricEigen(Float64Array.from([2, 1, 1, 2]), 2);
  assert.ok(Math.abs(values[0]! - 3) < 1e-12 && Math.abs(values[1]! - 1) < 1e-12);
  assert.ok(Math.abs(Math.abs(vectors[0]!) - Math.SQRT1_2) < 1e-12);
});

test('sqrtSymmetric squares back to a PSD matrix', () => {
  const rng = new Rng(3);
  const n = 16;
  const b = randomSymmetric(rng, n);
  const psd = matmulSquare(b, b, n);
  const root = sqrtSymmetric(psd, n);
  assert.ok(maxAbsDiff(matmulSquare(root, root, n), psd) < 1e-9);
});

function gaussianSample(rng: Rng, count: number, dim: number, shift: number[], scale = 1): Float64Array {
  const out = new Float64Array(count * dim);
  for (let i = 0; i < count; i++) for (let j = 0; j < dim; j++) out[i * dim + j] = scale * rng.normal() + shift[j]!;
  return out;
}

test('Frechet distance of identical sets is ~0 and of shifted means is the squared shift', () => {
  const rng = new Rng(11);
  const dim = 8;
  const x = gaussianSample(rng, 400, dim, new Array(dim).fill(0));
  assert.ok(frechetDistanceOf(x, 400, x, 400, dim).distance < 1e-8);

  // the same samples moved by a constant vector: covariances are identical, so d² = |shift|² exactly
  const shift = [3, -1, 0, 2, 0, 0, 0.5, 0];
  const moved = x.map((v, i) => v + shift[i % dim]!);
  const parts = frechetDistanceOf(x, 400, moved, 400, dim);
  const expected = shift.reduce((s, v) => s + v * v, 0);
  assert.ok(Math.abs(parts.distance - expected) < 1e-8, `${parts.distance} vs ${expected}`);
  assert.ok(parts.covarianceTerm < 1e-8);
});

test('Frechet distance between known Gaussians: scaled covariance', () => {
  // N(0, I) vs N(0, 4I) in d dims: tr(I + 4I - 2·2I) = d
  const dim = 4;
  const a = { dim, count: 2, mean: new Float64Array(dim), covariance: new Float64Array(dim * dim) };
  const b = { dim, count: 2, mean: Float64Array.from([1, 0, 0, 0]), covariance: new Float64Array(dim * dim) };
  for (let i = 0; i < dim; i++) {
    a.covariance[i * dim + i] = 1;
    b.covariance[i * dim + i] = 4;
  }
  const parts = frechetDistance(a, b);
  assert.ok(Math.abs(parts.meanTerm - 1) < 1e-12);
  assert.ok(Math.abs(parts.covarianceTerm - dim) < 1e-10);
  // independent samples of the same Gaussian come out close to 0, far below the shifted pair
  const rng = new Rng(5);
  const p = gaussianSample(rng, 2000, dim, [0, 0, 0, 0]);
  const q = gaussianSample(rng, 2000, dim, [0, 0, 0, 0]);
  assert.ok(frechetDistanceOf(p, 2000, q, 2000, dim).distance < 0.05);
});

test('gaussianStats rejects wrong sizes', () => {
  assert.throws(() => gaussianStats(new Float64Array(10), 3, 4), /expected 3 x 4/);
  assert.throws(() => gaussianStats(new Float64Array(4), 1, 4), /at least 2/);
});
