/**
 * The one sampling loop behind every mode (text-to-video, image, animate, extend, loop, connect, edit):
 *
 *   caption -> text encoder (cond, and negative/empty for guidance)
 *   conditions -> pixel canvas -> VAE encode -> clean latent frames + frame mask
 *   noise (or the noised input latent for an edit) -> [DiT with guidance -> scheduler step -> re-impose given frames] x steps
 *   -> VAE decode in chunks -> frames (trimmed, resized to the asked size)
 *
 * Outputs longer than one pass are made by repeated forward extension with an overlap of latent frames.
 */
import { Tensor, concat, noGrad, Rng } from '../engine/index.js';
import { TesseraError } from '../errors.js';
import { checkAborted } from '../progress.js';
import type { VideoClip } from '../media/types.js';
import type { CausalVideoVAE } from '../models/vae/index.js';
import { videosToTensor, tensorToVideo } from '../models/vae/index.js';
import { batchTextConditions, type DiT, type TextCondition } from '../models/dit/index.js';
import { createScheduler, resolutionShift, combineGuidance, temporallyCorrelatedNoise } from '../diffusion/index.js';
import type { FrameCondition, GenerationOptions, GenerationRequest, GenerationResult } from './types.js';
import { planSampling, type ModelCapabilities, type SamplingPlan } from './request.js';
import { concatFrames, extendForward, sliceFrames } from './modes.js';
import { resizeClip } from '../media/resize.js';

/** Encodes captions for the DiT (tokenizer + text encoder). */
export interface TextConditioner {
  encode(texts: readonly string[]): TextCondition;
}

/** Turns a user prompt into the caption style the model was trained on. */
export type PromptExpander = (prompt: string, opts: { seed: number; mode: true | 'llm'; signal?: AbortSignal }) => Promise<string>;

export interface PipelineParts {
  vae: CausalVideoVAE;
  transformer: DiT;
  text: TextConditioner;
  expandPrompt: PromptExpander;
  capabilities: ModelCapabilities;
  /** Scheduler defaults from scheduler/config.json. */
  scheduler: { shiftBaseTokens: number; maxShift: number; noiseCorrelation?: number };
}

/** Pixel frames kept from the previous pass when a long clip is made by extension. */
const LONG_OVERLAP_LATENT_FRAMES = 2;

export class TesseraPipeline {
  constructor(readonly parts: PipelineParts) {}

  get capabilities(): ModelCapabilities {
    return this.parts.capabilities;
  }

  get nativeSizes(): { width: number; height: number }[] {
    return this.parts.capabilities.nativeSizes;
  }

  get maxFrames(): number {
    return this.parts.capabilities.maxFrames;
  }

  async generate(req: GenerationRequest, opts: GenerationOptions = {}): Promise<GenerationResult> {
    const t0 = performance.now();
    const plan = planSampling(req, this.capabilities);
    const timings: Record<string, number> = {};
    const caption = req.expandPrompt ? await this.parts.expandPrompt(req.prompt, { seed: req.seed, mode: req.expandPrompt, signal: opts.signal }) : req.prompt;
    timings.expand_ms = performance.now() - t0;

    const tc = this.capabilities.temporalCompression;
    const overlap = 1 + tc * (LONG_OVERLAP_LATENT_FRAMES - 1);
    // Long outputs: each later pass re-uses the tail of the previous one as its head condition.
    const totalPasses = plan.frames <= plan.passFrames ? 1 : 1 + Math.ceil((plan.frames - plan.passFrames) / (plan.passFrames - overlap));
    const passes: VideoClip[] = [];
    let produced = 0;
    for (let pass = 0; pass < totalPasses; pass++) {
      const start = pass === 0 ? 0 : produced - overlap; // first output frame this pass covers
      const conditions = placeConditions(req.conditions ?? [], plan.frames, start, plan.passFrames);
      if (pass > 0) conditions.push(...extendForward(passes[passes.length - 1]!, overlap));
      const clip = await this.samplePass(req, plan, caption, conditions, { pass, totalPasses, start }, timings, opts);
      const fresh = pass === 0 ? clip : sliceFrames(clip, overlap, clip.frames);
      passes.push(fresh);
      produced += fresh.frames;
    }
    let clip = passes.length === 1 ? passes[0]! : concatFrames(passes);
    clip = sliceFrames(clip, 0, plan.frames);
    if (plan.outWidth !== plan.width || plan.outHeight !== plan.height) {
      clip = await resizeClip(clip, plan.outWidth, plan.outHeight);
    }
    clip = { ...clip, fps: req.fps };
    timings.total_ms = performance.now() - t0;
    return { clip, seed: req.seed, caption, timings };
  }

