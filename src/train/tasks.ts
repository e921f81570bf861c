/**
 * The two things Tessera trains, as TrainTasks for the shared loop:
 *   VaeTask: the video compression network, on clips of mixed sizes and lengths (images included);
 *   DitTask: the diffusion transformer and the text encoder jointly, on latents of the frozen VAE, with caption
 *            dropout (for guidance) and random frame-conditioning masks (image-to-video, extension, connection).
 */
import { Tensor, add, mul, noGrad, type Rng } from '../engine/index.js';
import { invalidArgument } from '../errors.js';
import type { VideoClip } from '../media/types.js';
import { CausalVideoVAE, videosToTensor, vaeLoss, type VaeLossOptions } from '../models/vae/index.js';
import type { DiT } from '../models/dit/index.js';
import type { TextEncoder } from '../models/text/encoder.js';
import type { WordLevelTokenizer } from '../models/text/tokenizer.js';
import {
  addNoise, addNoiseOffset, flowMatchingLoss, resolutionShift, sampleTrainingTimes, shiftTime, temporalDifferenceLoss, temporallyCorrelatedNoise,
  unconditionedWeight, velocityTarget,
} from '../diffusion/index.js';
import type { Module } from '../nn/index.js';
import { objectFootprints, type Footprint, type SceneSpec } from '../world/index.js';
import { LatentCache } from './latent-cache.js';
import type { StepResult, TrainTask } from './loop.js';

/** One (size, length) bucket of training clips; a batch never mixes buckets. */
export interface Bucket {
  width: number;
  height: number;
  frames: number;
  batch: number;
  weight: number;
}

/** Where training clips come from: the world, or a user's folder of captioned videos. */
export interface ClipSource {
  /**
   * specs: the scene of each clip, when the source has one (the world does; a folder does not). keys: a stable
   * name for each clip when the source meets the same clips again (a folder's file and place), so their latents
   * can be kept.
   */
  nextBatch(bucket: Bucket, size: number): Promise<{ clips: VideoClip[]; captions: string[]; specs?: SceneSpec[]; keys?: string[] }>;
  cursor(): unknown;
  seek(cursor: unknown): void;
}

export function pickBucket(buckets: readonly Bucket[], rng: Rng): Bucket {
  const total = buckets.reduce((s, b) => s + b.weight, 0);
  let u = rng.uniform() * total;
  for (const b of buckets) {
    u -= b.weight;
    if (u < 0) return b;
  }
  return buckets[buckets.length - 1]!;
}

/** What both tasks share: a clip source whose position is the task's data cursor, and optional hooks. */
abstract class ClipTask implements TrainTask {
  abstract readonly name: string;
  abstract readonly modules: Record<string, Module>;
  onCheckpoint?: TrainTask['onCheckpoint'];
  onSample?: TrainTask['onSample'];

  constructor(protected readonly source: ClipSource, protected readonly buckets: Bucket[]) {}

  abstract step(rng: Rng, step: number): Promise<StepResult>;

  dataCursor(): unknown {
    return this.source.cursor();
  }

  seekData(cursor: unknown): void {
    this.source.seek(cursor);
  }
}

export class VaeTask extends ClipTask {
  readonly name = 'vae';
  readonly modules: Record<string, Module>;

  constructor(
    readonly vae: CausalVideoVAE,
    source: ClipSource,
    buckets: Bucket[],
    private readonly loss: Omit<VaeLossOptions, 'rng' | 'useMean'> = {},
  ) {
    super(source, buckets);
    // a frozen encoder is left out of the optimiser, the EMA and the checkpoints: it always comes from initFrom
    this.modules = loss.freezeEncoder ? { decoder: vae.decoder } : { vae };
  }

  async step(rng: Rng): Promise<StepResult> {
    const bucket = pickBucket(this.buckets, rng);
    const { clips } = await this.source.nextBatch(bucket, bucket.batch);
    const x = videosToTensor(clips);
    const out = vaeLoss(this.vae, x, { rng: rng.fork('posterior'), ...this.loss });
    return { loss: out.loss, samples: clips.length, metrics: { reconstruction: out.reconstruction, gradient: out.gradient, kl: out.kl } };
  }
}

