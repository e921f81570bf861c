import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRandomModel } from '../../src/train/init.js';
import { loadPipeline, type TesseraPipeline, imageToVideo, loopConditions, extendForward } from '../../src/pipelines/index.js';
import type { GenerationRequest } from '../../src/pipelines/types.js';
import { TesseraError } from '../../src/errors.js';
import type { VideoClip } from '../../src/media/types.js';
import { vaeReconstructor } from '../../src/eval/run.js';

let pipe: TesseraPipeline;
const dir = mkdtempSync(join(tmpdir(), 'tessera-pipe-'));

before(async () => {
  await createRandomModel(dir);
  pipe = await loadPipeline(dir);
});

function request(over: Partial<GenerationRequest> = {}): GenerationRequest {
  return {
    prompt: 'a red ball bounces on a snowy meadow', width: 32, height: 32, frames: 9, fps: 8, steps: 3,
    guidanceScale: 3, seed: 7, sampler: 'euler', expandPrompt: true, ...over,
  };
}

function gradientImage(w: number, h: number): VideoClip {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const i = (y * w + x) * 3;
    data[i] = (x * 255) / w; data[i + 1] = (y * 255) / h; data[i + 2] = 128;
  }
  return { frames: 1, width: w, height: h, fps: 8, data };
}

/** What the VAE makes of a clip: the best any conditioned frame can be. */
function reconstruct(clip: VideoClip): VideoClip {
  return vaeReconstructor(pipe.parts.vae)(clip);
}

function maxAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function frame(clip: VideoClip, i: number): Uint8Array {
  const n = clip.width * clip.height * 3;
  return clip.data.subarray(i * n, (i + 1) * n);
}

test('text-to-video gives the asked shape and reports progress', async () => {
  const events: string[] = [];
  const res = await pipe.generate(request(), { onProgress: (e) => events.push(`${e.stage}:${e.done}/${e.total}`) });
  assert.equal(res.clip.frames, 9);
  assert.equal(res.clip.width, 32);
  assert.equal(res.clip.height, 32);
  assert.equal(res.clip.data.length, 9 * 32 * 32 * 3);
  assert.ok(events.includes('denoise:3/3'), events.join(' '));
  assert.ok(events.some((e) => e.startsWith('decode:')));
  assert.match(res.caption, /red/);
});

test('the same seed gives bit-identical frames; another seed does not', async () => {
  const a = await pipe.generate(request());
  const b = await pipe.generate(request());
  const c = await pipe.generate(request({ seed: 8 }));
  assert.deepEqual(a.clip.data, b.clip.data);
  assert.notDeepEqual(a.clip.data, c.clip.data);
});

test('image generation is a 1-frame clip; frames not 1+4k are trimmed; odd sizes are resized', async () => {
  assert.equal((await pipe.generate(request({ frames: 1 }))).clip.frames, 1);
  assert.equal((await pipe.generate(request({ frames: 6 }))).clip.frames, 6);
  const odd = await pipe.generate(request({ width: 40, height: 30, frames: 1 }));
  assert.equal(odd.clip.width, 40);
  assert.equal(odd.clip.height, 30);
});

test('heun sampler and guidance off both run', async () => {
  assert.equal((await pipe.generate(request({ sampler: 'heun', guidanceScale: 1 }))).clip.frames, 9);
});

test('euler-ancestral reproduces from its seed, differs from Euler, and is Euler at eta 0', async () => {
  const a = await pipe.generate(request({ sampler: 'euler-ancestral', eta: 0.7 }));
  const b = await pipe.generate(request({ sampler: 'euler-ancestral', eta: 0.7 }));
  const euler = await pipe.generate(request());
  assert.deepEqual(b.clip.data, a.clip.data);
  assert.notDeepEqual(a.clip.data, euler.clip.data);
  assert.deepEqual((await pipe.generate(request({ sampler: 'euler-ancestral', eta: 0 }))).clip.data, euler.clip.data);
});

test('correlated starting noise reproduces from its seed, differs from independent noise, and is it at 0', async () => {
  const a = await pipe.generate(request({ noiseCorrelation: 0.6 }));
  const b = await pipe.generate(request({ noiseCorrelation: 0.6 }));
  const independent = await pipe.generate(request());
  assert.deepEqual(b.clip.data, a.clip.data);
  assert.notDeepEqual(a.clip.data, independent.clip.data);
  assert.deepEqual((await pipe.generate(request({ noiseCorrelation: 0 }))).clip.data, independent.clip.data);
});

