// Kernel conformance: the reference kernels against naive definitions, and the native kernels (when the addon
// is built) against the reference on the same inputs, in float32.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { referenceKernels } from '../../src/engine/kernels/reference.js';
import { loadNativeKernels } from '../../src/engine/kernels/native.js';
import type { Conv3dParams, FloatArray, Kernels } from '../../src/engine/kernels/types.js';
import { Rng } from '../../src/engine/random.js';

const rng = new Rng(11);
function randomArray(n: number, Type: typeof Float32Array | typeof Float64Array = Float64Array): FloatArray {
  const a = new Type(n);
  rng.fill(a, 'normal');
  return a;
}
function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i]! - expected[i]!) / Math.max(1, Math.abs(expected[i]!));
    assert.ok(err <= tol, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

function naiveGemm(ta: boolean, tb: boolean, m: number, n: number, k: number, alpha: number, a: FloatArray, lda: number,
  b: FloatArray, ldb: number, beta: number, c: FloatArray, ldc: number): void {
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let p = 0; p < k; p++) s += (ta ? a[p * lda + i]! : a[i * lda + p]!) * (tb ? b[j * ldb + p]! : b[p * ldb + j]!);
    c[i * ldc + j] = alpha * s + beta * c[i * ldc + j]!;
  }
}

test('reference sgemm matches the definition for every transpose, leading dims, alpha and beta', () => {
  const [m, n, k] = [5, 7, 130]; // k crosses a blocking boundary
  for (const ta of [false, true]) for (const tb of [false, true]) {
    const lda = (ta ? m : k) + 2, ldb = (tb ? k : n) + 1, ldc = n + 3;
    const a = randomArray((ta ? k : m) * lda), b = randomArray((tb ? n : k) * ldb), c = randomArray(m * ldc);
    const expected = c.slice();
    naiveGemm(ta, tb, m, n, k, 0.5, a, lda, b, ldb, 0.25, expected, ldc);
    referenceKernels.sgemm(ta, tb, m, n, k, 0.5, a, lda, b, ldb, 0.25, c, ldc);
    assertClose(c, expected, 1e-12, `sgemm ta=${ta} tb=${tb}`);
  }
  const c = new Float64Array(4).fill(NaN);
  referenceKernels.sgemm(false, false, 2, 2, 1, 1, Float64Array.from([1, 2]), 1, Float64Array.from([3, 4]), 2, 0, c, 2);
  assert.deepEqual(Array.from(c), [3, 4, 6, 8], 'beta = 0 overwrites NaN');
});

function naiveAttention(q: FloatArray, k: FloatArray, v: FloatArray, b: number, h: number, tq: number, tk: number, d: number,
  scale: number, mask: Uint8Array | null): Float64Array {
  const out = new Float64Array(b * h * tq * d);
  for (let bh = 0; bh < b * h; bh++) for (let i = 0; i < tq; i++) {
    const s = new Float64Array(tk);
    const bi = Math.floor(bh / h);
    for (let j = 0; j < tk; j++) {
      let dot = 0;
      for (let e = 0; e < d; e++) dot += q[(bh * tq + i) * d + e]! * k[(bh * tk + j) * d + e]!;
      s[j] = mask && !mask[bi * tk + j] ? -Infinity : dot * scale;
    }
    const mx = Math.max(...s);
    if (mx === -Infinity) continue;
    let z = 0;
    for (let j = 0; j < tk; j++) z += Math.exp(s[j]! - mx);
    for (let j = 0; j < tk; j++) {
      const p = Math.exp(s[j]! - mx) / z;
      for (let e = 0; e < d; e++) out[(bh * tq + i) * d + e]! += p * v[(bh * tk + j) * d + e]!;
    }
  }
  return out;
}

function naiveConv(x: FloatArray, w: FloatArray, bias: FloatArray | null, p: Conv3dParams): Float64Array {
  const out = new Float64Array(p.n * p.cOut * p.tOut * p.hOut * p.wOut);
  let o = 0;
  for (let n = 0; n < p.n; n++) for (let co = 0; co < p.cOut; co++) for (let ot = 0; ot < p.tOut; ot++)
    for (let oh = 0; oh < p.hOut; oh++) for (let ow = 0; ow < p.wOut; ow++, o++) {
      let s = bias ? bias[co]! : 0;
      for (let ci = 0; ci < p.cIn; ci++) for (let dt = 0; dt < p.kt; dt++) for (let dh = 0; dh < p.kh; dh++) for (let dw = 0; dw < p.kw; dw++) {
        const it = ot * p.strideT - p.padFront + dt, ih = oh * p.strideH - p.padH + dh, iw = ow * p.strideW - p.padW + dw;
        if (it < 0 || it >= p.t || ih < 0 || ih >= p.h || iw < 0 || iw >= p.w) continue;
        s += x[(((n * p.cIn + ci) * p.t + it) * p.h + ih) * p.w + iw]! * w[(((co * p.cIn + ci) * p.kt + dt) * p.kh + dh) * p.kw + dw]!;
      }
      out[o] = s;
    }
  return out;
}