export interface DitTaskOptions {
  /** Probability that a caption is replaced by the empty prompt (trains the unconditional branch). */
  captionDropout: number;
  /** Probability that a clip gets a frame-conditioning mask. */
  conditionRate: number;
  /** Resolution-dependent shift of the training times (same rule as sampling). */
  shiftBaseTokens: number;
  maxShift: number;
  /**
   * Extra loss weight on the latent cells an object covers (0 = every cell alike): a cell with an object weighs
   * 1 + objectWeight. Objects touch about a fifth of the latent cells of a world clip, often far fewer, so without
   * it most of the loss is spent on backgrounds.
   */
  objectWeight: number;
  /**
   * Object weighting applies only to samples whose flow time is at most this (1 = every sample). Layout and object
   * count are settled at high noise, where weighting object cells tilts the model towards drawing extra objects;
   * below this time the weight only sharpens objects already placed. Optional; 1 when absent.
   */
  objectWeightMaxTime?: number;
  /**
   * Correlation of the training noise across latent frames (PYoCo's mixed noise, diffusion/noise.ts); 0 =
   * independent. The exported folder records it in scheduler/config.json so sampling draws the same kind of noise.
   */
  noiseCorrelation: number;
  /**
   * Fraction of samples whose flow time is drawn uniformly instead of from the logit-normal (before the
   * resolution shift), so high noise, where sampling starts, is trained too. Optional; 0 when absent.
   */
  uniformTimeFraction?: number;
  /** Std of the offset noise (diffusion/noise.ts addNoiseOffset): one constant per sample and channel. Optional; 0 when absent. */
  noiseOffset?: number;
  /**
   * Weight of the flicker loss (diffusion/flow.ts temporalDifferenceLoss: the clean estimate's error changing
   * between latent frames) added to the flow-matching loss. Optional; 0 (off) when absent.
   */
  temporalDifferenceWeight?: number;
  /** Bytes of latents kept for clips the source names (`keys`), so a clip met again is not encoded again. Optional; 0 when absent. */
  latentCacheBytes?: number;
}

/**
 * Loss weights [B, C, T, H, W] that are 1 + boost on every latent cell an object's footprint touches and 1 elsewhere
 * (boost: one for every sample, or one per sample).
 * Latent frame 0 holds video frame 0 and latent frame k > 0 frames (k-1)f+1 .. kf (the causal VAE's grouping, f its
 * temporal factor); a cell is spatialFactor pixels square. A cell counts if any of its frames has an object on it.
 */
export function objectLossWeight(
  footprints: readonly (readonly (readonly Footprint[])[])[],
  shape: readonly number[],
  factors: { spatial: number; temporal: number },
  boost: number | readonly number[],
): Tensor {
  const [B, C, T, H, W] = shape as [number, number, number, number, number];
  if (footprints.length !== B) throw invalidArgument('footprints', `expected one list per sample (${B}), got ${footprints.length}`);
  if (typeof boost !== 'number' && boost.length !== B) throw invalidArgument('boost', `expected one boost per sample (${B}), got ${boost.length}`);
  const w = Tensor.ones(shape);
  const plane = H * W;
  const s = factors.spatial;
  for (let b = 0; b < B; b++) {
    const sampleBoost = typeof boost === 'number' ? boost : boost[b]!;
    if (sampleBoost === 0) continue;
    const frames = footprints[b]!;
    for (let t = 0; t < T; t++) {
      const first = t === 0 ? 0 : (t - 1) * factors.temporal + 1;
      const last = Math.min(frames.length - 1, t === 0 ? 0 : t * factors.temporal);
      const hit = new Uint8Array(plane);
      for (let f = first; f <= last; f++) {
        for (const d of frames[f]!) {
          // cells whose square comes within the disc's radius of its centre
          const i0 = Math.max(0, Math.floor((d.y - d.radius) / s)), i1 = Math.min(H - 1, Math.floor((d.y + d.radius) / s));
          const j0 = Math.max(0, Math.floor((d.x - d.radius) / s)), j1 = Math.min(W - 1, Math.floor((d.x + d.radius) / s));
          for (let i = i0; i <= i1; i++) {
            const dy = Math.max(i * s - d.y, 0, d.y - (i + 1) * s);
            for (let j = j0; j <= j1; j++) {
              const dx = Math.max(j * s - d.x, 0, d.x - (j + 1) * s);
              if (dx * dx + dy * dy < d.radius * d.radius) hit[i * W + j] = 1;
            }
          }
        }
      }
      for (let c = 0; c < C; c++) {
        const off = ((b * C + c) * T + t) * plane;
        for (let k = 0; k < plane; k++) if (hit[k]) w.data[off + k] = 1 + sampleBoost;
      }
    }
  }
  return w;
}

