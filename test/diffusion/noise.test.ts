import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, Tensor } from '../../src/engine/index.js';
import { addNoiseOffset, temporallyCorrelatedNoise } from '../../src/diffusion/index.js';

/** Pearson correlation of latent frames t1 and t2 over every (b, c, h, w). */
function frameCorrelation(x: Tensor, t1: number, t2: number): number {
  const [B, C, T, H, W] = x.shape as [number, number, number, number, number];
  const plane = H * W;
  let sa = 0, sb = 0, sab = 0, saa = 0, sbb = 0, n = 0;
  for (let bc = 0; bc < B * C; bc++) {
    for (let i = 0; i < plane; i++) {
      const a = x.data[(bc * T + t1) * plane + i]!;
      const b = x.data[(bc * T + t2) * plane + i]!;
      sa += a; sb += b; sab += a * b; saa += a * a; sbb += b * b; n++;
    }
  }
  const cov = sab / n - (sa / n) * (sb / n);
  return cov / Math.sqrt((saa / n - (sa / n) ** 2) * (sbb / n - (sb / n) ** 2));
}

test('correlation 0 is the plain Gaussian draw, so seeds reproduce earlier samples', () => {
  const shape = [1, 4, 5, 8, 8];
  assert.deepEqual(temporallyCorrelatedNoise(shape, 0, new Rng(7)).toArray(), Tensor.randn(shape, new Rng(7)).toArray());
});

test('latent frames correlate by the asked amount and every entry keeps unit variance', () => {
  const shape = [2, 4, 4, 32, 32];
  for (const rho of [0, 0.5, 0.8]) {
    const x = temporallyCorrelatedNoise(shape, rho, new Rng(3));
    for (const [t1, t2] of [[0, 1], [0, 3], [2, 3]] as const) {
      assert.ok(Math.abs(frameCorrelation(x, t1, t2) - rho) < 0.05, `rho ${rho}, frames ${t1}-${t2}: ${frameCorrelation(x, t1, t2)}`);
    }
    let s2 = 0;
    for (const v of x.data) s2 += v * v;
    assert.ok(Math.abs(s2 / x.size - 1) < 0.05, `rho ${rho}: variance ${s2 / x.size}`);
  }
});

test('same seed, same noise; a correlation outside [0, 1) is refused by name', () => {
  const shape = [1, 2, 3, 4, 4];
  assert.deepEqual(temporallyCorrelatedNoise(shape, 0.5, new Rng(9)).toArray(), temporallyCorrelatedNoise(shape, 0.5, new Rng(9)).toArray());
  assert.throws(() => temporallyCorrelatedNoise(shape, 1, new Rng(9)), /noise_correlation: expected a number from 0 up to \(not including\) 1/);
  assert.throws(() => temporallyCorrelatedNoise(shape, -0.1, new Rng(9)), /noise_correlation/);
  assert.throws(() => temporallyCorrelatedNoise([2, 3], 0.5, new Rng(9)), /shape: expected \[B, C, T, H, W\]/);
});

test('offset noise adds one constant per sample and channel, with the asked std; std 0 draws nothing', () => {
  const shape = [4, 3, 2, 5, 5];
  const plain = Tensor.randn(shape, new Rng(7));
  const rng = new Rng(8);
  const before = rng.state();
  assert.deepEqual(addNoiseOffset(Tensor.randn(shape, new Rng(7)), 0, rng).data, plain.data);
  assert.deepEqual(rng.state(), before, 'std 0 advanced the generator');

  const shifted = addNoiseOffset(Tensor.randn(shape, new Rng(7)), 0.5, new Rng(8));
  const cells = 2 * 5 * 5;
  const offsets: number[] = [];
  for (let bc = 0; bc < 4 * 3; bc++) {
    const first = shifted.data[bc * cells]! - plain.data[bc * cells]!;
    for (let i = bc * cells; i < (bc + 1) * cells; i++) assert.ok(Math.abs(shifted.data[i]! - plain.data[i]! - first) < 1e-6, 'offset varies within a sample and channel');
    offsets.push(first);
  }
  assert.equal(new Set(offsets.map((o) => o.toFixed(6))).size, offsets.length, 'samples or channels share an offset');

  // the offsets' spread over many samples is the std asked for
  const many = Array.from(addNoiseOffset(Tensor.zeros([2000, 2, 1, 1, 1]), 0.3, new Rng(9)).data);
  const std = Math.sqrt(many.reduce((s, v) => s + v * v, 0) / many.length);
  assert.ok(Math.abs(std - 0.3) < 0.02, `std ${std}`);
  assert.throws(() => addNoiseOffset(Tensor.zeros([1, 1, 1, 1, 1]), -0.1, new Rng(1)), /noise_offset/);
});