test('guidance applies only inside its interval of flow times; outside, one conditional pass a step', async () => {
  const transformer = pipe.parts.transformer;
  const forward = transformer.forward.bind(transformer);
  const passes: { batch: number; time: number }[] = [];
  transformer.forward = (input) => {
    passes.push({ batch: input.latents.shape[0]!, time: input.timesteps[0]! });
    return forward(input);
  };
  try {
    const everyStep = await pipe.generate(request({ steps: 6 }));
    assert.deepEqual((await pipe.generate(request({ steps: 6, guidanceInterval: [0, 1] }))).clip.data, everyStep.clip.data);
    passes.length = 0;
    await pipe.generate(request({ steps: 6, guidanceInterval: [0.5, 1] }));
    assert.equal(passes.length, 6);
    for (const p of passes) assert.equal(p.batch, p.time >= 0.5 ? 2 : 1, `step at t = ${p.time}`);
    assert.ok(passes.some((p) => p.batch === 1) && passes.some((p) => p.batch === 2), 'the interval splits this schedule');
    // an interval no step falls in is sampling without guidance
    const never = await pipe.generate(request({ steps: 6, guidanceInterval: [0, 1e-4] }));
    assert.deepEqual(never.clip.data, (await pipe.generate(request({ steps: 6, guidanceScale: 1 }))).clip.data);
  } finally {
    transformer.forward = forward;
  }
});

test('a model folder can set the guidance interval requests get by default; a bad one is named', async () => {
  const withDefault = mkdtempSync(join(tmpdir(), 'tessera-pipe-interval-'));
  await createRandomModel(withDefault);
  const indexPath = join(withDefault, 'model_index.json');
  const index = JSON.parse(readFileSync(indexPath, 'utf8'));
  index._tessera.defaults = { ...index._tessera.defaults, guidanceInterval: [0.5, 1] };
  writeFileSync(indexPath, JSON.stringify(index));
  const modelPipe = await loadPipeline(withDefault);
  assert.deepEqual(modelPipe.capabilities.defaults.guidanceInterval, [0.5, 1]);
  const byDefault = await modelPipe.generate(request({ steps: 6 }));
  assert.deepEqual(byDefault.clip.data, (await pipe.generate(request({ steps: 6, guidanceInterval: [0.5, 1] }))).clip.data);
  assert.deepEqual((await modelPipe.generate(request({ steps: 6, guidanceInterval: [0, 1] }))).clip.data, (await pipe.generate(request({ steps: 6 }))).clip.data, 'a request overrides the model');

  const broken = mkdtempSync(join(tmpdir(), 'tessera-pipe-interval-bad-'));
  await createRandomModel(broken);
  index._tessera.defaults.guidanceInterval = [0.9, 0.1];
  writeFileSync(join(broken, 'model_index.json'), JSON.stringify(index));
  await assert.rejects(loadPipeline(broken), (e: unknown) => e instanceof TesseraError && e.code === 'corrupt_file' && /model_index\.json: _tessera\.defaults\.guidanceInterval: expected two flow times/.test(e.message));
});

test('image-to-video keeps the image as frame 0 (exactly what the VAE reconstructs of it)', async () => {
  const image = gradientImage(32, 32);
  const res = await pipe.generate(request({ conditions: imageToVideo(image) }));
  const expected = frame(reconstruct(image), 0);
  assert.ok(maxAbsDiff(frame(res.clip, 0), expected) <= 2, `frame 0 differs by ${maxAbsDiff(frame(res.clip, 0), expected)}`);
});

test('extension keeps the given frames at the head', async () => {
  const first = await pipe.generate(request());
  const context = 5;
  const res = await pipe.generate(request({ seed: 3, conditions: extendForward(first.clip, context) }));
  const given = { ...first.clip, frames: context, data: first.clip.data.subarray(4 * 32 * 32 * 3) };
  const rec = reconstruct(given);
  for (let i = 0; i < context; i++) assert.ok(maxAbsDiff(frame(res.clip, i), frame(rec, i)) <= 2, `frame ${i}`);
});

