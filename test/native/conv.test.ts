// Native conv3d (forward, data gradient, weight gradient) against the reference: conv2d as t = kt = 1,
// strides, symmetric spatial padding, causal time padding, pointwise kernels and inputs spanning several
// im2col chunks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { referenceKernels as ref } from '../../src/engine/kernels/reference.js';
import type { Conv3dParams } from '../../src/engine/kernels/types.js';
import { Rng } from '../../src/engine/random.js';
import { assertClose, forEachIsa, loadAddon, randn } from './ops-helpers.js';

const { addon, reason } = loadAddon();
const skip = addon === null ? reason : false;

type Spec = Omit<Conv3dParams, 'tOut' | 'hOut' | 'wOut'>;

function params(s: Spec): Conv3dParams {
  return {
    ...s,
    tOut: Math.floor((s.t + s.padFront + s.padBack - s.kt) / s.strideT) + 1,
    hOut: Math.floor((s.h + 2 * s.padH - s.kh) / s.strideH) + 1,
    wOut: Math.floor((s.w + 2 * s.padW - s.kw) / s.strideW) + 1,
  };
}

const base = { strideT: 1, strideH: 1, strideW: 1, padFront: 0, padBack: 0, padH: 0, padW: 0 };
const cases: Array<[string, Conv3dParams]> = [
  ['conv2d 3x3 pad 1', params({ ...base, n: 2, cIn: 3, t: 1, h: 9, w: 7, cOut: 5, kt: 1, kh: 3, kw: 3, padH: 1, padW: 1 })],
  ['conv2d stride 2', params({ ...base, n: 1, cIn: 4, t: 1, h: 9, w: 8, cOut: 3, kt: 1, kh: 3, kw: 3, strideH: 2, strideW: 2, padH: 1, padW: 1 })],
  ['causal 3x3x3', params({ ...base, n: 2, cIn: 3, t: 5, h: 6, w: 5, cOut: 4, kt: 3, kh: 3, kw: 3, padFront: 2, padH: 1, padW: 1 })],
  ['time stride 2, causal', params({ ...base, n: 1, cIn: 2, t: 7, h: 4, w: 4, cOut: 3, kt: 3, kh: 1, kw: 1, strideT: 2, padFront: 2 })],
  ['pointwise', params({ ...base, n: 2, cIn: 6, t: 2, h: 3, w: 5, cOut: 4, kt: 1, kh: 1, kw: 1 })],
  ['asymmetric 2x1x3, no padding', params({ ...base, n: 1, cIn: 3, t: 4, h: 5, w: 6, cOut: 2, kt: 2, kh: 1, kw: 3 })],
  ['stride 3, wide padding', params({ ...base, n: 1, cIn: 2, t: 3, h: 7, w: 10, cOut: 3, kt: 2, kh: 3, kw: 4, strideT: 1, strideH: 3, strideW: 3, padFront: 1, padBack: 1, padH: 2, padW: 2 })],
  // Unit strides run as an implicit GEMM: depth over one k block (cIn*kvol = 324 > 256), positions over one
  // n block (540 > 384), output rows (w = 20) that straddle the 32-column panels, time padding at both ends.
  ['implicit gemm, deep and wide', params({ ...base, n: 2, cIn: 12, t: 3, h: 9, w: 20, cOut: 14, kt: 3, kh: 3, kw: 3, padFront: 1, padBack: 1, padH: 1, padW: 1 })],
  ['several chunks', params({ ...base, n: 1, cIn: 4, t: 3, h: 32, w: 32, cOut: 3, kt: 3, kh: 3, kw: 3, padFront: 2, padH: 1, padW: 1 })],
];

function sizes(p: Conv3dParams) {
  return {
    x: p.n * p.cIn * p.t * p.h * p.w,
    w: p.cOut * p.cIn * p.kt * p.kh * p.kw,
    out: p.n * p.cOut * p.tOut * p.hOut * p.wOut,
  };
}

test('conv3dForward matches the reference, with and without bias', { skip }, () => {
  const rng = new Rng(11);
  forEachIsa(addon!, (isa) => {
    for (const [name, p] of cases) {
      const sz = sizes(p);
      const x = randn(rng, sz.x), weight = randn(rng, sz.w, 0.3);
      for (const bias of [randn(rng, p.cOut), null]) {
        const outRef = new Float32Array(sz.out), out = new Float32Array(sz.out).fill(NaN);
        ref.conv3dForward(x, weight, bias, outRef, p);
        addon!['conv3dForward'](x, weight, bias, out, p);
        assertClose(out, outRef, `conv forward ${name} ${isa} bias=${bias !== null}`, 1e-4, 1e-4);
      }
    }
  });
});

test('conv3dBackwardData overwrites dx and matches the reference', { skip }, () => {
  const rng = new Rng(12);
  for (const [name, p] of cases) {
    const sz = sizes(p);
    const dout = randn(rng, sz.out), weight = randn(rng, sz.w, 0.3);
    const dxRef = new Float32Array(sz.x), dx = new Float32Array(sz.x).fill(NaN);
    ref.conv3dBackwardData(dout, weight, dxRef, p);
    addon!['conv3dBackwardData'](dout, weight, dx, p);
    assertClose(dx, dxRef, `conv backward data ${name}`, 1e-4, 1e-4);
  }
});

test('conv3dBackwardWeight accumulates into dweight and dbias like the reference', { skip }, () => {
  const rng = new Rng(13);
  for (const [name, p] of cases) {
    const sz = sizes(p);
    const x = randn(rng, sz.x), dout = randn(rng, sz.out);
    const dwRef = randn(rng, sz.w), dbRef = randn(rng, p.cOut);
    const dw = dwRef.slice(), db = dbRef.slice();
    ref.conv3dBackwardWeight(x, dout, dwRef, dbRef, p);
    addon!['conv3dBackwardWeight'](x, dout, dw, db, p);
    assertClose(dw, dwRef, `conv backward weight ${name}`, 1e-4, 2e-4);
    assertClose(db, dbRef, `conv backward bias ${name}`, 1e-4, 2e-4);
    const dwOnly = new Float32Array(sz.w);
    addon!['conv3dBackwardWeight'](x, dout, dwOnly, null, p); // null dbias is allowed
    assert.ok(dwOnly.some((v) => v !== 0));
  }
});

test('conv3d rejects inconsistent output sizes', { skip }, () => {
  const p = { ...cases[0]![1], hOut: 99 };
  assert.throws(
    () => addon!['conv3dForward'](new Float32Array(1000), new Float32Array(1000), null, new Float32Array(10000), p),
    /tOut\/hOut\/wOut do not match/,
  );
});