  private async samplePass(
    req: GenerationRequest, plan: SamplingPlan, caption: string, conditions: FrameCondition[],
    { pass, totalPasses, start }: { pass: number; totalPasses: number; start: number },
    timings: Record<string, number>, opts: GenerationOptions,
  ): Promise<VideoClip> {
    const { vae, transformer, text } = this.parts;
    const tc = this.capabilities.temporalCompression;
    const frames = plan.passFrames;
    const latentT = 1 + (frames - 1) / tc;
    const sf = vae.spatialFactor;
    const latentH = plan.height / sf;
    const latentW = plan.width / sf;
    const C = transformer.config.latentChannels;
    const rng = new Rng(req.seed).fork(`pass.${pass}`);
    const report = (stage: string, done: number, total: number) => {
      opts.onProgress?.({ stage, done, total, fraction: (pass + (stage === 'decode' ? 0.9 + 0.1 * (done / total) : 0.9 * (done / total))) / totalPasses });
    };

    return noGrad(async () => {
      let t = performance.now();
      const cond = text.encode([caption]);
      const useGuidance = req.guidanceScale !== 1;
      const uncond = useGuidance ? text.encode([req.negativePrompt ?? '']) : null;
      const textPair = uncond ? batchTextConditions([cond, uncond]) : cond;
      timings.text_ms = (timings.text_ms ?? 0) + performance.now() - t;

      // Given frames -> clean latents and a per-latent-frame strength mask.
      t = performance.now();
      const given = await this.encodeConditions(conditions, plan, frames, latentT);
      let editLatent: Tensor | null = null;
      // an edit re-imagines the stretch of the input this pass covers
      if (req.edit) editLatent = await this.encodeEdit(sliceFrames(req.edit.clip, start, start + frames), plan, frames);
      timings.encode_ms = (timings.encode_ms ?? 0) + performance.now() - t;

      const shape = [1, C, latentT, latentH, latentW];
      // the noise prior the model was trained with, unless the request asks for another
      const noise = temporallyCorrelatedNoise(shape, req.noiseCorrelation ?? this.parts.scheduler.noiseCorrelation ?? 0, rng);
      const scheduler = createScheduler(req.sampler, { rng: rng.fork('sampler'), eta: req.eta });
      const shift = resolutionShift(transformer.numTokens(latentT, latentH, latentW), {
        baseTokens: this.parts.scheduler.shiftBaseTokens,
        maxShift: this.parts.scheduler.maxShift,
      });
      const strength = editLatent ? req.edit!.strength : 1;
      scheduler.setTimesteps(req.steps, { shift, strength });
      let x = editLatent ? scheduler.scaleNoise(editLatent, noise) : noise;
      if (given) x = reimpose(x, given, noise, scheduler.sampleSigma);

      t = performance.now();
      const total = scheduler.timesteps.length;
      const [guideFrom, guideTo] = req.guidanceInterval ?? this.capabilities.defaults.guidanceInterval ?? [0, 1];
      for (let i = 0; i < total; i++) {
        checkAborted(opts.signal);
        const time = scheduler.timesteps[i]!;
        const frameCond = given ? { mask: given.mask, latents: given.latents } : undefined;
        let v: Tensor;
        if (uncond && time >= guideFrom && time <= guideTo) {
          const pair = transformer.forward({
            latents: concat([x, x], 0),
            timesteps: [time, time],
            text: textPair,
            frames: frameCond ? { mask: repeatMask(frameCond.mask), latents: concat([frameCond.latents, frameCond.latents], 0) } : undefined,
          });
          v = combineGuidance(pair, req.guidanceScale);
        } else {
          v = transformer.forward({ latents: x, timesteps: [time], text: cond, frames: frameCond });
        }
        x = scheduler.step(v, time, x);
        if (given) x = reimpose(x, given, noise, scheduler.sampleSigma);
        opts.onStep?.({ pass, step: i + 1, totalSteps: total, timestep: time, latents: x });
        report('denoise', i + 1, total);
        // let the event loop breathe between steps so an abort or an HTTP request can get in
        await new Promise<void>((r) => setImmediate(r));
      }
      timings.denoise_ms = (timings.denoise_ms ?? 0) + performance.now() - t;

      t = performance.now();
      const pixels = vae.decodeChunked(vae.denormalizeLatent(x), {
        onProgress: (e) => report('decode', e.done, e.total),
        signal: opts.signal,
      });
      const video = tensorToVideo(given ? honourGivenFrames(pixels, given, vae) : pixels);
      timings.decode_ms = (timings.decode_ms ?? 0) + performance.now() - t;
      return { ...video, fps: req.fps };
    });
  }

