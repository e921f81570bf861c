// Native sgemm / sgemmBatched against a float64 triple loop: every transpose combination, leading dimensions
// wider than the matrices, sizes that are not multiples of any register tile or cache block, alpha/beta
// cases, broadcast batches, every instruction set the CPU has; plus argument checking, the thread pool and
// the `Kernels` wrapper of src/engine/kernels/native.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Rng } from '../../src/engine/random.js';
import { referenceKernels } from '../../src/engine/kernels/reference.js';
import {
  loadNativeAddon, nativeKernelsFrom, nativeUnavailableReason, type NativeAddon,
} from '../../src/engine/kernels/native.js';

const addon = loadNativeAddon();
const skip = addon === null ? (nativeUnavailableReason() ?? 'native addon unavailable') : false;
const native = addon as NativeAddon;
type Sgemm = typeof referenceKernels.sgemm;
type SgemmBatched = typeof referenceKernels.sgemmBatched;
const sgemm = (...args: Parameters<Sgemm>) => (native.sgemm as Sgemm)(...args);
const sgemmBatched = (...args: Parameters<SgemmBatched>) => (native.sgemmBatched as SgemmBatched)(...args);

function randn(rng: Rng, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return a;
}

/** C = alpha * op(A) op(B) + beta * C in float64, the definition itself. */
function naiveGemm(
  ta: boolean, tb: boolean, m: number, n: number, k: number, alpha: number, a: ArrayLike<number>, lda: number,
  b: ArrayLike<number>, ldb: number, beta: number, c: Float64Array, ldc: number,
): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (ta ? a[p * lda + i]! : a[i * lda + p]!) * (tb ? b[j * ldb + p]! : b[p * ldb + j]!);
      c[i * ldc + j] = alpha * s + (beta === 0 ? 0 : beta * c[i * ldc + j]!);
    }
  }
}

/**
 * Compares the m x n window of C; elements outside it (leading-dimension padding) must be untouched.
 * Float32 error of a length-k dot product grows with k: tolerance = 1e-6 * (k + 4) * (|alpha| + |beta|) * 8
 * for standard normal inputs (|a|, |b|, |c| below ~4-5 for these sizes).
 */
function assertGemmClose(
  actual: Float32Array, expected: Float64Array, before: Float32Array, m: number, n: number, ldc: number,
  k: number, alpha: number, beta: number, label: string,
): void {
  const tol = 1e-6 * (k + 4) * (Math.abs(alpha) + Math.abs(beta)) * 8;
  for (let idx = 0; idx < actual.length; idx++) {
    const i = Math.floor(idx / ldc), j = idx % ldc;
    if (i < m && j < n) {
      const err = Math.abs(actual[idx]! - expected[idx]!);
      if (!(err <= tol)) assert.fail(`${label}: C[${i},${j}] = ${actual[idx]}, expected ${expected[idx]} (tol ${tol})`);
    } else if (!Object.is(actual[idx], before[idx])) {
      assert.fail(`${label}: element ${idx} outside the ${m}x${n} window changed`);
    }
  }
}

/** Instruction sets this CPU runs, best first; fn runs under each, restoring the original. */
function forEachIsa(fn: (isa: string) => void): void {
  const original = native.isa();
  const isas = ['avx512f', 'avx2', 'portable'].filter((isa) => {
    try {
      return native.setIsa(isa) === isa;
    } catch {
      return false;
    }
  });
  try {
    for (const isa of isas) {
      native.setIsa(isa);
      fn(isa);
    }
  } finally {
    native.setIsa(original);
  }
}

interface Case { m: number; n: number; k: number; alpha: number; beta: number }

