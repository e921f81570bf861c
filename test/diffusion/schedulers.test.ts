import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, Tensor } from '../../src/engine/index.js';
import {
  FlowEulerScheduler,
  FlowHeunScheduler,
  FlowEulerAncestralScheduler,
  createScheduler,
  flowSigmas,
  shiftTime,
} from '../../src/diffusion/index.js';
import type { FlowScheduler } from '../../src/diffusion/index.js';

/** Runs the standard pipeline loop with a velocity field v(x, t). */
function sample(s: FlowScheduler, x: Tensor, velocity: (x: Tensor, t: number) => Tensor): { x: Tensor; evals: number } {
  let evals = 0;
  for (const t of s.timesteps) {
    evals++;
    x = s.step(velocity(x, t), t, x);
  }
  return { x, evals };
}

test('sigmas run from 1 to 0, strictly decreasing, shifted by the formula', () => {
  const plain = flowSigmas(10);
  assert.equal(plain.length, 11);
  assert.equal(plain[0], 1);
  assert.equal(plain[10], 0);
  for (let i = 0; i < 10; i++) assert.ok(plain[i + 1]! < plain[i]!);
  const shifted = flowSigmas(10, { shift: 3 });
  for (let i = 0; i <= 10; i++) {
    assert.ok(Math.abs(shifted[i]! - shiftTime(plain[i]!, 3)) < 1e-6);
    assert.ok(shifted[i]! >= plain[i]! - 1e-7);
  }
  const partial = flowSigmas(10, { strength: 0.5 });
  assert.equal(partial.length, 6);
  assert.ok(Math.abs(partial[0]! - 0.5) < 1e-6);
  assert.throws(() => flowSigmas(0), /steps: expected a positive integer/);
});

test('timesteps: Euler evaluates once per step, Heun twice except on the last step', () => {
  const euler = new FlowEulerScheduler();
  euler.setTimesteps(8, { shift: 2 });
  assert.equal(euler.order, 1);
  assert.equal(euler.timesteps.length, 8);
  for (let i = 1; i < 8; i++) assert.ok(euler.timesteps[i]! < euler.timesteps[i - 1]!);
  const heun = new FlowHeunScheduler();
  heun.setTimesteps(8);
  assert.equal(heun.order, 2);
  assert.equal(heun.timesteps.length, 15);
  for (let i = 1; i < 15; i++) assert.ok(heun.timesteps[i]! <= heun.timesteps[i - 1]!);
  assert.ok(heun.timesteps.every((t) => t > 0));
});

test('Euler is exact on a straight path (rectified flow of a single data point)', () => {
  const rng = new Rng(3);
  const x0 = Tensor.randn([2, 5], rng);
  const noise = Tensor.randn([2, 5], rng);
  // the exact velocity field of a one-point data set: v(x, t) = (x - x0) / t, constant along each path
  const v = (x: Tensor, t: number) => Tensor.from(Array.from(x.data, (xi, i) => (xi - x0.data[i]!) / t), x.shape);
  for (const shift of [1, 3]) {
    const s = createScheduler('euler');
    s.setTimesteps(3, { shift });
    const { x } = sample(s, noise, v);
    x.toArray().forEach((xi, i) => assert.ok(Math.abs(xi - x0.data[i]!) < 1e-5, `x[${i}] = ${xi} vs ${x0.data[i]}`));
    assert.equal(s.sampleSigma, 0);
  }
});

test('Heun is more accurate than Euler on a curved ODE, at equal steps and at equal evaluations', () => {
  // dx/dt = lambda x from t = 1 to 0: exact x(0) = x(1) exp(-lambda)
  const lambda = 1.5;
  const v = (x: Tensor) => Tensor.from(Array.from(x.data, (xi) => lambda * xi), x.shape);
  const x1 = Tensor.from([1, -2], [1, 2]);
  const exact = x1.toArray().map((xi) => xi * Math.exp(-lambda));
  const error = (x: Tensor) => Math.max(...x.toArray().map((xi, i) => Math.abs(xi - exact[i]!)));
  const run = (name: string, steps: number) => {
    const s = createScheduler(name);
    s.setTimesteps(steps);
    return sample(s, x1, v);
  };
  const euler10 = run('euler', 10);
  const heun10 = run('heun', 10);
  const euler19 = run('euler', 19);
  assert.equal(heun10.evals, 19);
  assert.ok(error(heun10.x) < error(euler10.x) / 5, `heun ${error(heun10.x)} vs euler ${error(euler10.x)}`);
  assert.ok(error(heun10.x) < error(euler19.x), `heun ${error(heun10.x)} vs euler(19) ${error(euler19.x)}`);
  // second order: doubling the steps cuts the error about 4x (first-order part only on the final Euler step)
  assert.ok(error(run('heun', 20).x) < error(heun10.x) / 2);
});

