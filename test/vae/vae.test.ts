import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng, Tensor, noGrad } from '../../src/engine/index.js';
import { TesseraError } from '../../src/errors.js';
import { AdamW } from '../../src/optim/index.js';
import {
  CausalVideoVAE,
  depthToSpace,
  latentShape,
  psnr,
  spaceToDepth,
  tensorToVideo,
  vaeLoss,
  videosToTensor,
  type VaeConfig,
} from '../../src/models/vae/index.js';

/** 8x spatial, 4x temporal, like the default, but with a few channels so tests stay fast. */
const TINY: Partial<VaeConfig> = { patchSize: 2, channels: [4, 8, 8], downsample: ['spacetime', 'spacetime'], groups: 4, latentChannels: 8 };

/** Fills every parameter with noise, so zero-initialised residual branches also take part in a comparison. */
function randomize(vae: CausalVideoVAE, seed: number): CausalVideoVAE {
  const rng = new Rng(seed);
  for (const p of vae.parameters()) {
    const scale = p.ndim >= 2 ? 1 / Math.sqrt(p.size / p.shape[0]!) : 0.2;
    for (let i = 0; i < p.size; i++) p.data[i] = (p.ndim >= 2 ? 0 : p.data[i]!) + rng.normal() * scale;
  }
  return vae;
}

function randomClip(frames: number, height: number, width: number, seed: number): Tensor {
  return Tensor.rand([1, 3, frames, height, width], new Rng(seed)).scaleShift(2, -1);
}

function maxAbsDiff(a: Tensor, b: Tensor): number {
  assert.deepEqual(a.shape, b.shape);
  let m = 0;
  for (let i = 0; i < a.size; i++) m = Math.max(m, Math.abs(a.data[i]! - b.data[i]!));
  return m;
}

function maxAbs(a: Tensor): number {
  let m = 0;
  for (let i = 0; i < a.size; i++) m = Math.max(m, Math.abs(a.data[i]!));
  return m;
}

test('space-to-depth is a lossless rearrangement', () => {
  const x = randomClip(2, 8, 12, 1);
  const packed = spaceToDepth(x, 2);
  assert.deepEqual(packed.shape, [1, 12, 2, 4, 6]);
  assert.deepEqual(depthToSpace(packed, 2).data, x.data);
  // channel (c, dy, dx) of cell (i, j) is pixel (2i + dy, 2j + dx) of channel c
  const at = (t: Tensor, idx: number[]) => t.data[idx.reduce((acc, v, k) => acc * t.shape[k]! + v, 0)]!;
  assert.equal(at(packed, [0, 1 * 4 + 1 * 2 + 0, 1, 2, 3]), at(x, [0, 1, 1, 5, 6]));
});

test('shapes: image, square, landscape and portrait clips round trip', () => {
  const vae = new CausalVideoVAE(TINY, new Rng(1));
  assert.equal(vae.spatialFactor, 8);
  assert.equal(vae.temporalFactor, 4);
  const cases: [number, number, number, number[]][] = [
    [1, 64, 64, [1, 8, 8]],
    [17, 128, 128, [5, 16, 16]],
    [33, 80, 144, [9, 10, 18]], // landscape 144x80 (width x height)
    [9, 144, 80, [3, 18, 10]], // portrait 80x144
  ];
  noGrad(() => {
    for (const [frames, height, width, latent] of cases) {
      const x = randomClip(frames, height, width, frames);
      const posterior = vae.encode(x);
      assert.deepEqual(posterior.mean.shape, [1, 8, ...latent]);
      assert.deepEqual(posterior.logvar.shape, [1, 8, ...latent]);
      assert.deepEqual(latentShape(vae.config, frames, height, width), latent);
      assert.deepEqual(vae.decode(posterior.mean).shape, [1, 3, frames, height, width]);
    }
  });
});

test('the default VAE compresses 8x in space and 4x in time into 8 channels', () => {
  const vae = new CausalVideoVAE();
  assert.deepEqual([vae.spatialFactor, vae.temporalFactor, vae.config.latentChannels], [8, 4, 8]);
  noGrad(() => {
    const z = vae.encode(randomClip(5, 16, 24, 1)).sample(new Rng(1));
    assert.deepEqual(z.shape, [1, 8, 2, 2, 3]);
    assert.deepEqual(vae.decode(z).shape, [1, 3, 5, 16, 24]);
  });
});

