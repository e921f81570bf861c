import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng, Tensor, mul, noGrad, rope, sum } from '../../src/engine/index.js';
import { TesseraError } from '../../src/errors.js';
import {
  DiT,
  DiTConfig,
  FrameIndexEmbed,
  PatchEmbed3D,
  TemporalAttention,
  batchTextConditions,
  frameChannels,
  rope3d,
} from '../../src/models/dit/index.js';
import type { TextCondition } from '../../src/models/dit/index.js';
import { guidedVelocity } from '../../src/diffusion/index.js';

const TINY: Partial<DiTConfig> = {
  latentChannels: 4, hiddenSize: 32, depth: 2, numHeads: 2, mlpRatio: 2, textDim: 8, timestepFeatures: 16,
  framePositionFrequencies: 4,
};

function text(B: number, L: number, dim: number, rng: Rng, mask: Uint8Array | null = null): TextCondition {
  return { tokens: Tensor.randn([B, L, dim], rng), pooled: Tensor.randn([B, dim], rng), mask };
}

/** Gives the zero-initialised parts random weights so outputs depend on every input. */
function randomiseZeroInit(model: DiT, rng: Rng): void {
  for (const [name, p] of model.namedParameters()) {
    if (/adaLN|final\.linear|crossAttn\.proj/.test(name)) for (let i = 0; i < p.size; i++) p.data[i] = 0.05 * rng.normal();
  }
}

