/**
 * The video compression network: a causal 3D convolutional VAE.
 *
 *   pixels [N, 3, 1+4k, H, W] in [-1, 1]
 *     -> space-to-depth -> conv -> (ResBlocks, Downsample) per level -> ResBlock -> norm, SiLU, conv
 *     -> mean, log-variance [N, C, 1+k, H/8, W/8]
 *   latent -> conv -> ResBlock -> (ResBlocks, Upsample) per level -> norm, SiLU, conv -> depth-to-space -> pixels
 *
 * The first frame is encoded on its own, so an image is a 1-frame video. Long clips are encoded and decoded
 * in chunks of frames with a causal cache (see layers.ts): memory stays bounded and the result equals the
 * whole-clip one.
 */
import { Rng, Tensor, clamp, concat, exp, noGrad, silu } from '../../engine/index.js';
import { TesseraError, invalidArgument } from '../../errors.js';
import { loadPretrained, loadWeightsInto, savePretrained } from '../../formats/model-folder.js';
import type { WritableDType } from '../../formats/safetensors.js';
import { Module } from '../../nn/index.js';
import { checkAborted, type ProgressCallback } from '../../progress.js';
import { latentShape, resolveVaeConfig, spatialFactor, temporalFactor, type VaeConfig } from './config.js';
import {
  CausalCache, CausalConv3d, Downsample, ResBlock, Upsample, channelResampleMatrix, depthToSpace, FrameGroupNorm, resampleChannels, spaceToDepth,
} from './layers.js';


/** One level of the encoder or decoder: its residual blocks, then the resampler to the next level (if any). */
class Level extends Module {
  blocks: ResBlock[];
  resample: Downsample | Upsample | null;

  constructor(blocks: ResBlock[], resample: Downsample | Upsample | null) {
    super();
    this.blocks = blocks;
    this.resample = resample;
  }

  forward(x: Tensor, cache?: CausalCache): Tensor {
    for (const block of this.blocks) x = block.forward(x, cache);
    return this.resample ? this.resample.forward(x, cache) : x;
  }
}

export class Encoder extends Module {
  readonly patchSize: number;
  convIn: CausalConv3d;
  levels: Level[];
  mid: ResBlock;
  normOut: FrameGroupNorm;
  convOut: CausalConv3d;

  /** With shortcuts: fixed channel maps around convIn (pixels -> level 0) and convOut (top -> latent mean). */
  private readonly shortcutIn: Tensor | null;
  private readonly shortcutOut: Tensor | null;
  private readonly latentChannels: number;

  constructor(c: VaeConfig, rng: Rng) {
    super();
    const { channels, groups, shortcuts } = c;
    this.patchSize = c.patchSize;
    this.latentChannels = c.latentChannels;
    const pixelChannels = c.inChannels * c.patchSize ** 2;
    const init = shortcuts ? 'zeros' : 'kaiming';
    this.convIn = new CausalConv3d(pixelChannels, channels[0]!, [3, 3, 3], { rng, init });
    this.levels = channels.map((ch, i) => {
      const blocks = Array.from({ length: c.layersPerLevel }, () => new ResBlock(ch, ch, groups, rng));
      const last = i === channels.length - 1;
      return new Level(blocks, last ? null : new Downsample(ch, channels[i + 1]!, c.downsample[i]!, rng, shortcuts));
    });
    const top = channels[channels.length - 1]!;
    this.mid = new ResBlock(top, top, groups, rng);
    this.normOut = new FrameGroupNorm(groups, top);
    this.convOut = new CausalConv3d(top, 2 * c.latentChannels, [3, 3, 3], { rng, init });
    this.shortcutIn = shortcuts ? channelResampleMatrix(pixelChannels, channels[0]!) : null;
    this.shortcutOut = shortcuts ? channelResampleMatrix(top, c.latentChannels) : null;
    // a zero log-variance would mean unit noise on a latent that starts as pooled pixels: start it small
    if (shortcuts) this.convOut.bias!.data.fill(-8, c.latentChannels);
  }

  /** Pixels -> [mean, log-variance] stacked on channels. */
  forward(x: Tensor, cache?: CausalCache): Tensor {
    const patches = spaceToDepth(x, this.patchSize);
    let h = this.convIn.forward(patches, cache);
    if (this.shortcutIn) h = h.add(resampleChannels(patches, this.shortcutIn));
    for (const level of this.levels) h = level.forward(h, cache);
    h = this.mid.forward(h, cache);
    const moments = this.convOut.forward(silu(this.normOut.forward(h)), cache);
    if (!this.shortcutOut) return moments;
    const [mean, logvar] = moments.split(this.latentChannels, 1) as [Tensor, Tensor];
    return concat([mean.add(resampleChannels(h, this.shortcutOut)), logvar], 1);
  }
}