test('sizes that do not fit the compression are rejected by name', () => {
  const vae = new CausalVideoVAE(TINY, new Rng(1));
  const expectError = (x: Tensor, param: string, pattern: RegExp) =>
    assert.throws(() => vae.encode(x), (e: unknown) => e instanceof TesseraError && e.param === param && pattern.test(e.message));
  expectError(Tensor.zeros([1, 3, 10, 32, 32]), 'frames', /1 \+ 4k frames/);
  expectError(Tensor.zeros([1, 3, 5, 36, 32]), 'height', /multiple of 8, got 36/);
  expectError(Tensor.zeros([1, 3, 5, 32, 20]), 'width', /multiple of 8, got 20/);
  expectError(Tensor.zeros([1, 4, 5, 32, 32]), 'video', /\[N, 3, T, H, W\]/);
  assert.throws(() => new CausalVideoVAE({ channels: [4, 6], downsample: ['space'], groups: 4 }), /vae\.channels: 6 is not divisible/);
  assert.throws(() => new CausalVideoVAE({ channels: [4, 8], downsample: ['time', 'time'], groups: 4 }), /vae\.downsample: expected 1/);
});

test('causal: a latent frame does not change when later frames change', () => {
  const vae = randomize(new CausalVideoVAE(TINY, new Rng(2)), 3);
  const x = randomClip(9, 16, 16, 4);
  const y = x.clone();
  for (let c = 0; c < 3; c++) {
    const plane = y.data.subarray((c * 9 + 5) * 256, (c * 9 + 6) * 256); // frame 5 belongs to latent frame 2
    plane.fill(0.9);
  }
  noGrad(() => {
    const a = vae.encode(x).mean;
    const b = vae.encode(y).mean;
    assert.equal(maxAbsDiff(a.slice(2, 0, 2), b.slice(2, 0, 2)), 0);
    assert.ok(maxAbsDiff(a.slice(2, 2, 3), b.slice(2, 2, 3)) > 1e-3);
  });
});

for (const [name, config] of [
  ['', TINY],
  [' (shortcuts, time-only levels)', { ...TINY, shortcuts: true, downsample: ['time', 'time'], channels: [4, 8, 12], latentChannels: 6 }],
  [' (shortcuts, spacetime levels)', { ...TINY, shortcuts: true }],
] as [string, Partial<VaeConfig>][]) test(`chunked encode and decode equal the whole-clip result${name}`, () => {
  const vae = randomize(new CausalVideoVAE(config, new Rng(5)), 6);
  const x = randomClip(17, 24, 32, 7);
  noGrad(() => {
    const whole = vae.encode(x);
    const scale = maxAbs(whole.mean);
    assert.ok(scale > 1e-2, 'the comparison must see real values');
    for (const framesPerChunk of [4, 8, 16]) {
      const chunked = vae.encodeChunked(x, { framesPerChunk });
      assert.ok(maxAbsDiff(chunked.mean, whole.mean) <= 1e-4 * scale, `encode, ${framesPerChunk} frames per chunk`);
      assert.ok(maxAbsDiff(chunked.logvar, whole.logvar) <= 1e-4 * Math.max(1, maxAbs(whole.logvar)));
    }
    const decoded = vae.decode(whole.mean).clamp(-1, 1);
    for (const latentFramesPerChunk of [1, 3]) {
      const events: number[] = [];
      const chunked = vae.decodeChunked(whole.mean, { latentFramesPerChunk, onProgress: (e) => events.push(e.done / e.total) });
      assert.ok(maxAbsDiff(chunked, decoded) <= 1e-4, `decode, ${latentFramesPerChunk} latent frames per chunk`);
      assert.equal(events.at(-1), 1);
    }
  });
  assert.throws(() => vae.encodeChunked(x, { framesPerChunk: 6 }), /framesPerChunk: expected a positive multiple of 4/);
  const aborted = new AbortController();
  aborted.abort();
  assert.throws(() => vae.decodeChunked(Tensor.zeros([1, vae.config.latentChannels, 2, 2, 2]), { signal: aborted.signal }), (e: TesseraError) => e.code === 'aborted');
});

test('video layout: 8-bit THWC <-> NCTHW in [-1, 1]', () => {
  const frames = 2, height = 2, width = 3;
  const data = Uint8Array.from({ length: frames * height * width * 3 }, (_, i) => (i * 37) % 256);
  const x = videosToTensor([{ frames, height, width, data }]);
  assert.deepEqual(x.shape, [1, 3, 2, 2, 3]);
  assert.equal(x.data[0], Math.fround(data[0]! / 127.5 - 1)); // channel 0 of pixel 0
  assert.equal(x.data[12], Math.fround(data[1]! / 127.5 - 1)); // channel 1 of pixel 0 (after 12 channel-0 values)
  assert.deepEqual(tensorToVideo(x).data, data);
});

