// The PRNG: same seed same bits, independent forks, exact resume from a serialised state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/engine/random.js';

const draw = (r: Rng, n: number): number[] => Array.from({ length: n }, () => r.nextUint32());

test('same seed gives the same bits; different seeds differ', () => {
  assert.deepEqual(draw(new Rng(42), 64), draw(new Rng(42), 64));
  assert.notDeepEqual(draw(new Rng(42), 8), draw(new Rng(43), 8));
  assert.deepEqual(draw(new Rng(2n ** 40n + 5n), 8), draw(new Rng(2 ** 40 + 5), 8));
  assert.notDeepEqual(draw(new Rng(2n ** 40n), 8), draw(new Rng(0), 8), 'the high word of the seed matters');
});

test('forks are deterministic, independent of each other and do not advance the parent', () => {
  const parent = new Rng(7);
  const a1 = draw(parent.fork('layer.0'), 16);
  const a2 = draw(parent.fork('layer.0'), 16);
  const b = draw(parent.fork('layer.1'), 16);
  assert.deepEqual(a1, a2);
  assert.notDeepEqual(a1, b);
  assert.deepEqual(draw(parent, 8), draw(new Rng(7), 8));
  assert.notDeepEqual(draw(new Rng(7).fork(3), 8), draw(new Rng(8).fork(3), 8));
});

test('state round trip resumes the exact stream, including a pending normal', () => {
  const r = new Rng(99);
  draw(r, 5);
  r.normal(); // leaves a spare Box-Muller value
  const saved = JSON.parse(JSON.stringify(r.state()));
  const expected = [r.normal(), r.uniform(), r.normal(), ...draw(r, 9)];
  const resumed = Rng.fromState(saved);
  assert.deepEqual([resumed.normal(), resumed.uniform(), resumed.normal(), ...draw(resumed, 9)], expected);
});

test('distributions have the right range and moments', () => {
  const r = new Rng(1);
  const n = 20000;
  let sum = 0, sq = 0;
  for (let i = 0; i < n; i++) {
    const v = r.normal();
    sum += v;
    sq += v * v;
  }
  assert.ok(Math.abs(sum / n) < 0.03 && Math.abs(sq / n - 1) < 0.05);
  for (let i = 0; i < 1000; i++) {
    const u = r.uniform();
    assert.ok(u >= 0 && u < 1);
    const k = r.int(5);
    assert.ok(Number.isInteger(k) && k >= 0 && k < 5);
  }
  const arr = new Float64Array(4);
  new Rng(5).fill(arr, 'normal', 3);
  const same = new Rng(5);
  assert.deepEqual(Array.from(arr), Array.from({ length: 4 }, () => same.normal() * 3));
});

test('weighted draws follow the weights and never pick a zero weight', () => {
  const r = new Rng(9);
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < 6000; i++) counts[r.weighted([3, 0, 1, 2])]!++;
  assert.equal(counts[1], 0);
  assert.ok(Math.abs(counts[0]! / 6000 - 0.5) < 0.03 && Math.abs(counts[2]! / 6000 - 1 / 6) < 0.03, counts.join(' '));
  assert.equal(new Rng(1).weighted([0, 0, 5]), 2);
});