  /**
   * Builds a pixel canvas of the pass length holding every given frame at its place (gaps filled with the nearest
   * given frame so the causal encoder sees plausible motion), encodes it, and marks each latent frame that covers a
   * given pixel frame with that condition's strength.
   */
  private async encodeConditions(conditions: FrameCondition[], plan: SamplingPlan, frames: number, latentT: number): Promise<GivenFrames | null> {
    if (conditions.length === 0) return null;
    const { vae } = this.parts;
    const tc = this.capabilities.temporalCompression;
    const frameBytes = plan.width * plan.height * 3;
    const canvas = new Uint8Array(frames * frameBytes);
    const givenStrength = new Float32Array(frames).fill(-1);
    for (const [ci, c] of conditions.entries()) {
      const clip = c.clip.width === plan.width && c.clip.height === plan.height ? c.clip : await resizeClip(c.clip, plan.width, plan.height);
      const start = c.frameIndex < 0 ? frames + c.frameIndex : c.frameIndex;
      for (let f = 0; f < clip.frames; f++) {
        const at = start + f;
        if (at < 0 || at >= frames) continue;
        canvas.set(clip.data.subarray(f * frameBytes, (f + 1) * frameBytes), at * frameBytes);
        givenStrength[at] = Math.max(givenStrength[at]!, c.strength);
      }
      if (clip.frames === 0) throw new TesseraError('invalid_argument', `conditions[${ci}]: empty clip`, { param: `conditions[${ci}]` });
    }
    fillGaps(canvas, givenStrength, frameBytes);
    const pixels = videosToTensor([{ frames, height: plan.height, width: plan.width, data: canvas }]);
    const latents = vae.normalizeLatent(vae.encodeChunked(pixels).mean);
    const mask = new Float32Array(latentT);
    for (let f = 0; f < frames; f++) {
      if (givenStrength[f]! < 0) continue;
      const lt = f === 0 ? 0 : Math.ceil(f / tc);
      mask[lt] = Math.max(mask[lt]!, givenStrength[f]!);
    }
    return { mask, latents, frameStrength: givenStrength };
  }

  private async encodeEdit(clip: VideoClip, plan: SamplingPlan, frames: number): Promise<Tensor> {
    const { vae } = this.parts;
    let fitted = clip.width === plan.width && clip.height === plan.height ? clip : await resizeClip(clip, plan.width, plan.height);
    // the pass length is aligned to the VAE: repeat the last frame to fill, drop frames beyond it
    if (fitted.frames < frames) fitted = concatFrames([fitted, ...Array.from({ length: frames - fitted.frames }, () => sliceFrames(fitted, fitted.frames - 1, fitted.frames))]);
    fitted = sliceFrames(fitted, 0, frames);
    return vae.normalizeLatent(vae.encodeChunked(videosToTensor([fitted])).mean);
  }
}

/**
 * The conditions that fall inside one pass covering output frames [start, start + length), with frame indices made
 * relative to the pass. Negative indices count from the end of the whole output.
 */
function placeConditions(conditions: readonly FrameCondition[], outFrames: number, start: number, length: number): FrameCondition[] {
  const placed: FrameCondition[] = [];
  for (const c of conditions) {
    const at = c.frameIndex < 0 ? outFrames + c.frameIndex : c.frameIndex;
    const end = at + c.clip.frames;
    if (end <= start || at >= start + length) continue;
    const skip = Math.max(0, start - at);
    placed.push({ ...c, clip: sliceFrames(c.clip, skip, c.clip.frames), frameIndex: at + skip - start });
  }
  return placed;
}