test('reference attention, conv3d, norms and activations match naive definitions', () => {
  const [b, h, tq, tk, d] = [2, 2, 3, 5, 4];
  const q = randomArray(b * h * tq * d), k = randomArray(b * h * tk * d), v = randomArray(b * h * tk * d);
  const mask = Uint8Array.from([1, 0, 1, 1, 0, 0, 0, 0, 0, 0]);
  const out = new Float64Array(q.length), lse = new Float64Array(b * h * tq);
  referenceKernels.attentionForward(q, k, v, out, lse, b, h, tq, tk, d, 0.3, mask);
  assertClose(out, naiveAttention(q, k, v, b, h, tq, tk, d, 0.3, mask), 1e-12, 'attention');

  const p: Conv3dParams = { n: 2, cIn: 3, t: 4, h: 5, w: 3, cOut: 2, kt: 3, kh: 3, kw: 2, strideT: 1, strideH: 2, strideW: 1,
    padFront: 2, padBack: 0, padH: 1, padW: 1, tOut: 4, hOut: 3, wOut: 4 };
  const x = randomArray(2 * 3 * 4 * 5 * 3), w = randomArray(2 * 3 * 3 * 3 * 2), bias = randomArray(2);
  const y = new Float64Array(2 * 2 * 4 * 3 * 4);
  referenceKernels.conv3dForward(x, w, bias, y, p);
  assertClose(y, naiveConv(x, w, bias, p), 1e-12, 'conv3d');

  const row = Float64Array.from([1, 2, 3, 6]);
  const ln = new Float64Array(4), mu = new Float64Array(1), rstd = new Float64Array(1);
  referenceKernels.layerNormForward(row, null, null, ln, mu, rstd, 1, 4, 0);
  assertClose(ln, [-2, -1, 0, 3].map((v) => v / Math.sqrt(3.5)), 1e-12, 'layerNorm');
  const rms = new Float64Array(4);
  referenceKernels.rmsNormForward(row, Float64Array.from([1, 1, 1, 2]), rms, rstd, 1, 4, 0);
  assertClose(rms, [1, 2, 3, 12].map((v) => v / Math.sqrt(12.5)), 1e-12, 'rmsNorm');
  const g = new Float64Array(3);
  referenceKernels.geluForward(Float64Array.from([-1, 0, 2]), g, 3);
  assertClose(g, [-0.15880800939172324, 0, 1.9545976940871754], 1e-12, 'gelu');
  const sm = new Float64Array(2);
  referenceKernels.softmaxForward(Float64Array.from([1000, 1000 + Math.log(3)]), sm, 1, 2);
  assertClose(sm, [0.25, 0.75], 1e-12, 'softmax (large logits)');
});

test('reference binary broadcasting, reduce and permute', () => {
  const a = Float64Array.from([1, 2, 3, 4, 5, 6]); // [2, 3]
  const out = new Float64Array(6);
  referenceKernels.binary('sub', a, [2, 3], Float64Array.from([10, 20]), [2, 1], out, [2, 3]);
  assert.deepEqual(Array.from(out), [-9, -8, -7, -16, -15, -14]);
  referenceKernels.binary('mul', Float64Array.from([1, 2, 3]), [1, 3], Float64Array.from([2]), [1, 1], out, [2, 3]);
  assert.deepEqual(Array.from(out), [2, 4, 6, 2, 4, 6]);
  const r = new Float64Array(3);
  referenceKernels.reduce('max', a, [2, 3], [0], r);
  assert.deepEqual(Array.from(r), [4, 5, 6]);
  const r2 = new Float64Array(2);
  referenceKernels.reduce('sum', Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8]), [2, 2, 2], [0, 2], r2);
  assert.deepEqual(Array.from(r2), [1 + 2 + 5 + 6, 3 + 4 + 7 + 8]);
  const t = new Float64Array(6);
  referenceKernels.permute(a, [2, 3], [1, 0], t);
  assert.deepEqual(Array.from(t), [1, 4, 2, 5, 3, 6]);
  const p = Float64Array.from([1]), grad = Float64Array.from([0.5]), m = new Float64Array(1), v = new Float64Array(1);
  referenceKernels.adamw(p, grad, m, v, 1, 0.1, 0.9, 0.999, 0, 0, 1);
  assertClose(p, [0.9], 1e-12, 'adamw first step moves by lr');
});

// ---- native against reference (float32) --------------------------------------------------------

const native: Kernels | null = (() => {
  try {
    return loadNativeKernels();
  } catch {
    return null;
  }
})();

