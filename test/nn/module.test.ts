import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, Tensor } from '../../src/engine/index.js';
import { TesseraError } from '../../src/errors.js';
import { Conv3d, Embedding, LayerNorm, Linear, MLP, Module, RMSNorm, GroupNorm, Conv2d } from '../../src/nn/index.js';

class Block extends Module {
  norm: LayerNorm;
  mlp: MLP;
  constructor(rng: Rng) {
    super();
    this.norm = new LayerNorm(4);
    this.mlp = new MLP(4, 8, 4, { rng });
  }
}

class Net extends Module {
  embed: Linear;
  blocks: Block[];
  head: Linear;
  scale: Tensor;
  cache = Tensor.zeros([3]); // not a parameter: no requiresGrad, not registered
  constructor(rng: Rng) {
    super();
    this.embed = new Linear(3, 4, { rng, bias: false });
    this.blocks = [new Block(rng), new Block(rng)];
    this.head = new Linear(4, 2, { rng });
    this.scale = Tensor.ones([1]);
    this.scale.requiresGrad = true;
    this.registerBuffer('steps', Tensor.zeros([1]));
  }
  forward(x: Tensor): Tensor {
    let h = this.embed.forward(x);
    for (const b of this.blocks) h = b.mlp.forward(b.norm.forward(h));
    return this.head.forward(h).mul(this.scale);
  }
}

test('parameters are named by dotted property paths in assignment order', () => {
  const net = new Net(new Rng(1));
  const names = net.namedParameters().map(([n]) => n);
  assert.deepEqual(names, [
    'scale',
    'embed.weight',
    'blocks.0.norm.weight', 'blocks.0.norm.bias',
    'blocks.0.mlp.fc1.weight', 'blocks.0.mlp.fc1.bias', 'blocks.0.mlp.fc2.weight', 'blocks.0.mlp.fc2.bias',
    'blocks.1.norm.weight', 'blocks.1.norm.bias',
    'blocks.1.mlp.fc1.weight', 'blocks.1.mlp.fc1.bias', 'blocks.1.mlp.fc2.weight', 'blocks.1.mlp.fc2.bias',
    'head.weight', 'head.bias',
  ]);
  assert.deepEqual(net.embed.weight.shape, [4, 3]); // PyTorch layout [out, in]
  const perBlock = 4 + 4 + (4 * 8 + 8) + (8 * 4 + 4);
  assert.equal(net.numParameters(), 1 + 12 + 2 * perBlock + (4 * 2 + 2));
  assert.ok(net.stateDict().has('steps'));
  assert.ok(!names.includes('steps') && !names.includes('cache'));
});

test('stateDict round trip reproduces outputs; load copies in place', () => {
  const a = new Net(new Rng(1));
  const b = new Net(new Rng(2));
  const x = Tensor.randn([5, 3], new Rng(3));
  const before = b.forward(x).toArray();
  assert.notDeepEqual(a.forward(x).toArray(), before);
  const weightRef = b.head.weight;
  b.loadStateDict(a.stateDict());
  assert.equal(b.head.weight, weightRef, 'tensor objects are kept (optimisers hold them)');
  assert.deepEqual(b.forward(x).toArray(), a.forward(x).toArray());
});

test('loadStateDict names the offending tensor', () => {
  const net = new Net(new Rng(1));
  const sd = new Map(net.stateDict());
  sd.set('blocks.1.mlp.fc1.weight', Tensor.zeros([8, 5]));
  assert.throws(() => net.loadStateDict(sd), (e: unknown) => {
    assert.ok(e instanceof TesseraError);
    assert.equal(e.code, 'shape_mismatch');
    assert.match(e.message, /blocks\.1\.mlp\.fc1\.weight: expected shape \[8,4\], got \[8,5\]/);
    return true;
  });
  const missing = new Map(net.stateDict());
  missing.delete('head.bias');
  missing.set('head.extra', Tensor.zeros([1]));
  assert.throws(() => net.loadStateDict(missing), /missing head\.bias; unexpected head\.extra/);
  // non-strict loads what matches and ignores the rest
  const other = new Net(new Rng(9));
  const partial = new Map([['head.weight', other.head.weight]]);
  net.loadStateDict(partial, { strict: false });
  assert.deepEqual(net.head.weight.toArray(), other.head.weight.toArray());
});