interface GivenFrames {
  /** Per latent frame: condition strength, 0 = free. */
  mask: Float32Array;
  /** Clean normalised latents [1, C, T, H, W]. */
  latents: Tensor;
  /** Per pixel frame of the pass: the strength it was given with, -1 = not given. */
  frameStrength: Float32Array;
}

/**
 * The causal decoder decodes a pinned latent frame in the context of the frames before it. At the head that
 * context is the given one, but a frame pinned after generated frames (a loop's end, a backward extension, the
 * far side of a connection) would be decoded after the model's own frames and drift from what was given. So the
 * pinned latents are also decoded in the context they were encoded in, and every given pixel frame is blended
 * toward that decode by its strength: a frame given at strength 1 comes out as the VAE's reconstruction of it.
 */
function honourGivenFrames(pixels: Tensor, given: GivenFrames, vae: CausalVideoVAE): Tensor {
  const [, C, T, H, W] = pixels.shape as [number, number, number, number, number];
  let lastGiven = -1;
  given.frameStrength.forEach((s, f) => { if (s > 0 && f < T) lastGiven = f; });
  if (lastGiven < 0) return pixels;
  const tc = vae.temporalFactor;
  const latentFrames = 1 + Math.ceil(lastGiven / tc);
  // Given frames only at the head, fully pinned (image-to-video, extension): the sampled latents there are the
  // given ones and nothing precedes them, so the decode above already was their own-context decode.
  if (given.mask.subarray(0, latentFrames).every((s) => s === 1)) return pixels;
  const own = vae.decodeChunked(vae.denormalizeLatent(given.latents.slice(2, 0, latentFrames)));
  const ownT = own.shape[2]!;
  const plane = H * W;
  const out = new Float32Array(pixels.data);
  for (let f = 0; f <= lastGiven; f++) {
    const s = given.frameStrength[f]!;
    if (s <= 0) continue;
    for (let c = 0; c < C; c++) {
      const at = (c * T + f) * plane;
      const from = (c * ownT + f) * plane;
      for (let i = 0; i < plane; i++) out[at + i] = (1 - s) * out[at + i]! + s * own.data[from + i]!;
    }
  }
  return Tensor.from(out, pixels.shape);
}

/** Given frames follow the straight path from their clean value to the same noise the free frames started from. */
function reimpose(x: Tensor, given: GivenFrames, noise: Tensor, sigma: number): Tensor {
  const [, C, T, H, W] = x.shape as [number, number, number, number, number];
  const plane = H * W;
  const out = new Float32Array(x.data);
  for (let c = 0; c < C; c++) {
    for (let t = 0; t < T; t++) {
      const s = given.mask[t]!;
      if (s === 0) continue;
      const off = (c * T + t) * plane;
      for (let i = off; i < off + plane; i++) {
        const target = (1 - sigma) * given.latents.data[i]! + sigma * noise.data[i]!;
        out[i] = (1 - s) * out[i]! + s * target;
      }
    }
  }
  return Tensor.from(out, x.shape);
}

/** Frames with no given content copy the nearest given frame (earlier wins ties). */
function fillGaps(canvas: Uint8Array, given: Float32Array, frameBytes: number): void {
  const frames = given.length;
  for (let f = 0; f < frames; f++) {
    if (given[f]! >= 0) continue;
    let best = -1;
    for (let d = 1; d < frames && best < 0; d++) {
      if (f - d >= 0 && given[f - d]! >= 0) best = f - d;
      else if (f + d < frames && given[f + d]! >= 0) best = f + d;
    }
    if (best >= 0) canvas.copyWithin(f * frameBytes, best * frameBytes, (best + 1) * frameBytes);
  }
}

/** The per-frame mask of one sample, repeated for the guidance batch (cond, uncond). */
function repeatMask(m: Float32Array): Float32Array {
  const out = new Float32Array(m.length * 2);
  out.set(m, 0);
  out.set(m, m.length);
  return out;
}