/** A still image held for `frames` frames: what loop conditions describe. */
function holdStill(image: VideoClip, frames: number): VideoClip {
  const n = image.data.length;
  return { ...image, frames, data: new Uint8Array(frames * n).map((_, i) => image.data[i % n]!) };
}

test('loop: the last frame, decoded after generated frames, is still the loop image as the VAE reconstructs it', async () => {
  const image = gradientImage(32, 32);
  const res = await pipe.generate(request({ conditions: loopConditions(image) }));
  assert.equal(res.clip.frames, 9);
  const expected = reconstruct(holdStill(image, 9));
  for (const f of [0, 8]) {
    assert.ok(maxAbsDiff(frame(res.clip, f), frame(expected, f)) <= 2, `frame ${f} differs by ${maxAbsDiff(frame(res.clip, f), frame(expected, f))}`);
  }
  // the frames between are generated, not copies of the image
  assert.ok(maxAbsDiff(frame(res.clip, 4), frame(expected, 4)) > 2);
});

test('a condition at strength 0.5 moves its frame only part of the way to the given one', async () => {
  const image = gradientImage(32, 32);
  const free = await pipe.generate(request());
  const half = await pipe.generate(request({ conditions: loopConditions(image, 0.5) }));
  const full = reconstruct(holdStill(image, 9));
  const last = 8;
  const toFull = maxAbsDiff(frame(half.clip, last), frame(full, last));
  assert.ok(toFull > 2, 'a half-strength frame is not pasted');
  assert.ok(toFull < maxAbsDiff(frame(free.clip, last), frame(full, last)), 'but it is closer to the given frame than an unconditioned one');
});

test('outputs longer than one pass are made by extension', async () => {
  const res = await pipe.generate(request({ frames: 21, steps: 2 }));
  assert.equal(res.clip.frames, 21);
});

test('an abort signal stops sampling with an aborted error', async () => {
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(pipe.generate(request(), { signal: controller.signal }), (e: unknown) => e instanceof TesseraError && e.code === 'aborted');
});

test('bad requests name the field', async () => {
  const bad: [Partial<GenerationRequest>, RegExp][] = [
    [{ frames: 0 }, /^frames:/],
    [{ steps: 0 }, /^steps:/],
    [{ sampler: 'ddim' as never }, /^sampler:/],
    [{ sampler: 'euler-ancestral', eta: 2 }, /^eta: expected a number from 0 to 1/],
    [{ noiseCorrelation: 1 }, /^noise_correlation: expected a number from 0 up to \(not including\) 1, got 1/],
    [{ noiseCorrelation: -0.5 }, /^noise_correlation:/],
    [{ seed: -1 }, /^seed:/],
    [{ guidanceInterval: [0.5, 0.5] }, /^guidance_interval: expected two flow times \[low, high\] with 0 <= low < high <= 1, got \[0.5,0.5\]/],
    [{ guidanceInterval: [0, 1.5] }, /^guidance_interval:/],
    [{ guidanceInterval: [0.2] as never }, /^guidance_interval:/],
    [{ guidanceScale: Number.NaN }, /^guidance_scale:/],
    [{ prompt: 'x'.repeat(5000) }, /^prompt:/],
  ];
  for (const [over, re] of bad) {
    await assert.rejects(pipe.generate(request(over)), (e: unknown) => e instanceof TesseraError && e.code === 'invalid_argument' && re.test(e.message));
  }
});

test('video-to-video edit keeps the input length, also past one pass; a gentle edit stays near the input', async () => {
  const input = (await pipe.generate(request({ frames: 21, steps: 2, seed: 4 }))).clip;
  const edited = await pipe.generate(request({ frames: 21, steps: 4, edit: { clip: input, strength: 0.5 } }));
  assert.equal(edited.clip.frames, 21);
  const gentle = await pipe.generate(request({ frames: 21, steps: 50, edit: { clip: input, strength: 0.02 } }));
  assert.equal(gentle.clip.frames, 21);
  assert.notDeepEqual(gentle.clip.data, edited.clip.data);
  // the first pass covers frames 0-8; the causal VAE encodes them as it would the whole clip, so one step of 50 at
  // 2% noise leaves them near the VAE's reconstruction of the input
  const rec = reconstruct(input);
  for (const i of [0, 4, 8]) assert.ok(maxAbsDiff(frame(gentle.clip, i), frame(rec, i)) <= 40, `frame ${i}`);
});