test('a failed load leaves the module untouched', () => {
  const net = new Net(new Rng(1));
  const before = net.embed.weight.toArray();
  const sd = new Map(new Net(new Rng(2)).stateDict());
  sd.set('head.weight', Tensor.zeros([3, 3]));
  assert.throws(() => net.loadStateDict(sd));
  assert.deepEqual(net.embed.weight.toArray(), before);
});

test('train/eval reach every module; freeze keeps parameters in the state dict', () => {
  const net = new Net(new Rng(1));
  net.eval();
  assert.ok(net.modules().every((m) => !m.training));
  net.train();
  assert.ok(net.blocks[1]!.mlp.fc2.training);
  net.freeze();
  assert.ok(net.parameters().every((p) => !p.requiresGrad));
  assert.equal(net.namedParameters().length, 16);
});

test('same seed gives the same weights', () => {
  assert.deepEqual(new Net(new Rng(7)).head.weight.toArray(), new Net(new Rng(7)).head.weight.toArray());
});

test('Linear computes x W^T + b', () => {
  const lin = new Linear(2, 3, { rng: new Rng(0) });
  lin.weight.data.set([1, 2, 3, 4, 5, 6]);
  lin.bias!.data.set([0.5, 0, -1]);
  const y = lin.forward(Tensor.from([1, -1], [1, 2]));
  assert.deepEqual(y.toArray(), [-0.5, -1, -2]);
});

test('norm layers normalise the last dimension / groups', () => {
  const x = Tensor.randn([3, 16], new Rng(4), 5);
  const y = new LayerNorm(16).forward(x).toArray();
  const mean = y.slice(0, 16).reduce((a, b) => a + b, 0) / 16;
  assert.ok(Math.abs(mean) < 1e-5);
  const r = new RMSNorm(16).forward(x).toArray().slice(0, 16);
  assert.ok(Math.abs(r.reduce((a, b) => a + b * b, 0) / 16 - 1) < 1e-3);
  const g = new GroupNorm(2, 4).forward(Tensor.randn([1, 4, 3, 3], new Rng(5), 3)).toArray();
  const g0 = g.slice(0, 18);
  assert.ok(Math.abs(g0.reduce((a, b) => a + b, 0) / 18) < 1e-5);
});

test('Embedding looks rows up and rejects ids out of range', () => {
  const emb = new Embedding(5, 3, new Rng(0));
  const y = emb.forward(Int32Array.from([4, 0]), [1, 2]);
  assert.deepEqual(y.shape, [1, 2, 3]);
  assert.deepEqual(y.toArray().slice(0, 3), Array.from(emb.weight.data.subarray(12, 15)));
  assert.throws(() => emb.forward(Int32Array.from([5])), /Embedding\.ids: id 5/);
});

test('causal Conv3d: output frame i does not depend on later frames', () => {
  const conv = new Conv3d(2, 3, [3, 3, 3], { rng: new Rng(0), causal: true });
  const x = Tensor.randn([1, 2, 4, 5, 5], new Rng(1));
  const y = conv.forward(x);
  assert.deepEqual(y.shape, [1, 3, 4, 5, 5]);
  const x2 = x.clone();
  // change the last frame only
  for (let c = 0; c < 2; c++) for (let i = 0; i < 25; i++) x2.data[(c * 4 + 3) * 25 + i]! += 1;
  const y2 = conv.forward(x2);
  for (let c = 0; c < 3; c++) {
    for (let t = 0; t < 3; t++) {
      for (let i = 0; i < 25; i++) assert.equal(y2.data[(c * 4 + t) * 25 + i], y.data[(c * 4 + t) * 25 + i]);
    }
  }
  const strided = new Conv3d(2, 4, [1, 2, 2], { rng: new Rng(0), stride: [1, 2, 2], padding: 0 });
  assert.deepEqual(strided.forward(x.slice(3, 0, 4)).shape, [1, 4, 4, 2, 2]);
  assert.deepEqual(new Conv2d(2, 3, 3, { rng: new Rng(0), stride: 2 }).forward(Tensor.zeros([1, 2, 6, 6])).shape, [1, 3, 3, 3]);
});