// Odd sizes (no multiple of 4, 6, 8, 12, 16 or 32) plus ones crossing the k block (384) and n block (320).
const cases: Case[] = [
  { m: 1, n: 1, k: 1, alpha: 1, beta: 0 },
  { m: 3, n: 17, k: 33, alpha: 1, beta: 0 },
  { m: 17, n: 3, k: 65, alpha: -0.5, beta: 1 },
  { m: 33, n: 65, k: 17, alpha: 1.5, beta: -2 },
  { m: 65, n: 129, k: 257, alpha: 1, beta: 0.25 },
  { m: 13, n: 333, k: 401, alpha: 0.75, beta: 0 },
  { m: 129, n: 33, k: 3, alpha: 2, beta: 1 },
  // One row (a condition vector through a projection): with B transposed it takes the dot-product path.
  { m: 1, n: 77, k: 389, alpha: 0.5, beta: 1 },
  { m: 1, n: 40, k: 13, alpha: 1, beta: 0 },
];

test('sgemm matches the triple loop for all transposes, odd sizes, padded leading dims, every ISA', { skip }, () => {
  const rng = new Rng(11);
  for (const { m, n, k, alpha, beta } of cases) {
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        const lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 5, ldc = n + 2;
        const a = randn(rng, (ta ? k : m) * lda), b = randn(rng, (tb ? n : k) * ldb), c0 = randn(rng, m * ldc);
        const expected = Float64Array.from(c0);
        naiveGemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, expected, ldc);
        forEachIsa((isa) => {
          const c = c0.slice();
          sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
          assertGemmClose(c, expected, c0, m, n, ldc, k, alpha, beta, `${isa} ta=${ta} tb=${tb} ${m}x${n}x${k}`);
        });
      }
    }
  }
});

test('sgemm with beta = 0 never reads C (NaN stays out), and k = 0 / alpha = 0 only scale C', { skip }, () => {
  const rng = new Rng(12);
  forEachIsa((isa) => {
    const m = 19, n = 37, k = 23;
    const a = randn(rng, m * k), b = randn(rng, k * n);
    const c = new Float32Array(m * n).fill(Number.NaN);
    sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n);
    const expected = new Float64Array(m * n);
    naiveGemm(false, false, m, n, k, 1, a, k, b, n, 0, expected, n);
    assertGemmClose(c, expected, c, m, n, n, k, 1, 0, `${isa} beta=0 over NaN`);

    const c2 = randn(rng, m * n), scaled = Float64Array.from(c2, (v) => 3 * v);
    sgemm(false, false, m, n, 0, 1, a, k, b, n, 3, c2, n);
    assertGemmClose(c2, scaled, c2, m, n, n, 0, 1, 3, `${isa} k=0`);
    const c3 = new Float32Array(m * n).fill(Number.NaN);
    sgemm(false, false, m, n, k, 0, a, k, b, n, 0, c3, n);
    assert.ok(c3.every((v) => v === 0), `${isa} alpha=0 beta=0 must zero C`);
  });
});

test('sgemm is identical on 1 and 2 threads and crosses the m block (rows > 3072)', { skip }, () => {
  const rng = new Rng(13);
  const threads = native.threads();
  try {
    for (const [m, n, k] of [[301, 257, 401], [77, 700, 130], [3100, 7, 5]] as const) {
      const a = randn(rng, m * k), b = randn(rng, k * n);
      const one = new Float32Array(m * n), two = new Float32Array(m * n);
      native.setThreads(1);
      sgemm(false, true, m, n, k, 1, a, k, b, k, 0, one, n);
      native.setThreads(2);
      assert.equal(native.threads(), 2);
      sgemm(false, true, m, n, k, 1, a, k, b, k, 0, two, n);
      assert.deepEqual(two, one, `${m}x${n}x${k}: the split must not change any result`);
      const expected = new Float64Array(m * n);
      naiveGemm(false, true, m, n, k, 1, a, k, b, k, 0, expected, n);
      assertGemmClose(two, expected, two, m, n, n, k, 1, 0, `${m}x${n}x${k} threaded`);
    }
  } finally {
    native.setThreads(threads);
  }
});