test('native kernels agree with the reference', { skip: native === null ? 'native addon not built' : false }, () => {
  const K = native!, R = referenceKernels;
  const f32 = (n: number): Float32Array => randomArray(n, Float32Array) as Float32Array;
  const compare = (what: string, run: (kern: Kernels) => FloatArray[], tol = 2e-4): void => {
    const expected = run(R), actual = run(K);
    expected.forEach((e, i) => assertClose(actual[i]!, e, tol, `${what} output ${i}`));
  };
  for (const [m, n, k] of [[1, 1, 1], [17, 33, 65], [64, 96, 128], [3, 257, 5]] as const) {
    for (const ta of [false, true]) for (const tb of [false, true]) {
      const a = f32(m * k), b = f32(k * n), c0 = f32(m * n);
      compare(`sgemm ${m}x${n}x${k} ${ta} ${tb}`, (kern) => {
        const c = c0.slice();
        kern.sgemm(ta, tb, m, n, k, 0.7, a, ta ? m : k, b, tb ? k : n, 0.3, c, n);
        return [c];
      });
    }
  }
  const c = new Float32Array(6).fill(NaN); // beta = 0 must overwrite, not scale, what C held
  K.sgemm(false, false, 2, 3, 1, 1, Float32Array.from([1, 2]), 1, Float32Array.from([1, 2, 3]), 3, 0, c, 3);
  assert.deepEqual(Array.from(c), [1, 2, 3, 2, 4, 6]);
  const [b, h, tq, tk, d] = [2, 3, 37, 70, 16];
  const q = f32(b * h * tq * d), k = f32(b * h * tk * d), v = f32(b * h * tk * d), dout = f32(b * h * tq * d);
  const mask = new Uint8Array(b * tk).map((_, i) => (i % 7 === 3 ? 0 : 1));
  for (const m of [null, mask]) {
    compare(`attention mask=${m !== null}`, (kern) => {
      const out = new Float32Array(q.length), lse = new Float32Array(b * h * tq);
      kern.attentionForward(q, k, v, out, lse, b, h, tq, tk, d, 0.25, m);
      const dq = new Float32Array(q.length), dk = new Float32Array(k.length), dv = new Float32Array(v.length);
      kern.attentionBackward(q, k, v, out, dout, lse, dq, dk, dv, b, h, tq, tk, d, 0.25, m);
      return [out, dq, dk, dv];
    }, 1e-3);
  }
  const rows = 9, cols = 67, x = f32(rows * cols), gamma = f32(cols), beta = f32(cols), dy = f32(rows * cols);
  compare('layerNorm', (kern) => {
    const y = new Float32Array(x.length), mu = new Float32Array(rows), rs = new Float32Array(rows);
    kern.layerNormForward(x, gamma, beta, y, mu, rs, rows, cols, 1e-6);
    const dx = new Float32Array(x.length), dg = new Float32Array(cols), db = new Float32Array(cols);
    kern.layerNormBackward(x, gamma, dy, mu, rs, dx, dg, db, rows, cols);
    return [y, dx, dg, db];
  });
  compare('rmsNorm', (kern) => {
    const y = new Float32Array(x.length), rs = new Float32Array(rows);
    kern.rmsNormForward(x, gamma, y, rs, rows, cols, 1e-6);
    const dx = new Float32Array(x.length), dg = new Float32Array(cols);
    kern.rmsNormBackward(x, gamma, dy, rs, dx, dg, rows, cols);
    return [y, dx, dg];
  });
  compare('softmax, gelu, silu', (kern) => {
    const outs = Array.from({ length: 6 }, () => new Float32Array(x.length));
    kern.softmaxForward(x, outs[0]!, rows, cols);
    kern.softmaxBackward(outs[0]!, dy, outs[1]!, rows, cols);
    kern.geluForward(x, outs[2]!, x.length);
    kern.geluBackward(x, dy, outs[3]!, x.length);
    kern.siluForward(x, outs[4]!, x.length);
    kern.siluBackward(x, dy, outs[5]!, x.length);
    return outs;
  });
  compare('binary, reduce, permute', (kern) => {
    const a = x.subarray(0, 6 * 5 * 4), bb = gamma.subarray(0, 5);
    const sum = new Float32Array(120), red = new Float32Array(5), per = new Float32Array(120);
    kern.binary('mul', a, [6, 5, 4], bb, [1, 5, 1], sum, [6, 5, 4]);
    kern.reduce('sum', a, [6, 5, 4], [0, 2], red);
    kern.permute(a, [6, 5, 4], [2, 0, 1], per);
    return [sum, red, per];
  });
  const p: Conv3dParams = { n: 2, cIn: 3, t: 4, h: 6, w: 5, cOut: 4, kt: 3, kh: 3, kw: 3, strideT: 1, strideH: 2, strideW: 2,
    padFront: 2, padBack: 0, padH: 1, padW: 1, tOut: 4, hOut: 3, wOut: 3 };
  const cx = f32(2 * 3 * 4 * 6 * 5), cw = f32(4 * 3 * 27), cb = f32(4), cg = f32(2 * 4 * 4 * 3 * 3);
  compare('conv3d', (kern) => {
    const y = new Float32Array(cg.length), dx = new Float32Array(cx.length), dw = new Float32Array(cw.length), db = new Float32Array(4);
    kern.conv3dForward(cx, cw, cb, y, p);
    kern.conv3dBackwardData(cg, cw, dx, p);
    kern.conv3dBackwardWeight(cx, cg, dw, db, p);
    return [y, dx, dw, db];
  }, 1e-3);
});