test('save and load a VAE; wrong config fails by name', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-vae-'));
  try {
    const vae = randomize(new CausalVideoVAE({ ...TINY, scalingFactor: 0.5 }, new Rng(8)), 9);
    await vae.savePretrained(dir);
    const back = await CausalVideoVAE.fromPretrained(dir);
    assert.deepEqual(back.config, vae.config);
    const x = randomClip(5, 16, 16, 10);
    noGrad(() => assert.equal(maxAbsDiff(back.encode(x).mean, vae.encode(x).mean), 0));
    const z = Tensor.randn([1, 8, 2, 2, 2], new Rng(1));
    assert.ok(maxAbsDiff(back.denormalizeLatent(back.normalizeLatent(z)), z) < 1e-6);

    await new CausalVideoVAE({ ...TINY, channels: [4, 8, 16] }).savePretrained(join(dir, 'other'));
    const { writeFile, readFile } = await import('node:fs/promises');
    const config = JSON.parse(await readFile(join(dir, 'other', 'config.json'), 'utf8'));
    config.channels = [4, 8, 8];
    await writeFile(join(dir, 'other', 'config.json'), JSON.stringify(config));
    await assert.rejects(CausalVideoVAE.fromPretrained(join(dir, 'other')), /tensor '.*' has shape \[16, .*the model expects \[8, /);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

/** A small clip with structure: a coloured square moving over a gradient. */
function movingSquare(frames: number, size: number): Tensor {
  const data = new Float32Array(3 * frames * size * size);
  for (let t = 0; t < frames; t++) {
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const inside = x >= 2 + 2 * t && x < 8 + 2 * t && y >= 5 && y < 11;
        const rgb = inside ? [0.9, -0.6, -0.2] : [x / size - 0.5, y / size - 0.5, -0.3];
        for (let c = 0; c < 3; c++) data[((c * frames + t) * size + y) * size + x] = rgb[c]!;
      }
    }
  }
  return new Tensor(data, [1, 3, frames, size, size]);
}

test('with shortcuts a fresh VAE starts as a pooling autoencoder: a grey clip passes through, a sharp one blurs', () => {
  const vae = new CausalVideoVAE({ ...TINY, shortcuts: true, downsample: ['time', 'spacetime'], latentChannels: 6 }, new Rng(21));
  const grey = Tensor.zeros([1, 3, 9, 16, 16]).scaleShift(1, 0.3);
  noGrad(() => {
    const posterior = vae.encode(grey);
    assert.ok(maxAbsDiff(vae.decode(posterior.mean), grey) < 1e-5, 'a flat grey clip comes back exactly');
    assert.ok(Math.max(...posterior.logvar.data) < -7, 'sampling noise starts small');
    // a kaiming-initialised VAE is nowhere near at the start
    const plain = new CausalVideoVAE({ ...TINY, downsample: ['time', 'spacetime'], latentChannels: 6 }, new Rng(21));
    assert.ok(psnr(plain.decode(plain.encode(grey).mean), grey) < 20);
    const sharp = randomClip(9, 16, 16, 22);
    assert.ok(psnr(vae.decode(vae.encode(sharp).mean), sharp) < 15, 'noise does not survive 4x pooling');
  });
});

test('a tiny VAE learns to reproduce a clip', (t) => {
  const vae = new CausalVideoVAE({ channels: [8, 16], downsample: ['spacetime'], patchSize: 2, groups: 4, latentChannels: 8 }, new Rng(11));
  const x = movingSquare(5, 16);
  const rng = new Rng(12);
  const before = noGrad(() => psnr(vae.decode(vae.encode(x).mean), x));
  const optimizer = new AdamW(vae.namedParameters(), { lr: 3e-3, weightDecay: 0 });
  const start = performance.now();
  let last = Infinity;
  for (let step = 0; step < 250; step++) {
    const { loss } = vaeLoss(vae, x, { rng });
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
    last = loss.item();
  }
  const after = noGrad(() => psnr(vae.decodeChunked(vae.encode(x).mean), x));
  const seconds = (performance.now() - start) / 1000;
  t.diagnostic(`PSNR ${before.toFixed(1)} -> ${after.toFixed(1)} dB in ${seconds.toFixed(1)} s`);
  assert.ok(after > before + 10 && after > 24, `PSNR ${before.toFixed(1)} -> ${after.toFixed(1)} dB, loss ${last.toFixed(4)}, ${seconds.toFixed(1)} s`);
});