export class Decoder extends Module {
  readonly patchSize: number;
  convIn: CausalConv3d;
  mid: ResBlock;
  levels: Level[];
  normOut: FrameGroupNorm;
  convOut: CausalConv3d;

  /** With shortcuts: fixed channel maps around convIn (latent -> top level) and convOut (level 0 -> pixels). */
  private readonly shortcutIn: Tensor | null;
  private readonly shortcutOut: Tensor | null;

  constructor(c: VaeConfig, rng: Rng) {
    super();
    const { channels, groups, shortcuts } = c;
    this.patchSize = c.patchSize;
    const top = channels[channels.length - 1]!;
    const pixelChannels = c.inChannels * c.patchSize ** 2;
    const init = shortcuts ? 'zeros' : 'kaiming';
    this.convIn = new CausalConv3d(c.latentChannels, top, [3, 3, 3], { rng, init });
    this.shortcutIn = shortcuts ? channelResampleMatrix(c.latentChannels, top) : null;
    this.shortcutOut = shortcuts ? channelResampleMatrix(channels[0]!, pixelChannels) : null;
    this.mid = new ResBlock(top, top, groups, rng);
    // Coarsest level first; level i upsamples into level i - 1 of the encoder's numbering.
    this.levels = [...channels.keys()].reverse().map((i) => {
      const ch = channels[i]!;
      const blocks = Array.from({ length: c.layersPerLevel }, () => new ResBlock(ch, ch, groups, rng));
      return new Level(blocks, i === 0 ? null : new Upsample(ch, channels[i - 1]!, c.downsample[i - 1]!, rng, shortcuts));
    });
    this.normOut = new FrameGroupNorm(groups, channels[0]!);
    this.convOut = new CausalConv3d(channels[0]!, pixelChannels, [3, 3, 3], { rng, init });
  }

  forward(z: Tensor, cache?: CausalCache): Tensor {
    let h = this.convIn.forward(z, cache);
    if (this.shortcutIn) h = h.add(resampleChannels(z, this.shortcutIn));
    h = this.mid.forward(h, cache);
    for (const level of this.levels) h = level.forward(h, cache);
    let patches = this.convOut.forward(silu(this.normOut.forward(h)), cache);
    if (this.shortcutOut) patches = patches.add(resampleChannels(h, this.shortcutOut));
    return depthToSpace(patches, this.patchSize);
  }
}

/** The encoder's output: a diagonal Gaussian per latent element. */
export class LatentDistribution {
  constructor(
    readonly mean: Tensor,
    readonly logvar: Tensor,
  ) {}

  /** z = mean + std * eps, differentiable in mean and logvar. */
  sample(rng: Rng): Tensor {
    const eps = Tensor.randn(this.mean.shape, rng);
    return this.mean.add(exp(this.logvar.mul(0.5)).mul(eps));
  }

  /** KL(q || N(0, 1)) averaged over elements. */
  kl(): Tensor {
    return this.mean.square().add(exp(this.logvar)).sub(1).sub(this.logvar).mean().mul(0.5);
  }
}

export interface ChunkOptions {
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
}

export interface EncodeChunkOptions extends ChunkOptions {
  /** Pixel frames per chunk after the first frame; a multiple of the temporal factor (default: the factor). */
  framesPerChunk?: number;
}

export interface DecodeChunkOptions extends ChunkOptions {
  /** Latent frames per chunk after the first (default 1). */
  latentFramesPerChunk?: number;
}

export class CausalVideoVAE extends Module {
  /** The `_class_name` of its config.json and model_index.json entry. */
  static readonly className = 'CausalVideoVAE';
  readonly config: VaeConfig;
  encoder: Encoder;
  decoder: Decoder;

  constructor(config: Partial<VaeConfig> = {}, rng: Rng = new Rng(0)) {
    super();
    this.config = resolveVaeConfig(config);
    this.encoder = new Encoder(this.config, rng.fork('encoder'));
    this.decoder = new Decoder(this.config, rng.fork('decoder'));
  }

  get spatialFactor(): number {
    return spatialFactor(this.config);
  }

  get temporalFactor(): number {
    return temporalFactor(this.config);
  }

  /** Pixels [N, C, 1+tk, H, W] in [-1, 1] -> latent distribution [N, latentChannels, 1+k, H/s, W/s]. */
  encode(x: Tensor): LatentDistribution {
    this.checkPixels(x);
    return this.split(this.encoder.forward(x));
  }

  /** Latent [N, latentChannels, 1+k, h, w] -> pixels [N, C, 1+tk, h*s, w*s], about [-1, 1] (not clamped). */
  decode(z: Tensor): Tensor {
    this.checkLatent(z);
    return this.decoder.forward(z);
  }