/** Saves the model, deletes one field from its config.json (as a folder written before the field existed) and loads it. */
async function reloadWithout(model: DiT, field: keyof DiTConfig): Promise<DiT> {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-dit-'));
  try {
    await model.savePretrained(dir);
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    delete config[field];
    await writeFile(join(dir, 'config.json'), JSON.stringify(config));
    return await DiT.fromPretrained(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('the default config has ~26M parameters and validates its fields', () => {
  const model = new DiT({}, new Rng(0));
  const n = model.numParameters();
  assert.ok(n > 24e6 && n < 27e6, `${n}`);
  assert.deepEqual(model.config.patchSize, [1, 2, 2]);
  assert.throws(() => DiTConfig.resolve({ hiddenSize: 100, numHeads: 6 }), /DiTConfig\.numHeads: hiddenSize 100 is not divisible/);
  assert.throws(() => DiTConfig.resolve({ patchSize: [1, 2] as unknown as [number, number, number] }), /DiTConfig\.patchSize/);
});

test('latents of images and clips, square, landscape and portrait, keep their shape', () => {
  const rng = new Rng(1);
  const model = new DiT(TINY, rng.fork('model'));
  randomiseZeroInit(model, rng.fork('w'));
  for (const [T, H, W] of [[1, 4, 4], [3, 4, 4], [2, 4, 8], [2, 6, 2]] as const) {
    const x = Tensor.randn([2, 4, T, H, W], rng);
    const frames = { mask: Float32Array.from({ length: 2 * T }, (_, i) => (i === 0 ? 1 : 0)), latents: Tensor.randn(x.shape, rng) };
    const y = noGrad(() => model.forward({ latents: x, timesteps: [0.3, 0.9], text: text(2, 5, 8, rng), frames }));
    assert.deepEqual(y.shape, x.shape);
    assert.ok(y.data.every(Number.isFinite));
    assert.equal(model.numTokens(T, H, W), (T * H * W) / 4);
  }
  assert.throws(
    () => model.forward({ latents: Tensor.zeros([1, 4, 1, 5, 4]), timesteps: [0.5], text: text(1, 2, 8, rng) }),
    /latents: latent \[T=1, H=5, W=4\] must be divisible by the patch size/,
  );
  assert.throws(() => model.forward({ latents: Tensor.zeros([1, 4, 1, 4, 4]), timesteps: [0.5, 0.1], text: text(1, 2, 8, rng) }), /timesteps: expected one per sample/);
});

test('a new DiT is the identity in every block and outputs zero (adaLN-Zero)', () => {
  const rng = new Rng(2);
  const model = new DiT(TINY, rng);
  const x = Tensor.randn([1, 8, 32], rng);
  const cAct = Tensor.randn([1, 32], rng);
  const cond = text(1, 3, 8, rng);
  const rot = model.rotations({ t: 2, h: 2, w: 2 });
  for (const block of model.blocks) {
    assert.deepEqual(noGrad(() => block.forward(x, cAct, cond, rot, null)).toArray(), x.toArray());
  }
  const y = noGrad(() => model.forward({ latents: Tensor.randn([1, 4, 2, 4, 4], rng), timesteps: [0.5], text: cond }));
  assert.ok(y.data.every((v) => v === 0));
  randomiseZeroInit(model, rng);
  assert.notDeepEqual(noGrad(() => model.blocks[0]!.forward(x, cAct, cond, rot, null)).toArray(), x.toArray());
});

test('patches are cut in (t, h, w) raster order and unpatchify inverts the layout', () => {
  const embed = new PatchEmbed3D(2, 8, [1, 2, 2], new Rng(0));
  // identity projection: each token is its patch's raw (C, pt, ph, pw) values
  embed.proj.weight.data.fill(0);
  for (let i = 0; i < 8; i++) embed.proj.weight.data[i * 8 + i] = 1;
  const x = Tensor.from(Array.from({ length: 2 * 2 * 4 * 4 }, (_, i) => i), [1, 2, 2, 4, 4]);
  const tokens = embed.forward(x); // [1, 2*2*2, 8]
  assert.deepEqual(tokens.shape, [1, 8, 8]);
  const at = (c: number, t: number, h: number, w: number) => x.data[((c * 2 + t) * 4 + h) * 4 + w]!;
  // token (t=1, h=0, w=1), channel 1, cell (i=1, j=0)
  assert.equal(tokens.data[(1 * 4 + 0 * 2 + 1) * 8 + 1 * 4 + 1 * 2 + 0], at(1, 1, 1, 2));
  const model = new DiT({ ...TINY, latentChannels: 2 }, new Rng(0));
  // a token holding (pt, ph, pw, C) values goes back to its cells
  const out = Tensor.from(Array.from({ length: 8 * 8 }, (_, i) => i), [1, 8, 8]);
  const video = model.unpatchify(out, { t: 2, h: 2, w: 2 });
  assert.deepEqual(video.shape, [1, 2, 2, 4, 4]);
  const cell = (c: number, t: number, h: number, w: number) => video.data[((c * 2 + t) * 4 + h) * 4 + w]!;
  const token = 1 * 4 + 1 * 2 + 0; // t=1, h=1, w=0
  assert.equal(cell(1, 1, 3, 0), out.data[token * 8 + (1 * 2 + 0) * 2 + 1]); // ph=1, pw=0, c=1
});

test('frame conditioning channels: mask then masked clean latents', () => {
  const x = Tensor.zeros([1, 2, 3, 1, 2]);
  const clean = Tensor.from(Array.from({ length: 12 }, (_, i) => i + 1), [1, 2, 3, 1, 2]);
  const [mask, values] = frameChannels(x, { mask: Float32Array.from([0, 1, 0]), latents: clean });
  assert.deepEqual(mask.toArray(), [0, 0, 1, 1, 0, 0]);
  assert.deepEqual(values.toArray(), [0, 0, 3, 4, 0, 0, 0, 0, 9, 10, 0, 0]);
  const [m0, v0] = frameChannels(x, undefined);
  assert.ok(m0.data.every((v) => v === 0) && v0.data.every((v) => v === 0));
});

test('given frames and text padding: the model reads the first and ignores the second', () => {
  const rng = new Rng(3);
  const model = new DiT(TINY, rng.fork('model'));
  randomiseZeroInit(model, rng.fork('w'));
  const x = Tensor.randn([1, 4, 2, 4, 4], rng);
  const mask = Uint8Array.from([1, 1, 0, 0]);
  const cond = text(1, 4, 8, rng, mask);
  const run = (c: TextCondition, frames?: { mask: Float32Array; latents: Tensor }) =>
    noGrad(() => model.forward({ latents: x, timesteps: [0.5], text: c, ...(frames ? { frames } : {}) })).toArray();
  const base = run(cond);
  const padded = { ...cond, tokens: cond.tokens.clone() };
  for (let i = 2 * 8; i < 4 * 8; i++) padded.tokens.data[i] = 100; // change only the padding tokens
  assert.deepEqual(run(padded), base);
  const real = { ...cond, tokens: cond.tokens.clone() };
  real.tokens.data[0] = 100;
  assert.notDeepEqual(run(real), base);
  assert.notDeepEqual(run(cond, { mask: Float32Array.from([1, 0]), latents: Tensor.randn(x.shape, rng) }), base);
});

test('3D RoPE scores depend only on spacetime offsets, on any grid', () => {
  const grid = { t: 3, h: 4, w: 5 };
  const { cos, sin } = rope3d(grid, [2, 3, 3], 100);
  assert.deepEqual(cos.shape, [60, 8]);
  const rng = new Rng(4);
  const q = Tensor.randn([1, 1, 1, 16], rng);
  const k = Tensor.randn([1, 1, 1, 16], rng);
  const tile = (v: Tensor) => Tensor.from(Array.from({ length: 60 }, () => Array.from(v.data)).flat(), [1, 1, 60, 16]);
  const qr = rope(tile(q), cos, sin).data;
  const kr = rope(tile(k), cos, sin).data;
  const idx = (t: number, h: number, w: number) => (t * 4 + h) * 5 + w;
  const score = (a: number, b: number) => {
    let s = 0;
    for (let d = 0; d < 16; d++) s += qr[a * 16 + d]! * kr[b * 16 + d]!;
    return s;
  };
  // same offset (1, 2, -1) at two places gives the same score; another offset does not
  const s1 = score(idx(0, 0, 3), idx(1, 2, 2));
  const s2 = score(idx(1, 1, 4), idx(2, 3, 3));
  assert.ok(Math.abs(s1 - s2) < 1e-4, `${s1} vs ${s2}`);
  assert.ok(Math.abs(s1 - score(idx(0, 0, 3), idx(1, 2, 1))) > 1e-3);
  // a model runs on a grid far from anything it was built or trained with
  const model = new DiT(TINY, new Rng(5));
  randomiseZeroInit(model, rng);
  const y = noGrad(() => model.forward({ latents: Tensor.randn([1, 4, 7, 6, 14], rng), timesteps: [0.2], text: text(1, 3, 8, rng) }));
  assert.deepEqual(y.shape, [1, 4, 7, 6, 14]);
  assert.ok(y.data.every(Number.isFinite));
});

test('on uniform input RoPE alone cannot tell tokens apart; frame positions can', () => {
  const rng = new Rng(6);
  const x = Tensor.full([1, 4, 1, 4, 4], 0.3);
  const cond = text(1, 2, 8, rng);
  const spread = (model: DiT) => {
    randomiseZeroInit(model, new Rng(7));
    const y = noGrad(() => model.forward({ latents: x, timesteps: [1], text: cond }));
    // compare the first output channel of every patch cell position (0, 0) across tokens
    const firstCells = [0, 2, 8, 10].map((o) => y.data[o]!);
    return Math.max(...firstCells) - Math.min(...firstCells);
  };
  assert.ok(spread(new DiT({ ...TINY, framePositionFrequencies: 0 }, new Rng(8))) < 1e-5);
  assert.ok(spread(new DiT(TINY, new Rng(8))) > 1e-4);
});

test('on uniform input nothing tells latent frames apart but the frame-index features', () => {
  const rng = new Rng(11);
  const x = Tensor.full([1, 4, 3, 2, 2], 0.3); // three latent frames of one token each
  const cond = text(1, 2, 8, rng);
  const spread = (model: DiT) => {
    randomiseZeroInit(model, new Rng(12));
    for (const [name, p] of model.namedParameters()) {
      if (name.startsWith('frameIndex.')) for (let i = 0; i < p.size; i++) p.data[i] = 0.05 * rng.normal();
    }
    const y = noGrad(() => model.forward({ latents: x, timesteps: [1], text: cond }));
    const perFrame = [0, 1, 2].map((t) => y.data[t * 4]!); // channel 0, cell (0, 0) of every latent frame
    return Math.max(...perFrame) - Math.min(...perFrame);
  };
  assert.ok(spread(new DiT(TINY, new Rng(13))) < 1e-5, 'RoPE and frame positions alone');
  assert.ok(spread(new DiT({ ...TINY, frameIndexFrequencies: 2 }, new Rng(13))) > 1e-4, 'with frame-index features');
  assert.throws(() => DiTConfig.resolve({ frameIndexFrequencies: -1 }), /DiTConfig\.frameIndexFrequencies: expected an integer >= 0/);
});

test('frame-index features: the first latent frame is marked, the rest follow sines of the index', () => {
  const f = FrameIndexEmbed.features({ t: 3, h: 1, w: 2 }, 2).toArray() as number[];
  const row = (i: number) => f.slice(i * 5, i * 5 + 5);
  assert.deepEqual(row(0), row(1), 'tokens of one frame share features');
  assert.equal(row(0)[0], 1);
  assert.equal(row(2)[0], 0);
  assert.ok(Math.abs(row(2)[1]! - Math.sin(Math.PI / 2)) < 1e-6 && Math.abs(row(4)[1]! - Math.sin(Math.PI)) < 1e-6);
});

test('adding frame-index features to a trained model leaves its output unchanged until they are trained', async () => {
  const rng = new Rng(14);
  const base = new DiT(TINY, rng.fork('m'));
  randomiseZeroInit(base, rng.fork('w'));
  const withIndex = new DiT({ ...TINY, frameIndexFrequencies: 3 }, rng.fork('m2'));
  const old = base.stateDict();
  for (const [name, p] of withIndex.stateDict()) {
    const src = old.get(name);
    if (src) p.data.set(src.data);
    else assert.ok(name.startsWith('frameIndex.'), name);
  }
  const input = { latents: Tensor.randn([1, 4, 3, 4, 4], rng), timesteps: [0.6], text: text(1, 2, 8, rng) };
  assert.deepEqual(noGrad(() => withIndex.forward(input)).toArray(), noGrad(() => base.forward(input)).toArray());
  // a folder written before the field existed loads with it off
  const loaded = await reloadWithout(base, 'frameIndexFrequencies');
  assert.equal(loaded.config.frameIndexFrequencies, 0);
  assert.equal(loaded.frameIndex, null);
});

test('temporal attention mixes tokens only along time, at their own place in the frame', () => {
  const rng = new Rng(21);
  const layer = new TemporalAttention(32, 2, rng.fork('layer'));
  for (let i = 0; i < layer.attn.proj.weight.size; i++) layer.attn.proj.weight.data[i] = 0.1 * rng.normal();
  const grid = { t: 3, h: 2, w: 2 };
  const model = new DiT({ ...TINY, temporalAttention: true }, rng.fork('m'));
  const rot = model.rotations(grid);
  const x = Tensor.randn([2, 12, 32], rng); // B = 2, tokens in (t, h, w) raster order
  const base = noGrad(() => layer.forward(x, grid, rot.time, null)).toArray();
  const changed = x.clone();
  for (let d = 0; d < 32; d++) changed.data[(12 + 1 * 4 + 3) * 32 + d] += 1; // batch 1, frame 1, place (1, 1)
  const after = noGrad(() => layer.forward(changed, grid, rot.time, null)).toArray();
  for (let b = 0; b < 2; b++) {
    for (let t = 0; t < 3; t++) {
      for (let place = 0; place < 4; place++) {
        const row = (b * 12 + t * 4 + place) * 32;
        const moved = after.slice(row, row + 32).some((v, d) => v !== base[row + d]);
        assert.equal(moved, b === 1 && place === 3, `batch ${b}, frame ${t}, place ${place}`);
      }
    }
  }
});

test('adding temporal attention to a trained model leaves its output unchanged until it is trained', async () => {
  const rng = new Rng(22);
  const base = new DiT(TINY, rng.fork('m'));
  randomiseZeroInit(base, rng.fork('w'));
  const withTime = new DiT({ ...TINY, temporalAttention: true }, rng.fork('m2'));
  const old = base.stateDict();
  for (const [name, p] of withTime.stateDict()) {
    const src = old.get(name);
    if (src) p.data.set(src.data);
    else assert.match(name, /^blocks\.\d+\.temporalAttn\./);
  }
  const input = { latents: Tensor.randn([1, 4, 3, 4, 4], rng), timesteps: [0.6], text: text(1, 2, 8, rng) };
  assert.deepEqual(noGrad(() => withTime.forward(input)).toArray(), noGrad(() => base.forward(input)).toArray());
  // once its projection is trained the branch changes the output, and gradients reach all of it
  for (const block of withTime.blocks) for (let i = 0; i < block.temporalAttn!.attn.proj.weight.size; i++) block.temporalAttn!.attn.proj.weight.data[i] = 0.05 * rng.normal();
  assert.notDeepEqual(noGrad(() => withTime.forward(input)).toArray(), noGrad(() => base.forward(input)).toArray());
  const out = withTime.forward(input);
  sum(mul(out, out)).backward();
  const qkv = [...withTime.namedParameters()].filter(([name]) => name.endsWith('temporalAttn.attn.qkv.weight'));
  assert.equal(qkv.length, TINY.depth);
  for (const [name, p] of qkv) assert.ok(p.grad!.data.some((v) => v !== 0), `${name} got no gradient`);
  assert.throws(() => new DiT({ ...TINY, temporalAttention: 'yes' as unknown as boolean }, rng), /DiTConfig\.temporalAttention: expected true or false/);
  // a folder written before the field existed loads with it off
  const loaded = await reloadWithout(base, 'temporalAttention');
  assert.equal(loaded.config.temporalAttention, false);
  assert.ok(loaded.blocks.every((b) => b.temporalAttn === null));
});

test('batchTextConditions pads shorter captions and masks the padding', () => {
  const rng = new Rng(9);
  const a = text(1, 3, 4, rng, Uint8Array.from([1, 1, 0]));
  const b = text(1, 2, 4, rng);
  const both = batchTextConditions([a, b]);
  assert.deepEqual(both.tokens.shape, [2, 3, 4]);
  assert.deepEqual(Array.from(both.mask!), [1, 1, 0, 1, 1, 0]);
  assert.deepEqual(both.tokens.toArray().slice(12, 20), b.tokens.toArray());
  assert.deepEqual(both.pooled.toArray().slice(4), b.pooled.toArray());
  assert.throws(() => batchTextConditions([a, text(1, 2, 5, rng)]), TesseraError);
});

test('savePretrained / fromPretrained round trip', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-dit-'));
  try {
    const rng = new Rng(10);
    const model = new DiT({ ...TINY, patchSize: [1, 2, 2], depth: 1 }, rng.fork('m'));
    randomiseZeroInit(model, rng.fork('w'));
    await model.savePretrained(dir);
    const loaded = await DiT.fromPretrained(dir);
    assert.deepEqual(loaded.config, model.config);
    const input = { latents: Tensor.randn([1, 4, 1, 4, 4], rng), timesteps: [0.4], text: text(1, 2, 8, rng) };
    assert.deepEqual(noGrad(() => loaded.forward(input)).toArray(), noGrad(() => model.forward(input)).toArray());
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a token mask hides padded tokens of a packed sequence from the real ones', () => {
  const rng = new Rng(11);
  const model = new DiT(TINY, rng.fork('model'));
  randomiseZeroInit(model, rng.fork('w'));
  const x = Tensor.randn([1, 4, 1, 4, 4], rng); // 4 tokens; the last one (h=1, w=1) is padding
  const cond = text(1, 2, 8, rng);
  const tokenMask = Uint8Array.from([1, 1, 1, 0]);
  const run = (latents: Tensor) => noGrad(() => model.forward({ latents, timesteps: [0.5], text: cond, tokenMask })).toArray();
  const changed = x.clone();
  for (let c = 0; c < 4; c++) for (const [h, w] of [[2, 2], [2, 3], [3, 2], [3, 3]]) changed.data[c * 16 + h! * 4 + w!] = 5;
  const a = run(x), b = run(changed);
  for (let c = 0; c < 4; c++) {
    for (let h = 0; h < 4; h++) {
      for (let w = 0; w < 4; w++) {
        const i = c * 16 + h * 4 + w;
        if (h < 2 || w < 2) assert.equal(b[i], a[i], `real cell c=${c} h=${h} w=${w} changed`);
      }
    }
  }
  assert.throws(() => model.forward({ latents: x, timesteps: [0.5], text: cond, tokenMask: new Uint8Array(3) }), /tokenMask: expected 4/);
});

test('with temporal attention a token mask still hides padded tokens, even a place padded in every frame', () => {
  const rng = new Rng(23);
  const model = new DiT({ ...TINY, temporalAttention: true }, rng.fork('model'));
  randomiseZeroInit(model, rng.fork('w'));
  for (const block of model.blocks) for (let i = 0; i < block.temporalAttn!.attn.proj.weight.size; i++) block.temporalAttn!.attn.proj.weight.data[i] = 0.05 * rng.normal();
  const x = Tensor.randn([1, 4, 2, 4, 4], rng); // 2 frames of 2x2 tokens
  const cond = text(1, 2, 8, rng);
  const tokenMask = Uint8Array.from([1, 1, 0, 1, 1, 1, 0, 0]); // place 2 padded in both frames, place 3 in frame 1
  const run = (latents: Tensor) => noGrad(() => model.forward({ latents, timesteps: [0.5], text: cond, tokenMask })).toArray();
  const changed = x.clone();
  const padded = (t: number, h: number, w: number): boolean => tokenMask[t * 4 + (h >> 1) * 2 + (w >> 1)] === 0;
  for (let c = 0; c < 4; c++) for (let t = 0; t < 2; t++) for (let h = 0; h < 4; h++) for (let w = 0; w < 4; w++) {
    if (padded(t, h, w)) changed.data[((c * 2 + t) * 4 + h) * 4 + w] = 5;
  }
  const a = run(x), b = run(changed);
  assert.ok(b.every(Number.isFinite));
  for (let c = 0; c < 4; c++) for (let t = 0; t < 2; t++) for (let h = 0; h < 4; h++) for (let w = 0; w < 4; w++) {
    const i = ((c * 2 + t) * 4 + h) * 4 + w;
    if (!padded(t, h, w)) assert.equal(b[i], a[i], `real cell c=${c} t=${t} h=${h} w=${w} changed`);
  }
});

test('guidance with a negative prompt in one doubled pass equals two separate passes', () => {
  const rng = new Rng(12);
  const model = new DiT(TINY, rng.fork('model'));
  randomiseZeroInit(model, rng.fork('w'));
  const x = Tensor.randn([1, 4, 2, 4, 4], rng);
  const prompt = text(1, 4, 8, rng, Uint8Array.from([1, 1, 1, 0]));
  const negative = text(1, 2, 8, rng);
  const both = batchTextConditions([prompt, negative]);
  const t = 0.6, scale = 4;
  const guided = noGrad(() =>
    guidedVelocity(x, scale, (pair) => model.forward({ latents: pair, timesteps: [t, t], text: both })),
  );
  const cond = noGrad(() => model.forward({ latents: x, timesteps: [t], text: prompt })).toArray();
  const uncond = noGrad(() => model.forward({ latents: x, timesteps: [t], text: negative })).toArray();
  guided.toArray().forEach((v, i) => {
    const expected = uncond[i]! + scale * (cond[i]! - uncond[i]!);
    assert.ok(Math.abs(v - expected) < 1e-4, `${i}: ${v} vs ${expected}`);
  });
});
