// Native fused attention against the reference kernels: sizes that are not multiples of any tile or vector
// width, key padding masks (including a batch whose keys are all masked), forward and backward, every ISA.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { referenceKernels as ref } from '../../src/engine/kernels/reference.js';
import { Rng } from '../../src/engine/random.js';
import { assertClose, forEachIsa, loadAddon, randn } from './ops-helpers.js';

const { addon, reason } = loadAddon();
const skip = addon === null ? reason : false;

interface Case { b: number; h: number; tq: number; tk: number; d: number; mask: 'none' | 'random' | 'empty-batch' }

const cases: Case[] = [
  { b: 1, h: 1, tq: 1, tk: 1, d: 8, mask: 'none' },
  { b: 2, h: 3, tq: 7, tk: 7, d: 24, mask: 'none' },
  { b: 1, h: 2, tq: 65, tk: 129, d: 64, mask: 'random' },
  { b: 2, h: 1, tq: 70, tk: 300, d: 16, mask: 'empty-batch' },
  { b: 1, h: 1, tq: 130, tk: 1, d: 33, mask: 'none' },
  { b: 1, h: 1, tq: 3, tk: 65, d: 5, mask: 'random' },
];

function makeMask(rng: Rng, c: Case): Uint8Array | null {
  if (c.mask === 'none') return null;
  const mask = new Uint8Array(c.b * c.tk);
  for (let i = 0; i < mask.length; i++) mask[i] = rng.uniform() < 0.7 ? 1 : 0;
  mask[0] = 1; // at least one key in batch 0
  if (c.mask === 'empty-batch') mask.fill(0, c.tk, 2 * c.tk); // batch 1 attends to nothing
  return mask;
}

function inputs(seed: number, c: Case) {
  const rng = new Rng(seed);
  const { b, h, tq, tk, d } = c;
  return {
    q: randn(rng, b * h * tq * d), k: randn(rng, b * h * tk * d), v: randn(rng, b * h * tk * d),
    dout: randn(rng, b * h * tq * d), mask: makeMask(rng, c), scale: 1 / Math.sqrt(d),
  };
}

test('attentionForward matches the reference (odd sizes, masks, every ISA)', { skip }, () => {
  cases.forEach((c, ci) => {
    const { b, h, tq, tk, d } = c;
    const x = inputs(ci + 1, c);
    const outRef = new Float32Array(b * h * tq * d), lseRef = new Float32Array(b * h * tq);
    ref.attentionForward(x.q, x.k, x.v, outRef, lseRef, b, h, tq, tk, d, x.scale, x.mask);
    forEachIsa(addon!, (isa) => {
      const out = new Float32Array(b * h * tq * d).fill(NaN), lse = new Float32Array(b * h * tq).fill(NaN);
      addon!['attentionForward'](x.q, x.k, x.v, out, lse, b, h, tq, tk, d, x.scale, x.mask);
      const label = `${isa} ${JSON.stringify(c)}`;
      assertClose(out, outRef, `out ${label}`, 1e-4, 2e-5);
      assertClose(lse, lseRef, `lse ${label}`, 1e-5, 1e-5);
    });
  });
});

test('attentionForward gives zeros and lse -Infinity for a query whose keys are all masked', { skip }, () => {
  const c: Case = { b: 2, h: 2, tq: 5, tk: 9, d: 8, mask: 'empty-batch' };
  const x = inputs(7, c);
  const out = new Float32Array(2 * 2 * 5 * 8).fill(NaN), lse = new Float32Array(2 * 2 * 5);
  addon!['attentionForward'](x.q, x.k, x.v, out, lse, 2, 2, 5, 9, 8, x.scale, x.mask);
  const half = out.length / 2;
  assert.ok(out.subarray(half).every((v) => v === 0), 'batch 1 outputs are zero');
  assert.ok(lse.subarray(10).every((v) => v === -Infinity), 'batch 1 lse is -Infinity');
  assert.ok(out.subarray(0, half).some((v) => v !== 0), 'batch 0 outputs are not zero');
});

test('attentionBackward matches the reference (odd sizes, masks, key splits, every ISA)', { skip }, () => {
  cases.forEach((c, ci) => {
    const { b, h, tq, tk, d } = c;
    const x = inputs(100 + ci, c);
    const out = new Float32Array(b * h * tq * d), lse = new Float32Array(b * h * tq);
    ref.attentionForward(x.q, x.k, x.v, out, lse, b, h, tq, tk, d, x.scale, x.mask);
    const dqRef = new Float32Array(x.q.length), dkRef = new Float32Array(x.k.length), dvRef = new Float32Array(x.v.length);
    ref.attentionBackward(x.q, x.k, x.v, out, x.dout, lse, dqRef, dkRef, dvRef, b, h, tq, tk, d, x.scale, x.mask);
    forEachIsa(addon!, (isa) => {
      // Outputs start as garbage: backward must overwrite every element, padding keys included.
      const dq = new Float32Array(x.q.length).fill(NaN), dk = new Float32Array(x.k.length).fill(NaN);
      const dv = new Float32Array(x.v.length).fill(NaN);
      addon!['attentionBackward'](x.q, x.k, x.v, out, x.dout, lse, dq, dk, dv, b, h, tq, tk, d, x.scale, x.mask);
      const label = `${isa} ${JSON.stringify(c)}`;
      assertClose(dq, dqRef, `dq ${label}`, 1e-3, 1e-4);
      assertClose(dk, dkRef, `dk ${label}`, 1e-3, 1e-4);
      assertClose(dv, dvRef, `dv ${label}`, 1e-3, 1e-4);
    });
  });
});

test('attention rejects arrays shorter than the shape says', { skip }, () => {
  const small = new Float32Array(4);
  assert.throws(
    () => addon!['attentionForward'](small, small, small, small, small, 1, 1, 2, 2, 4, 0.5, null),
    /tessera_native\.attentionForward: q has 4 elements, needs at least 8/,
  );
});