test('sgemmBatched matches per-matrix products, with stride 0 broadcasting an operand', { skip }, () => {
  const rng = new Rng(14);
  const m = 9, n = 21, k = 35, ld = { a: k + 1, b: n + 3, c: n };
  for (const batch of [1, 3, 8]) {
    for (const broadcast of ['none', 'a', 'b'] as const) {
      const strideA = broadcast === 'a' ? 0 : m * ld.a + 4, strideB = broadcast === 'b' ? 0 : k * ld.b + 2;
      const strideC = m * ld.c + 1;
      const a = randn(rng, (batch - 1) * strideA + m * ld.a), b = randn(rng, (batch - 1) * strideB + k * ld.b);
      const c0 = randn(rng, (batch - 1) * strideC + m * ld.c);
      forEachIsa((isa) => {
        const c = c0.slice();
        sgemmBatched(false, false, m, n, k, 0.5, a, ld.a, strideA, b, ld.b, strideB, 2, c, ld.c, strideC, batch);
        for (let i = 0; i < batch; i++) {
          const expected = Float64Array.from(c0.subarray(i * strideC, i * strideC + m * ld.c));
          naiveGemm(false, false, m, n, k, 0.5, a.subarray(i * strideA), ld.a, b.subarray(i * strideB), ld.b, 2, expected, ld.c);
          const got = c.subarray(i * strideC, i * strideC + m * ld.c);
          assertGemmClose(got, expected, got, m, n, ld.c, k, 0.5, 2, `${isa} batch ${i}/${batch} broadcast=${broadcast}`);
        }
        // The gap between matrices (stride > m*ldc) is never written.
        for (let i = 0; i + 1 < batch; i++) assert.equal(c[i * strideC + m * ld.c], c0[i * strideC + m * ld.c]);
      });
    }
  }
});

test('misuse throws a TypeError/RangeError naming the function instead of crashing', { skip }, () => {
  const a = new Float32Array(6), b = new Float32Array(6), c = new Float32Array(4);
  assert.throws(() => (native.sgemm as (...x: unknown[]) => void)(false, false, 2, 2), { name: 'TypeError', message: /^sgemm: expected 13 arguments, got 4/ });
  assert.throws(() => sgemm(false, false, 2, 2, 3, 1, new Float64Array(6) as unknown as Float32Array, 3, b, 2, 0, c, 2), { name: 'TypeError', message: /^sgemm: a must be a Float32Array/ });
  assert.throws(() => sgemm(1 as unknown as boolean, false, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2), { name: 'TypeError', message: /^sgemm: transA must be a boolean/ });
  assert.throws(() => sgemm(false, false, 2, 2, 3, 1, a, 3, b, 2, 0, c, 1), { name: 'RangeError', message: /^sgemm: leading dimension of c/ });
  assert.throws(() => sgemm(false, false, 2, 2, 4, 1, a, 4, b, 2, 0, c, 2), { name: 'RangeError', message: /^sgemm: a has 6 elements, needs 8/ });
  assert.throws(() => sgemm(false, false, -1, 2, 3, 1, a, 3, b, 2, 0, c, 2), { name: 'RangeError', message: /^sgemm: m must be a non-negative integer/ });
  assert.throws(() => sgemm(false, false, 1.5, 2, 3, 1, a, 3, b, 2, 0, c, 2), { name: 'RangeError' });
  assert.throws(() => sgemmBatched(false, false, 2, 2, 3, 1, a, 3, 6, b, 2, 6, 0, c, 2, 4, 2), { name: 'RangeError', message: /^sgemmBatched: a has 6 elements, needs 12/ });
  assert.throws(() => native.setIsa('sse9'), { name: 'RangeError', message: /^setIsa:/ });
  assert.throws(() => native.setThreads(-1), { name: 'RangeError', message: /^setThreads:/ });
  assert.throws(() => native.peakGflops(0), { name: 'RangeError', message: /^peakGflops:/ });
  // A correct call still works after all of that.
  sgemm(false, false, 2, 2, 3, 1, a.fill(1), 3, b.fill(1), 2, 0, c, 2);
  assert.deepEqual([...c], [3, 3, 3, 3]);
});