test('step checks the call order and shapes', () => {
  const s = new FlowEulerScheduler();
  const x = Tensor.zeros([1, 2]);
  assert.throws(() => s.step(x, 1, x), /call setTimesteps/);
  s.setTimesteps(2);
  assert.throws(() => s.step(x, 0.5, x), /expected step 0 at t=1/);
  assert.throws(() => s.step(Tensor.zeros([1, 3]), 1, x), /does not match sample/);
  s.step(x, 1, x);
  s.step(x, s.timesteps[1]!, x);
  assert.throws(() => s.step(x, 0, x), /all 2 steps are done/);
  assert.throws(() => createScheduler('ddim'), /scheduler: expected one of euler, heun, euler-ancestral/);
});

test('scaleNoise starts an edit at the first sigma of a partial schedule', () => {
  const s = new FlowEulerScheduler();
  s.setTimesteps(10, { strength: 0.3 });
  const y = s.scaleNoise(Tensor.from([1], [1]), Tensor.from([-1], [1]));
  assert.ok(Math.abs(y.item() - (0.7 * 1 + 0.3 * -1)) < 1e-6);
  assert.equal(s.timesteps.length, 3);
});

test('euler-ancestral: eta 0 is Euler, a seed reproduces, and the last step lands on the data estimate', () => {
  const rng = new Rng(4);
  const x0 = Tensor.randn([3, 4], rng);
  const noise = Tensor.randn([3, 4], rng);
  const point = (x: Tensor, t: number) => Tensor.from(Array.from(x.data, (xi, i) => (xi - x0.data[i]!) / t), x.shape);
  // a curved field, where fresh noise changes the path
  const curved = (x: Tensor) => Tensor.from(Array.from(x.data, (xi) => 1.5 * xi), x.shape);
  const run = (s: FlowScheduler, v: (x: Tensor, t: number) => Tensor) => { s.setTimesteps(6, { shift: 2 }); return sample(s, noise, v).x.toArray(); };
  assert.deepEqual(run(new FlowEulerAncestralScheduler(new Rng(1), 0), curved), run(new FlowEulerScheduler(), curved));
  assert.deepEqual(run(createScheduler('euler-ancestral', { rng: new Rng(7), eta: 0.5 }), curved), run(createScheduler('euler-ancestral', { rng: new Rng(7), eta: 0.5 }), curved));
  assert.notDeepEqual(run(createScheduler('euler-ancestral', { rng: new Rng(7), eta: 0.5 }), curved), run(createScheduler('euler-ancestral', { rng: new Rng(8), eta: 0.5 }), curved));
  // one data point: every step's data estimate is that point, whatever noise is drawn
  for (const eta of [0.5, 1]) {
    run(new FlowEulerAncestralScheduler(new Rng(2), eta), point).forEach((xi, i) => assert.ok(Math.abs(xi - x0.data[i]!) < 1e-5, `eta ${eta}: x[${i}] = ${xi} vs ${x0.data[i]}`));
  }
  assert.throws(() => createScheduler('euler-ancestral'), /rng: euler-ancestral draws fresh noise/);
  assert.throws(() => new FlowEulerAncestralScheduler(new Rng(1), 1.5), /eta: expected a number in \[0, 1\]/);
});

test('euler-ancestral with the exact velocity of Gaussian data samples that Gaussian, for any eta', () => {
  // a sampler that renewed a fixed share of the noise each step instead (0.476 at eta 0.5) would fail this
  // data x0 ~ N(0, s^2) per element: E[eps - x0 | x_t] = (t - (1 - t) s^2) / ((1 - t)^2 s^2 + t^2) x_t
  const s2 = 0.25;
  const v = (x: Tensor, t: number) => {
    const k = (t - (1 - t) * s2) / ((1 - t) ** 2 * s2 + t * t);
    return Tensor.from(Array.from(x.data, (xi) => k * xi), x.shape);
  };
  const start = Tensor.randn([1, 40_000], new Rng(5));
  for (const eta of [0, 0.5, 1]) {
    const sch = new FlowEulerAncestralScheduler(new Rng(6), eta);
    sch.setTimesteps(400, { shift: 2 });
    const out = sample(sch, start, v).x.toArray();
    const variance = out.reduce((a, b) => a + b * b, 0) / out.length;
    assert.ok(Math.abs(Math.sqrt(variance) - 0.5) < 0.012, `eta ${eta}: std ${Math.sqrt(variance)}, expected 0.5`);
  }
});