  /**
   * Encodes frame 0, then `framesPerChunk` frames at a time, carrying the causal cache. Runs without autograd.
   * Equals encode(x) within float tolerance.
   */
  encodeChunked(x: Tensor, { framesPerChunk, onProgress, signal }: EncodeChunkOptions = {}): LatentDistribution {
    this.checkPixels(x);
    const tf = this.temporalFactor;
    const step = framesPerChunk ?? tf;
    if (!Number.isInteger(step) || step <= 0 || step % tf !== 0) {
      throw invalidArgument('framesPerChunk', `expected a positive multiple of ${tf}, got ${step}`);
    }
    return noGrad(() => {
      const outs = this.runChunks(x, step, onProgress, signal, 'encode', (chunk, cache) => this.encoder.forward(chunk, cache));
      return this.split(concat(outs, 2));
    });
  }

  /** Decodes latent frame 0, then `latentFramesPerChunk` at a time; output clamped to [-1, 1]. */
  decodeChunked(z: Tensor, { latentFramesPerChunk = 1, onProgress, signal }: DecodeChunkOptions = {}): Tensor {
    this.checkLatent(z);
    if (!Number.isInteger(latentFramesPerChunk) || latentFramesPerChunk <= 0) {
      throw invalidArgument('latentFramesPerChunk', `expected a positive integer, got ${latentFramesPerChunk}`);
    }
    return noGrad(() => {
      const outs = this.runChunks(z, latentFramesPerChunk, onProgress, signal, 'decode', (chunk, cache) => this.decoder.forward(chunk, cache));
      return clamp(concat(outs, 2), -1, 1);
    });
  }

  /** Latent as the diffusion model sees it, and back. */
  normalizeLatent(z: Tensor): Tensor {
    return z.scaleShift(this.config.scalingFactor, -this.config.shiftFactor * this.config.scalingFactor);
  }

  denormalizeLatent(z: Tensor): Tensor {
    return z.scaleShift(1 / this.config.scalingFactor, this.config.shiftFactor);
  }

  static async fromPretrained(dir: string): Promise<CausalVideoVAE> {
    const { className, config, stateDict } = await loadPretrained(dir);
    if (className !== CausalVideoVAE.className) {
      throw new TesseraError('corrupt_file', `${dir}/config.json: _class_name is '${className}', expected '${CausalVideoVAE.className}'`, { param: dir });
    }
    let vae: CausalVideoVAE;
    try {
      vae = new CausalVideoVAE(config as Partial<VaeConfig>);
    } catch (e) {
      throw new TesseraError('corrupt_file', `${dir}/config.json: ${(e as Error).message}`, { param: dir, cause: e });
    }
    loadWeightsInto(vae, stateDict, dir);
    return vae;
  }

  async savePretrained(dir: string, { dtype = 'F32' }: { dtype?: WritableDType } = {}): Promise<void> {
    await savePretrained(this, this.config, dir, { className: CausalVideoVAE.className, dtype });
  }

  // ---- internals -------------------------------------------------------------------------------------------

  private split(moments: Tensor): LatentDistribution {
    const [mean, logvar] = moments.split(this.config.latentChannels, 1) as [Tensor, Tensor];
    return new LatentDistribution(mean, clamp(logvar, -30, 20));
  }

  /** Frame 0 alone, then `step` frames per chunk, through `run` with one cache for the whole clip. */
  private runChunks(
    x: Tensor, step: number, onProgress: ProgressCallback | undefined, signal: AbortSignal | undefined, stage: string,
    run: (chunk: Tensor, cache: CausalCache) => Tensor,
  ): Tensor[] {
    const frames = x.shape[2]!;
    const starts = [0];
    for (let s = 1; s < frames; s += step) starts.push(s);
    const cache = new CausalCache();
    const outs: Tensor[] = [];
    starts.forEach((start, i) => {
      checkAborted(signal);
      const end = i + 1 < starts.length ? starts[i + 1]! : frames;
      outs.push(run(x.slice(2, start, end), cache));
      onProgress?.({ stage, done: i + 1, total: starts.length });
    });
    return outs;
  }

  private checkPixels(x: Tensor): void {
    if (x.ndim !== 5 || x.shape[1] !== this.config.inChannels) {
      throw invalidArgument('video', `expected [N, ${this.config.inChannels}, T, H, W], got [${x.shape.join(', ')}]`);
    }
    latentShape(this.config, x.shape[2]!, x.shape[3]!, x.shape[4]!);
  }

  private checkLatent(z: Tensor): void {
    if (z.ndim !== 5 || z.shape[1] !== this.config.latentChannels || z.shape[2]! < 1) {
      throw invalidArgument('latent', `expected [N, ${this.config.latentChannels}, T', h, w], got [${z.shape.join(', ')}]`);
    }
  }
}