/** Latent frames given clean to the model for one sample: first, last, head, tail or both ends. */
export function randomFrameMask(latentFrames: number, rng: Rng, rate: number): Float32Array {
  const mask = new Float32Array(latentFrames);
  if (latentFrames < 2 || rng.uniform() >= rate) return mask;
  const kind = rng.int(5);
  const segment = 1 + rng.int(Math.max(1, Math.floor(latentFrames / 2)));
  if (kind === 0) mask[0] = 1; // image-to-video
  else if (kind === 1) mask[latentFrames - 1] = 1; // lead up to a final frame
  else if (kind === 2) mask.fill(1, 0, segment); // extend forward
  else if (kind === 3) mask.fill(1, latentFrames - segment); // extend backward
  else { // connect / loop
    mask[0] = 1;
    mask[latentFrames - 1] = 1;
  }
  return mask;
}

export class DitTask extends ClipTask {
  readonly name = 'dit';
  readonly modules: Record<string, Module>;
  readonly latentCache: LatentCache | null;

  constructor(
    private readonly parts: { vae: CausalVideoVAE; transformer: DiT; textEncoder: TextEncoder; tokenizer: WordLevelTokenizer },
    source: ClipSource,
    buckets: Bucket[],
    private readonly options: DitTaskOptions,
  ) {
    super(source, buckets);
    // the VAE is frozen: only the transformer and the text encoder learn
    this.modules = { transformer: parts.transformer, text_encoder: parts.textEncoder };
    parts.vae.train(false);
    this.latentCache = options.latentCacheBytes ? new LatentCache(options.latentCacheBytes) : null;
  }

  async step(rng: Rng): Promise<StepResult> {
    const { vae, transformer, textEncoder, tokenizer } = this.parts;
    const bucket = pickBucket(this.buckets, rng);
    const { clips, captions, specs, keys } = await this.source.nextBatch(bucket, bucket.batch);
    const B = clips.length;
    const encode = (batch: VideoClip[]) => noGrad(() => vae.normalizeLatent(vae.encode(videosToTensor(batch)).mean));
    const x0 = this.latentCache && keys ? this.latentCache.batch(keys, clips, encode) : encode(clips);
    const [, , T, H, W] = x0.shape as [number, number, number, number, number];

    const prompts = captions.map((c) => (rng.uniform() < this.options.captionDropout ? '' : c));
    const text = textEncoder.forward(tokenizer.encodeBatch(prompts));

    const shift = resolutionShift(transformer.numTokens(T, H, W), { baseTokens: this.options.shiftBaseTokens, maxShift: this.options.maxShift });
    const t = sampleTrainingTimes(rng, B, { uniformFraction: this.options.uniformTimeFraction ?? 0 }).map((v) => shiftTime(v, shift));
    const noise = addNoiseOffset(temporallyCorrelatedNoise(x0.shape, this.options.noiseCorrelation, rng), this.options.noiseOffset ?? 0, rng);
    const xt = addNoise(x0, noise, t);

    const mask = new Float32Array(B * T);
    for (let b = 0; b < B; b++) mask.set(randomFrameMask(T, rng, this.options.conditionRate), b * T);
    const anyGiven = mask.some((m) => m > 0);
    const v = transformer.forward({
      latents: xt,
      timesteps: t,
      text: { tokens: text.tokens, pooled: text.pooled, mask: text.mask },
      frames: anyGiven ? { mask, latents: x0 } : undefined,
    });
    let weight = anyGiven ? unconditionedWeight(x0.shape, mask) : undefined;
    if (this.options.objectWeight > 0 && specs) {
      const footprints = specs.map((spec) => objectFootprints(spec));
      const maxTime = this.options.objectWeightMaxTime ?? 1;
      const boosts = Array.from(t, (time) => (time <= maxTime ? this.options.objectWeight : 0));
      const objects = objectLossWeight(footprints, x0.shape, { spatial: vae.spatialFactor, temporal: vae.temporalFactor }, boosts);
      weight = weight ? mul(weight, objects) : objects;
    }
    const target = velocityTarget(x0, noise);
    const flow = flowMatchingLoss(v, target, weight);
    const metrics: Record<string, number> = { shift, frames: bucket.frames, side: bucket.width };
    if (this.latentCache) metrics.latent_cache_hits = this.latentCache.hits / Math.max(1, this.latentCache.hits + this.latentCache.misses);
    const flickerWeight = this.options.temporalDifferenceWeight ?? 0;
    const flicker = flickerWeight > 0 ? temporalDifferenceLoss(v, target, t, anyGiven ? mask : undefined) : null;
    if (!flicker) return { loss: flow, samples: B, metrics };
    metrics.flow = flow.item();
    metrics.flicker = flicker.item();
    return { loss: add(flow, mul(flicker, flickerWeight)), samples: B, metrics };
  }
}
