/**
 * The two things Tessera trains, as TrainTasks for the shared loop:
 *   VaeTask: the video compression network, on clips of mixed sizes and lengths (images included);
 *   DitTask: the diffusion transformer and the text encoder jointly, on latents of the frozen VAE, with caption
 *            dropout (for guidance) and random frame-conditioning masks (image-to-video, extension, connection).
 */
import { Tensor, noGrad, type Rng } from '../engine/index.js';
import type { VideoClip } from '../media/types.js';
import { CausalVideoVAE, videosToTensor, vaeLoss, type VaeLossOptions } from '../models/vae/index.js';
import type { DiT } from '../models/dit/index.js';
import type { TextEncoder } from '../models/text/encoder.js';
import type { WordLevelTokenizer } from '../models/text/tokenizer.js';
import { addNoise, flowMatchingLoss, resolutionShift, sampleLogitNormal, shiftTime, unconditionedWeight, velocityTarget } from '../diffusion/index.js';
import type { Module } from '../nn/index.js';
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
  nextBatch(bucket: Bucket, size: number): Promise<{ clips: VideoClip[]; captions: string[] }>;
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
  }

  async step(rng: Rng): Promise<StepResult> {
    const { vae, transformer, textEncoder, tokenizer } = this.parts;
    const bucket = pickBucket(this.buckets, rng);
    const { clips, captions } = await this.source.nextBatch(bucket, bucket.batch);
    const B = clips.length;
    const x0 = noGrad(() => vae.normalizeLatent(vae.encode(videosToTensor(clips)).mean));
    const [, , T, H, W] = x0.shape as [number, number, number, number, number];

    const prompts = captions.map((c) => (rng.uniform() < this.options.captionDropout ? '' : c));
    const text = textEncoder.forward(tokenizer.encodeBatch(prompts));

    const shift = resolutionShift(transformer.numTokens(T, H, W), { baseTokens: this.options.shiftBaseTokens, maxShift: this.options.maxShift });
    const t = sampleLogitNormal(rng, B).map((v) => shiftTime(v, shift));
    const noise = Tensor.randn(x0.shape, rng);
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
    const loss = flowMatchingLoss(v, velocityTarget(x0, noise), anyGiven ? unconditionedWeight(x0.shape, mask) : undefined);
    return { loss, samples: B, metrics: { shift, frames: bucket.frames, side: bucket.width } };
  }
}