test('TESSERA_ISA caps the instruction set and TESSERA_THREADS sizes the pool (child processes)', { skip }, () => {
  const script = `const a = require(${JSON.stringify(require_path())}); console.log(a.isa() + ' ' + a.threads());`;
  for (const [isa, threads] of [['portable', '1'], ['avx2', '3']] as const) {
    const res = spawnSync(process.execPath, ['-e', script], {
      env: { ...process.env, TESSERA_ISA: isa, TESSERA_THREADS: threads }, encoding: 'utf8',
    });
    assert.equal(res.status, 0, res.stderr);
    const [gotIsa, gotThreads] = res.stdout.trim().split(' ');
    assert.equal(gotThreads, threads);
    if (isa === 'portable') assert.equal(gotIsa, 'portable');
    else assert.ok(gotIsa === 'avx2' || gotIsa === 'portable', `TESSERA_ISA=avx2 gave ${gotIsa}`);
  }
});

function require_path(): string {
  return new URL('../../build/Release/tessera_native.node', import.meta.url).pathname;
}

test('peakGflops measures a positive FMA rate; setThreads(0) restores the default', { skip }, () => {
  const threads = native.threads();
  try {
    const peak = native.peakGflops(1);
    assert.ok(Number.isFinite(peak) && peak > 0.1, `peak ${peak}`);
    native.setThreads(1);
    assert.equal(native.threads(), 1);
    native.setThreads(0);
    assert.ok(native.threads() >= 1);
  } finally {
    native.setThreads(threads);
  }
});

test('the Kernels wrapper calls the addon for float32, the reference for float64 and for missing kernels', () => {
  const calls: string[] = [];
  const fake = {
    isa: () => 'fake', setIsa: (s: string) => s, threads: () => 7, setThreads: () => {}, peakGflops: () => 1,
    sgemm: (...args: unknown[]) => calls.push(`sgemm/${args.length}`),
  } as unknown as NativeAddon;
  const kernels = nativeKernelsFrom(fake);
  assert.equal(kernels.name, 'native');
  assert.equal(kernels.isa, 'fake');
  assert.equal(kernels.threads(), 7);

  const a32 = new Float32Array([1, 2]), b32 = new Float32Array([3, 4]), c32 = new Float32Array(1);
  kernels.sgemm(false, false, 1, 1, 2, 1, a32, 2, b32, 1, 0, c32, 1);
  assert.deepEqual(calls, ['sgemm/13']);
  assert.equal(c32[0], 0, 'the fake addon, not the reference, ran');

  const c64 = new Float64Array(1);
  kernels.sgemm(false, false, 1, 1, 2, 1, Float64Array.from(a32), 2, Float64Array.from(b32), 1, 0, c64, 1);
  assert.equal(calls.length, 1, 'float64 must not reach the addon');
  assert.equal(c64[0], 11);

  // Not exported by the fake addon: the reference runs, even for float32.
  const y = new Float32Array(2);
  kernels.scale(a32, 2, 1, y, 2);
  assert.deepEqual([...y], [3, 5]);
  assert.equal(calls.length, 1);
});

test('loadNativeKernels exposes the real addon through the Kernels interface', { skip }, async () => {
  const { loadNativeKernels } = await import('../../src/engine/kernels/native.js');
  const kernels = loadNativeKernels();
  assert.ok(kernels !== null);
  assert.match(kernels.isa, /^(avx512f|avx2|portable)$/);
  const c = new Float32Array(4);
  kernels.sgemm(true, false, 2, 2, 1, 1, new Float32Array([1, 2]), 2, new Float32Array([3, 4]), 2, 0, c, 2);
  assert.deepEqual([...c], [3, 4, 6, 8]);
});
