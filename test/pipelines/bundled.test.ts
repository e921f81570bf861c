/**
 * The model that ships in the repository: it loads, `tessera generate` works on it with no flags beyond the
 * prompt's, and the conditioning modes keep their given frames as faithfully as its VAE can reproduce them.
 * Tolerances are stated against the VAE's own reconstruction (no mode can beat it) and against the input.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultModelDir, loadPipeline, imageToVideo, loopConditions, extendForward, type TesseraPipeline } from '../../src/pipelines/index.js';
import { renderScene, randomSpec } from '../../src/world/index.js';
import { noGrad, type Tensor } from '../../src/engine/index.js';
import { videosToTensor } from '../../src/models/vae/index.js';
import { psnr8, readVideo } from '../../src/media/index.js';
import { vaeReconstructor } from '../../src/eval/run.js';
import type { VideoClip } from '../../src/media/types.js';
import type { GenerationRequest } from '../../src/pipelines/types.js';

const root = join(import.meta.dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'tessera-bundled-'));
let pipe: TesseraPipeline;

before(async () => {
  assert.ok(existsSync(join(defaultModelDir(), 'model_index.json')), `the bundled model is missing at ${defaultModelDir()}`);
  pipe = await loadPipeline();
});

const SIZE = 128;
const request = (over: Partial<GenerationRequest> = {}): GenerationRequest => ({
  prompt: 'a red ball bounces on a snowy meadow', width: SIZE, height: SIZE, frames: 17, fps: 8, steps: 6,
  guidanceScale: 4, seed: 1, sampler: 'euler', expandPrompt: true, ...over,
});

function frame(clip: VideoClip, i: number): Uint8Array {
  const n = clip.width * clip.height * 3;
  const k = i < 0 ? clip.frames + i : i;
  return clip.data.subarray(k * n, (k + 1) * n);
}

const psnr = psnr8;

function still(seed: number): VideoClip {
  const spec = randomSpec(seed, { width: SIZE, height: SIZE, frames: 1, fps: 8 });
  return renderScene(spec);
}

const reconstruct = (clip: VideoClip): VideoClip => vaeReconstructor(pipe.parts.vae)(clip);

test('npx tessera generate works on the bundled model with only a prompt', () => {
  const out = join(work, 'default.mp4');
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'generate', 'a red ball bounces on a snowy meadow', '--out', out, '--steps', '4'], {
    cwd: root, encoding: 'utf8', env: { ...process.env, TESSERA_QUIET: '1' }, timeout: 300_000,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /seed \d+/);
  assert.ok(existsSync(out));
});

test('image-to-video: frame 0 is the image, as faithfully as the VAE reproduces it', async () => {
  const image = still(11);
  const res = await pipe.generate(request({ conditions: imageToVideo(image) }));
  const vaeBest = psnr(frame(reconstruct(image), 0), frame(image, 0));
  const got = psnr(frame(res.clip, 0), frame(image, 0));
  const unrelated = psnr(frame(res.clip, 0), frame(still(99), 0));
  // the pipeline adds nothing to the VAE's own error, and the frame is clearly this image, not another scene
  assert.ok(got >= vaeBest - 0.5, `frame 0 is ${got.toFixed(1)} dB from the image; the VAE alone gives ${vaeBest.toFixed(1)} dB`);
  assert.ok(got >= unrelated + 3, `frame 0: ${got.toFixed(1)} dB to the image vs ${unrelated.toFixed(1)} dB to an unrelated scene`);
});

test('extension keeps the given frames', async () => {
  const first = await pipe.generate(request({ seed: 2 }));
  const context = 5;
  const res = await pipe.generate(request({ seed: 3, conditions: extendForward(first.clip, context) }));
  for (let i = 0; i < context; i++) {
    const got = psnr(frame(res.clip, i), frame(first.clip, first.clip.frames - context + i));
    assert.ok(got >= 20, `kept frame ${i} is ${got.toFixed(1)} dB from the given one`);
  }
});

test('loop: both ends are pinned to the loop image (exactly, in latent space) and frame 0 is the image', async () => {
  const image = still(12);
  let latents: Tensor | null = null;
  const res = await pipe.generate(request({ conditions: loopConditions(image) }), { onStep: (s) => { latents = s.latents; } });
  const vae = pipe.parts.vae;
  // the clip the conditions describe: the image held still, encoded as the pipeline encodes conditions
  const heldStill = { ...image, frames: 17, data: new Uint8Array(17 * image.data.length).map((_, i) => image.data[i % image.data.length]!) };
  const target = noGrad(() => vae.normalizeLatent(vae.encodeChunked(videosToTensor([heldStill])).mean));
  const [, C, T, H, W] = target.shape as number[];
  for (const t of [0, T! - 1]) {
    let maxDiff = 0;
    for (let c = 0; c < C!; c++) {
      const off = (c * T! + t) * H! * W!;
      for (let i = off; i < off + H! * W!; i++) maxDiff = Math.max(maxDiff, Math.abs(latents!.data[i]! - target.data[i]!));
    }
    assert.ok(maxDiff < 1e-4, `latent frame ${t} differs from the loop image's by ${maxDiff}`);
  }
  // in pixels both ends are the image as the VAE reproduces it: frame 0 on its own, the last frame in the
  // context it was encoded in (the held-still clip), although the decoder reaches it after generated frames
  const vaeBest = psnr(frame(reconstruct(image), 0), frame(image, 0));
  assert.ok(psnr(frame(res.clip, 0), frame(image, 0)) >= vaeBest - 0.5);
  const heldBack = reconstruct(heldStill);
  const lastToRecon = psnr(frame(res.clip, -1), frame(heldBack, -1));
  assert.ok(lastToRecon >= 40, `last frame is ${lastToRecon.toFixed(1)} dB from the VAE's reconstruction of it`);
  // and the loop closes: the last frame is clearly the first one, not some other scene
  const closes = psnr(frame(res.clip, -1), frame(res.clip, 0));
  const unrelated = psnr(frame(res.clip, -1), frame(still(99), 0));
  assert.ok(closes >= unrelated + 3, `last vs first frame ${closes.toFixed(1)} dB, vs an unrelated scene ${unrelated.toFixed(1)} dB`);
});

test('the default output plays back as a 17-frame clip', async () => {
  const clip = await readVideo(join(work, 'default.mp4'));
  assert.equal(clip.frames, pipe.capabilities.defaults.frames);
});
