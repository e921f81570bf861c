/**
 * Spacetime diffusion transformer (DiT), shaped like the figure in Peebles & Xie (2023) with Sora's changes:
 *
 *   latent [B, C, T, H, W] --(+ frame-condition channels)--> PatchEmbed3D --(+ FramePositionEmbed, FrameIndexEmbed)--> tokens [B, N, D]
 *   timestep t --> TimestepEmbedder --+--> c [B, D]  (conditions every block through adaLN-Zero)
 *   pooled text --> Linear -----------+
 *   tokens --> DiTBlock x depth (self-attention over all spacetime tokens with 3D RoPE and QK-norm,
 *                                optionally attention along time alone (temporalAttention),
 *                                cross-attention to the text tokens, GELU MLP)
 *          --> FinalLayer (adaLN + linear) --> unpatchify --> velocity [B, C, T, H, W]
 *
 * The model only sees a set of patches with (t, h, w) positions, so the same weights serve any number of frames,
 * any resolution and any aspect ratio: positions enter through rotary embeddings computed for the grid at hand and
 * through frame-relative coordinates (where in the frame a patch sits), neither tied to a training size.
 *
 * Input layout. The network's input has 2C + 1 channels, built here from the request, in this order:
 *   [0, C)       the noisy latent x_t,
 *   C            the frame mask: 1 on latent frames given clean (image-to-video, extension, connecting), else 0,
 *   [C+1, 2C+1)  the clean latent values on those frames, 0 elsewhere.
 * A plain text-to-video call leaves the mask and the clean values at zero. One model thus serves every mode. In
 * x_t the given frames follow the forward process like the others (training: diffusion/flow.ts flowTrainingBatch;
 * sampling: the pipeline re-imposes (1 - sigma) clean + sigma noise after each step); the loss ignores them.
 */
import {
  Rng,
  Tensor,
  add,
  attention,
  chunk,
  concat,
  mul,
  permute,
  reshape,
  rope,
  silu,
  unsqueeze,
} from '../../engine/index.js';
import { invalidArgument, TesseraError } from '../../errors.js';
import { loadPretrained, loadWeightsInto, savePretrained } from '../../formats/model-folder.js';
import type { WritableDType } from '../../formats/safetensors.js';
import { LayerNorm, Linear, MLP, Module, RMSNorm, type Init } from '../../nn/index.js';

// ---------------------------------------------------------------------------------------------------------------
// Configuration

export interface DiTConfig {
  /** Channels of the VAE latent. */
  latentChannels: number;
  /** Spacetime patch [pt, ph, pw] in latent cells. */
  patchSize: [number, number, number];
  hiddenSize: number;
  depth: number;
  numHeads: number;
  /** MLP hidden size = mlpRatio * hiddenSize. */
  mlpRatio: number;
  /** Width of the text encoder's token and pooled vectors. */
  textDim: number;
  /** Base of the rotary frequencies. */
  ropeTheta: number;
  /** Rotary pairs given to the (t, h, w) axes; they sum to headDim / 2. Null splits 1/4, 3/8, 3/8. */
  ropeAxesPairs: [number, number, number] | null;
  /** Width of the sinusoidal timestep features fed to the timestep MLP. */
  timestepFeatures: number;
  /**
   * Frequencies per spatial axis of the frame-relative position features (0 = none, RoPE only). See
   * FramePositionEmbed: they tell a token where it sits in the frame, which relative RoPE alone cannot.
   */
  framePositionFrequencies: number;
  /**
   * Frequencies of the latent-frame-index features (0 = none, the default, which every model folder written before
   * this field loads as). See FrameIndexEmbed: they tell a token which latent frame of the window it is in.
   */
  frameIndexFrequencies: number;
  /**
   * Adds to every block a branch of attention along time alone (TemporalAttention), after the spacetime
   * self-attention. False, the default, is what every model folder written before this field loads as.
   */
  temporalAttention: boolean;
}

export const DiTConfig = {
  /** 25.9M parameters (8 blocks of 3.2M: adaLN 0.9M, self-attention 0.6M, cross-attention 0.5M, MLP 1.2M). */
  defaults(): DiTConfig {
    return {
      latentChannels: 8,
      patchSize: [1, 2, 2],
      hiddenSize: 384,
      depth: 8,
      numHeads: 6,
      mlpRatio: 4,
      textDim: 256,
      ropeTheta: 10000,
      ropeAxesPairs: null,
      timestepFeatures: 256,
      framePositionFrequencies: 8,
      frameIndexFrequencies: 0,
      temporalAttention: false,
    };
  },

  /** Fills missing fields from the defaults and checks the result; errors name the field. */
  resolve(partial: Partial<DiTConfig> = {}): DiTConfig {
    const c: DiTConfig = { ...DiTConfig.defaults(), ...partial };
    for (const key of ['latentChannels', 'hiddenSize', 'depth', 'numHeads', 'mlpRatio', 'textDim', 'timestepFeatures'] as const) {
      if (!Number.isInteger(c[key]) || c[key] <= 0) throw invalidArgument(`DiTConfig.${key}`, `expected a positive integer, got ${c[key]}`);
    }
    if (!Array.isArray(c.patchSize) || c.patchSize.length !== 3 || !c.patchSize.every((p) => Number.isInteger(p) && p > 0)) {
      throw invalidArgument('DiTConfig.patchSize', `expected three positive integers [pt, ph, pw], got ${JSON.stringify(c.patchSize)}`);
    }
    if (c.hiddenSize % c.numHeads !== 0) {
      throw invalidArgument('DiTConfig.numHeads', `hiddenSize ${c.hiddenSize} is not divisible by numHeads ${c.numHeads}`);
    }
    const headDim = c.hiddenSize / c.numHeads;
    if (headDim % 2 !== 0) throw invalidArgument('DiTConfig.hiddenSize', `head dim ${headDim} must be even for rotary embeddings`);
    if (!Number.isInteger(c.framePositionFrequencies) || c.framePositionFrequencies < 0) {
      throw invalidArgument('DiTConfig.framePositionFrequencies', `expected an integer >= 0, got ${c.framePositionFrequencies}`);
    }
    if (!Number.isInteger(c.frameIndexFrequencies) || c.frameIndexFrequencies < 0) {
      throw invalidArgument('DiTConfig.frameIndexFrequencies', `expected an integer >= 0, got ${c.frameIndexFrequencies}`);
    }
    if (typeof c.temporalAttention !== 'boolean') {
      throw invalidArgument('DiTConfig.temporalAttention', `expected true or false, got ${JSON.stringify(c.temporalAttention)}`);
    }
    if (c.timestepFeatures % 2 !== 0) throw invalidArgument('DiTConfig.timestepFeatures', `expected an even number, got ${c.timestepFeatures}`);
    if (c.ropeAxesPairs !== null) {
      const sum = c.ropeAxesPairs.reduce((a, b) => a + b, 0);
      if (sum !== headDim / 2) {
        throw invalidArgument('DiTConfig.ropeAxesPairs', `pairs must sum to headDim/2 = ${headDim / 2}, got ${sum}`);
      }
    }
    return c;
  },
};

/** Rotary pairs per axis (t, h, w): time gets a quarter, the two spatial axes share the rest evenly. */
export function ropeAxesPairs(config: DiTConfig): [number, number, number] {
  if (config.ropeAxesPairs) return config.ropeAxesPairs;
  const pairs = config.hiddenSize / config.numHeads / 2;
  const spatial = Math.floor((3 * pairs) / 8);
  return [pairs - 2 * spatial, spatial, spatial];
}

// ---------------------------------------------------------------------------------------------------------------
// Conditioning inputs

/** Encoded caption: per-token vectors for cross-attention and one pooled vector for adaLN. */
export interface TextCondition {
  /** [B, L, textDim]. */
  tokens: Tensor;
  /** [B, textDim]. */
  pooled: Tensor;
  /** [B * L], 1 = real token, 0 = padding (from the tokenizer). Null attends to every token. */
  mask: Uint8Array | null;
}

/** Latent frames given clean (see the input layout at the top of the file). */
export interface FrameCondition {
  /** [B * T]: 1 where latent frame t of sample b is given. */
  mask: Float32Array;
  /** [B, C, T, H, W] clean latents; only the masked frames are read. */
  latents: Tensor;
}

export interface DiTInput {
  /** Noisy latents x_t, [B, C, T, H, W]. */
  latents: Tensor;
  /** Flow time per sample in [0, 1] (0 = data, 1 = noise), length B. */
  timesteps: Float32Array | readonly number[];
  text: TextCondition;
  frames?: FrameCondition;
  /** [B * N], 1 = real token: excludes padded tokens of packed batches from self-attention. */
  tokenMask?: Uint8Array;
}

// ---------------------------------------------------------------------------------------------------------------
// Small pieces

/** x * (1 + scale) + shift, with shift and scale [B, D] broadcast over the tokens of x [B, N, D]. */
function modulate(x: Tensor, shift: Tensor, scale: Tensor): Tensor {
  return add(mul(x, add(unsqueeze(scale, 1), 1)), unsqueeze(shift, 1));
}

/** Token grid of a latent: frames, rows and columns of patches. */
export interface TokenGrid {
  t: number;
  h: number;
  w: number;
}

/** Cuts a latent into spacetime patches and projects each to the hidden size (a strided Conv3d, as a Linear). */
export class PatchEmbed3D extends Module {
  readonly patchSize: [number, number, number];
  proj: Linear;

  constructor(inChannels: number, hiddenSize: number, patchSize: [number, number, number], rng: Rng) {
    super();
    this.patchSize = patchSize;
    const [pt, ph, pw] = patchSize;
    // Weight [D, C*pt*ph*pw] is a Conv3d kernel [D, C, pt, ph, pw] flattened; xavier over that view as in DiT.
    this.proj = new Linear(inChannels * pt * ph * pw, hiddenSize, { rng });
  }

  grid(shape: readonly number[]): TokenGrid {
    const [, , T, H, W] = shape as [number, number, number, number, number];
    const [pt, ph, pw] = this.patchSize;
    if (T % pt !== 0 || H % ph !== 0 || W % pw !== 0) {
      throw invalidArgument(
        'latents',
        `latent [T=${T}, H=${H}, W=${W}] must be divisible by the patch size [${this.patchSize.join(', ')}]`,
      );
    }
    return { t: T / pt, h: H / ph, w: W / pw };
  }

  /** [B, C, T, H, W] -> [B, N, D] with tokens in (t, h, w) raster order. */
  forward(x: Tensor): Tensor {
    const [B, C] = x.shape as [number, number];
    const g = this.grid(x.shape);
    const [pt, ph, pw] = this.patchSize;
    const cells = reshape(x, [B, C, g.t, pt, g.h, ph, g.w, pw]);
    const patches = permute(cells, [0, 2, 4, 6, 1, 3, 5, 7]); // [B, t, h, w, C, pt, ph, pw]
    return this.proj.forward(reshape(patches, [B, g.t * g.h * g.w, C * pt * ph * pw]));
  }
}

/**
 * Rotary tables for a (t, h, w) token grid: cos and sin [N, headDim/2]. The first pairs rotate with the frame
 * index, the next with the row, the last with the column, so attention scores depend on relative spacetime offsets.
 * Computed for whatever grid arrives: no table to outgrow.
 */
export function rope3d(grid: TokenGrid, axesPairs: [number, number, number], theta: number): { cos: Tensor; sin: Tensor } {
  const pairs = axesPairs[0] + axesPairs[1] + axesPairs[2];
  const n = grid.t * grid.h * grid.w;
  const cos = new Float32Array(n * pairs);
  const sin = new Float32Array(n * pairs);
  const freqs = axesPairs.map((p) => Float64Array.from({ length: p }, (_, j) => theta ** (-j / p)));
  let row = 0;
  for (let t = 0; t < grid.t; t++) {
    for (let h = 0; h < grid.h; h++) {
      for (let w = 0; w < grid.w; w++, row++) {
        const pos = [t, h, w];
        let col = row * pairs;
        for (let axis = 0; axis < 3; axis++) {
          for (const f of freqs[axis]!) {
            const angle = pos[axis]! * f;
            cos[col] = Math.cos(angle);
            sin[col] = Math.sin(angle);
            col++;
          }
        }
      }
    }
  }
  return { cos: Tensor.from(cos, [n, pairs]), sin: Tensor.from(sin, [n, pairs]) };
}

/** Fixed features of a token grid's positions, projected to the hidden size and added to the tokens. */
abstract class GridFeatureEmbed extends Module {
  readonly frequencies: number;
  proj: Linear;

  constructor(frequencies: number, featureWidth: number, hiddenSize: number, init: Init, rng: Rng) {
    super();
    this.frequencies = frequencies;
    this.proj = new Linear(featureWidth, hiddenSize, { rng, init });
  }

  /** [N, featureWidth] for the tokens of the grid in (t, h, w) raster order. */
  protected abstract gridFeatures(grid: TokenGrid): Tensor;

  /** [N, D] for the grid, broadcast over the batch when added. */
  forward(grid: TokenGrid): Tensor {
    return this.proj.forward(this.gridFeatures(grid));
  }
}

/**
 * Where a token sits in its frame, as Fourier features of frame-relative coordinates u = (row + 1/2) / rows and
 * v = (col + 1/2) / cols: sin(pi k u), cos(pi k u) for k = 1..K, and the same for v, projected to the hidden size
 * and added to the tokens. RoPE makes attention depend on offsets only, so on near-uniform input (pure noise at
 * t = 1) every token looks alike and the model cannot place content in the frame; these features break that tie.
 * They are defined for any grid (a 16x16 and a 16x28 latent both span [0, 1]), so nothing is tied to a training
 * resolution. Time has its own features (FrameIndexEmbed): a latent frame's index is not a frame-relative
 * coordinate, since the first latent frame differs in kind from the others whatever the clip's length.
 */
export class FramePositionEmbed extends GridFeatureEmbed {
  constructor(frequencies: number, hiddenSize: number, rng: Rng) {
    super(frequencies, 4 * frequencies, hiddenSize, { std: 0.02 }, rng);
  }

  static features(grid: TokenGrid, frequencies: number): Tensor {
    const width = 4 * frequencies;
    const out = new Float32Array(grid.t * grid.h * grid.w * width);
    let row = 0;
    for (let t = 0; t < grid.t; t++) {
      for (let h = 0; h < grid.h; h++) {
        for (let w = 0; w < grid.w; w++, row++) {
          const uv = [(h + 0.5) / grid.h, (w + 0.5) / grid.w];
          let col = row * width;
          for (const coord of uv) {
            for (let k = 1; k <= frequencies; k++) {
              out[col++] = Math.sin(Math.PI * k * coord);
              out[col++] = Math.cos(Math.PI * k * coord);
            }
          }
        }
      }
    }
    return Tensor.from(out, [grid.t * grid.h * grid.w, width]);
  }

  protected gridFeatures(grid: TokenGrid): Tensor {
    return FramePositionEmbed.features(grid, this.frequencies);
  }
}

/**
 * Which latent frame of the sampling window a token is in, as features of the frame index i: an indicator of the
 * first latent frame and sin(pi i / 2^k), cos(pi i / 2^k) for k = 1..K, projected to the hidden size and added to
 * the tokens. The causal VAE encodes frame 0 alone and every later latent frame from a group of frames, so the first
 * latent frame is an image latent and the rest summarise motion: a token has to know which kind it is, and at
 * t = 1 (pure noise) relative RoPE gives it no reliable way to tell. The projection starts at zero, so adding these
 * features to a trained model leaves its outputs unchanged until it learns to use them. Indices count from the
 * window's start (the pipeline samples long clips window by window), so no weight is tied to a clip length.
 * Measured on the bundled model (README, ninth round): it learned to find the first latent frame without them.
 */
export class FrameIndexEmbed extends GridFeatureEmbed {
  constructor(frequencies: number, hiddenSize: number, rng: Rng) {
    super(frequencies, 1 + 2 * frequencies, hiddenSize, 'zeros', rng);
  }

  /** [N, 1 + 2K] for the tokens of the grid in (t, h, w) raster order. */
  static features(grid: TokenGrid, frequencies: number): Tensor {
    const width = 1 + 2 * frequencies;
    const perFrame = grid.h * grid.w;
    const out = new Float32Array(grid.t * perFrame * width);
    for (let t = 0; t < grid.t; t++) {
      const row = new Float32Array(width);
      row[0] = t === 0 ? 1 : 0;
      for (let k = 1; k <= frequencies; k++) {
        const angle = (Math.PI * t) / 2 ** k;
        row[2 * k - 1] = Math.sin(angle);
        row[2 * k] = Math.cos(angle);
      }
      for (let i = 0; i < perFrame; i++) out.set(row, (t * perFrame + i) * width);
    }
    return Tensor.from(out, [grid.t * perFrame, width]);
  }

  protected gridFeatures(grid: TokenGrid): Tensor {
    return FrameIndexEmbed.features(grid, this.frequencies);
  }
}

/** Sinusoidal features of t * 1000 (DiT's convention for t in [0, 1]) followed by a two-layer SiLU MLP. */
export class TimestepEmbedder extends Module {
  readonly features: number;
  mlp: MLP;

  constructor(hiddenSize: number, features: number, rng: Rng) {
    super();
    this.features = features;
    this.mlp = new MLP(features, hiddenSize, hiddenSize, { rng, activation: 'silu', init: { std: 0.02 } });
  }

  static sinusoid(timesteps: ArrayLike<number>, dim: number, maxPeriod = 10000): Tensor {
    const half = dim / 2;
    const out = new Float32Array(timesteps.length * dim);
    for (let b = 0; b < timesteps.length; b++) {
      const t = timesteps[b]! * 1000;
      for (let i = 0; i < half; i++) {
        const angle = t * Math.exp((-Math.log(maxPeriod) * i) / half);
        out[b * dim + i] = Math.cos(angle);
        out[b * dim + half + i] = Math.sin(angle);
      }
    }
    return Tensor.from(out, [timesteps.length, dim]);
  }

  forward(timesteps: ArrayLike<number>): Tensor {
    return this.mlp.forward(TimestepEmbedder.sinusoid(timesteps, this.features));
  }
}

/** Multi-head self-attention over all spacetime tokens, with RMSNorm on q and k and 3D RoPE. */
export class SelfAttention extends Module {
  readonly numHeads: number;
  qkv: Linear;
  qNorm: RMSNorm;
  kNorm: RMSNorm;
  proj: Linear;

  constructor(dim: number, numHeads: number, rng: Rng) {
    super();
    this.numHeads = numHeads;
    this.qkv = new Linear(dim, 3 * dim, { rng });
    this.qNorm = new RMSNorm(dim / numHeads);
    this.kNorm = new RMSNorm(dim / numHeads);
    this.proj = new Linear(dim, dim, { rng });
  }

  forward(x: Tensor, rot: { cos: Tensor; sin: Tensor }, tokenMask: Uint8Array | null): Tensor {
    const [B, N, D] = x.shape as [number, number, number];
    const H = this.numHeads;
    const qkv = permute(reshape(this.qkv.forward(x), [B, N, 3, H, D / H]), [2, 0, 3, 1, 4]); // [3, B, H, N, Dh]
    const [q, k, v] = chunk(qkv, 3, 0).map((t) => reshape(t, [B, H, N, D / H])) as [Tensor, Tensor, Tensor];
    const qr = rope(this.qNorm.forward(q), rot.cos, rot.sin);
    const kr = rope(this.kNorm.forward(k), rot.cos, rot.sin);
    const out = attention(qr, kr, v, tokenMask ? { keyMask: tokenMask } : {}); // [B, H, N, Dh]
    return this.proj.forward(reshape(permute(out, [0, 2, 1, 3]), [B, N, D]));
  }
}

/**
 * Attention along time alone: a token attends to the tokens at its own (h, w) in every latent frame, as the
 * temporal layers of Latte and Open-Sora do. The spacetime self-attention can reach those tokens too, but spread
 * over every token of the clip it gives them a few percent of its weight (README, "What limits quality"); this
 * branch gives an object's place in the other frames a path of its own. RoPE on the frame index only. The output
 * projection starts at zero, so adding the branch to a trained model leaves it unchanged until the branch learns.
 */
export class TemporalAttention extends Module {
  norm: LayerNorm;
  attn: SelfAttention;

  constructor(dim: number, numHeads: number, rng: Rng) {
    super();
    this.norm = new LayerNorm(dim);
    this.attn = new SelfAttention(dim, numHeads, rng);
    this.attn.proj.reset('zeros', rng);
  }

  /** x [B, N, D] in (t, h, w) raster order; rot: rotary tables [grid.t, headDim/2] of the frame index. */
  forward(x: Tensor, grid: TokenGrid, rot: { cos: Tensor; sin: Tensor }, tokenMask: Uint8Array | null): Tensor {
    const [B, N, D] = x.shape as [number, number, number];
    const T = grid.t, S = grid.h * grid.w;
    // [B, T, S, D] -> [B*S, T, D]: one short sequence per place in the frame
    const seqs = reshape(permute(reshape(this.norm.forward(x), [B, T, S, D]), [0, 2, 1, 3]), [B * S, T, D]);
    const out = this.attn.forward(seqs, rot, tokenMask ? temporalKeyMask(tokenMask, B, T, S) : null);
    return reshape(permute(reshape(out, [B, S, T, D]), [0, 2, 1, 3]), [B, N, D]);
  }
}

/**
 * A [B, N] token mask laid out as [B*S, T] for the time sequences. A place that is padding in every frame keeps
 * all its keys: its outputs are padding too, and a row with no key to attend to would be undefined.
 */
function temporalKeyMask(tokenMask: Uint8Array, B: number, T: number, S: number): Uint8Array {
  const out = new Uint8Array(B * S * T);
  for (let b = 0; b < B; b++) {
    for (let s = 0; s < S; s++) {
      const row = (b * S + s) * T;
      let any = 0;
      for (let t = 0; t < T; t++) any |= out[row + t] = tokenMask[(b * T + t) * S + s]!;
      if (!any) out.fill(1, row, row + T);
    }
  }
  return out;
}

/** Queries from the video tokens, keys and values from the text tokens; padding tokens are masked out. */
export class CrossAttention extends Module {
  readonly numHeads: number;
  q: Linear;
  kv: Linear;
  qNorm: RMSNorm;
  kNorm: RMSNorm;
  proj: Linear;

  constructor(dim: number, textDim: number, numHeads: number, rng: Rng) {
    super();
    this.numHeads = numHeads;
    this.q = new Linear(dim, dim, { rng });
    this.kv = new Linear(textDim, 2 * dim, { rng });
    this.qNorm = new RMSNorm(dim / numHeads);
    this.kNorm = new RMSNorm(dim / numHeads);
    this.proj = new Linear(dim, dim, { rng });
  }

  forward(x: Tensor, text: Tensor, textMask: Uint8Array | null): Tensor {
    const [B, N, D] = x.shape as [number, number, number];
    const L = text.shape[1]!;
    const H = this.numHeads;
    const q = permute(reshape(this.q.forward(x), [B, N, H, D / H]), [0, 2, 1, 3]); // [B, H, N, Dh]
    const kv = permute(reshape(this.kv.forward(text), [B, L, 2, H, D / H]), [2, 0, 3, 1, 4]); // [2, B, H, L, Dh]
    const [k, v] = chunk(kv, 2, 0).map((t) => reshape(t, [B, H, L, D / H])) as [Tensor, Tensor];
    const out = attention(this.qNorm.forward(q), this.kNorm.forward(k), v, textMask ? { keyMask: textMask } : {});
    return this.proj.forward(reshape(permute(out, [0, 2, 1, 3]), [B, N, D]));
  }
}

/** Rotary tables a block needs for one token grid: over all of spacetime, and over the frame index alone. */
export interface BlockRotations {
  grid: TokenGrid;
  spacetime: { cos: Tensor; sin: Tensor };
  time: { cos: Tensor; sin: Tensor };
}

/**
 * One transformer block with adaLN-Zero: the conditioning vector c sets a shift, scale and gate for the
 * self-attention and MLP branches. Gates and the cross-attention output start at zero, so a new block is the
 * identity and the network starts as a function of the patch embedding and the final layer only.
 */
export class DiTBlock extends Module {
  norm1: LayerNorm;
  attn: SelfAttention;
  temporalAttn: TemporalAttention | null;
  norm2: LayerNorm;
  crossAttn: CrossAttention;
  norm3: LayerNorm;
  mlp: MLP;
  adaLN: Linear;

  constructor(config: DiTConfig, rng: Rng) {
    super();
    const D = config.hiddenSize;
    this.norm1 = new LayerNorm(D, { affine: false });
    this.attn = new SelfAttention(D, config.numHeads, rng);
    // its own stream, so that turning the branch on leaves every other weight of a new model as it was
    this.temporalAttn = config.temporalAttention ? new TemporalAttention(D, config.numHeads, rng.fork('temporal_attn')) : null;
    this.norm2 = new LayerNorm(D); // affine: cross-attention has no modulation of its own
    this.crossAttn = new CrossAttention(D, config.textDim, config.numHeads, rng);
    this.crossAttn.proj.reset('zeros', rng);
    this.norm3 = new LayerNorm(D, { affine: false });
    this.mlp = new MLP(D, Math.round(D * config.mlpRatio), D, { rng, activation: 'gelu' });
    this.adaLN = new Linear(D, 6 * D, { rng, init: 'zeros' });
  }

  /** x [B, N, D]; cAct = SiLU(c) [B, D], shared by all blocks. */
  forward(x: Tensor, cAct: Tensor, text: TextCondition, rot: BlockRotations, tokenMask: Uint8Array | null): Tensor {
    const [shiftMsa, scaleMsa, gateMsa, shiftMlp, scaleMlp, gateMlp] = chunk(this.adaLN.forward(cAct), 6, 1) as Tensor[];
    const h = this.attn.forward(modulate(this.norm1.forward(x), shiftMsa!, scaleMsa!), rot.spacetime, tokenMask);
    x = add(x, mul(unsqueeze(gateMsa!, 1), h));
    if (this.temporalAttn) x = add(x, this.temporalAttn.forward(x, rot.grid, rot.time, tokenMask));
    x = add(x, this.crossAttn.forward(this.norm2.forward(x), text.tokens, text.mask));
    const m = this.mlp.forward(modulate(this.norm3.forward(x), shiftMlp!, scaleMlp!));
    return add(x, mul(unsqueeze(gateMlp!, 1), m));
  }
}

/** adaLN then a zero-initialised projection from hidden size to one patch of output channels. */
export class FinalLayer extends Module {
  norm: LayerNorm;
  adaLN: Linear;
  linear: Linear;

  constructor(hiddenSize: number, patchVolume: number, outChannels: number, rng: Rng) {
    super();
    this.norm = new LayerNorm(hiddenSize, { affine: false });
    this.adaLN = new Linear(hiddenSize, 2 * hiddenSize, { rng, init: 'zeros' });
    this.linear = new Linear(hiddenSize, patchVolume * outChannels, { rng, init: 'zeros' });
  }

  forward(x: Tensor, cAct: Tensor): Tensor {
    const [shift, scale] = chunk(this.adaLN.forward(cAct), 2, 1) as [Tensor, Tensor];
    return this.linear.forward(modulate(this.norm.forward(x), shift, scale));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The model

export class DiT extends Module {
  static readonly className = 'SpacetimeDiT';
  readonly config: DiTConfig;
  patchEmbed: PatchEmbed3D;
  framePos: FramePositionEmbed | null;
  frameIndex: FrameIndexEmbed | null;
  timeEmbed: TimestepEmbedder;
  textPool: Linear;
  blocks: DiTBlock[];
  final: FinalLayer;
  private readonly ropeCache = new Map<string, BlockRotations>();

  constructor(config: Partial<DiTConfig>, rng: Rng) {
    super();
    const c = DiTConfig.resolve(config);
    this.config = c;
    const [pt, ph, pw] = c.patchSize;
    // Each part draws from its own stream, so adding a layer does not shift every later layer's weights.
    this.patchEmbed = new PatchEmbed3D(2 * c.latentChannels + 1, c.hiddenSize, c.patchSize, rng.fork('patch_embed'));
    this.framePos = c.framePositionFrequencies > 0
      ? new FramePositionEmbed(c.framePositionFrequencies, c.hiddenSize, rng.fork('frame_pos'))
      : null;
    this.frameIndex = c.frameIndexFrequencies > 0
      ? new FrameIndexEmbed(c.frameIndexFrequencies, c.hiddenSize, rng.fork('frame_index'))
      : null;
    this.timeEmbed = new TimestepEmbedder(c.hiddenSize, c.timestepFeatures, rng.fork('time_embed'));
    this.textPool = new Linear(c.textDim, c.hiddenSize, { rng: rng.fork('text_pool'), init: { std: 0.02 } });
    this.blocks = Array.from({ length: c.depth }, (_, i) => new DiTBlock(c, rng.fork(`block.${i}`)));
    this.final = new FinalLayer(c.hiddenSize, pt * ph * pw, c.latentChannels, rng.fork('final'));
  }

  static fromConfig(config: Partial<DiTConfig>, rng: Rng): DiT {
    return new DiT(config, rng);
  }

  /** Writes `dir/config.json` and `dir/model.safetensors` (diffusers-style component folder). */
  async savePretrained(dir: string, options: { dtype?: WritableDType } = {}): Promise<void> {
    await savePretrained(this, this.config, dir, { className: DiT.className, ...options });
  }

  /** Builds the model from a folder written by savePretrained; config and weights are checked against each other. */
  static async fromPretrained(dir: string): Promise<DiT> {
    const stored = await loadPretrained(dir);
    if (stored.className !== DiT.className) {
      throw new TesseraError('invalid_argument', `${dir}: config.json builds ${stored.className}, not ${DiT.className}`, { param: dir });
    }
    const model = new DiT(stored.config as Partial<DiTConfig>, new Rng(0)); // weights are overwritten below
    loadWeightsInto(model, stored.stateDict, dir);
    return model;
  }

  /** Predicted velocity v = eps - x0 for the noisy latents, same shape as input.latents. */
  forward(input: DiTInput): Tensor {
    const x = input.latents;
    const c = this.config;
    if (x.ndim !== 5 || x.shape[1] !== c.latentChannels) {
      throw invalidArgument('latents', `expected [B, ${c.latentChannels}, T, H, W], got [${x.shape.join(', ')}]`);
    }
    const [B] = x.shape as [number];
    this.checkConditions(input, B);
    const grid = this.patchEmbed.grid(x.shape);
    const n = grid.t * grid.h * grid.w;
    if (input.tokenMask && input.tokenMask.length !== B * n) {
      throw invalidArgument('tokenMask', `expected ${B * n} entries ([B, N] for ${n} tokens), got ${input.tokenMask.length}`);
    }

    let tokens = this.patchEmbed.forward(concat([x, ...frameChannels(x, input.frames)], 1)); // [B, N, D]
    if (this.framePos) tokens = add(tokens, this.framePos.forward(grid));
    if (this.frameIndex) tokens = add(tokens, this.frameIndex.forward(grid));
    const cond = add(this.timeEmbed.forward(input.timesteps), this.textPool.forward(input.text.pooled)); // [B, D]
    const cAct = silu(cond);
    const rot = this.rotations(grid);
    for (const block of this.blocks) tokens = block.forward(tokens, cAct, input.text, rot, input.tokenMask ?? null);
    return this.unpatchify(this.final.forward(tokens, cAct), grid);
  }

  /** [B, N, pt*ph*pw*C] -> [B, C, T, H, W]. */
  unpatchify(x: Tensor, grid: TokenGrid): Tensor {
    const B = x.shape[0]!;
    const C = this.config.latentChannels;
    const [pt, ph, pw] = this.config.patchSize;
    const cells = reshape(x, [B, grid.t, grid.h, grid.w, pt, ph, pw, C]);
    return reshape(permute(cells, [0, 7, 1, 4, 2, 5, 3, 6]), [B, C, grid.t * pt, grid.h * ph, grid.w * pw]);
  }

  /** Number of tokens a latent of [T, H, W] becomes (for the resolution-dependent timestep shift). */
  numTokens(latentT: number, latentH: number, latentW: number): number {
    const g = this.patchEmbed.grid([1, this.config.latentChannels, latentT, latentH, latentW]);
    return g.t * g.h * g.w;
  }

  /** The rotary tables the blocks use for a token grid (cached per grid). */
  rotations(grid: TokenGrid): BlockRotations {
    const key = `${grid.t}x${grid.h}x${grid.w}`;
    let r = this.ropeCache.get(key);
    if (!r) {
      const half = this.config.hiddenSize / this.config.numHeads / 2;
      r = {
        grid,
        spacetime: rope3d(grid, ropeAxesPairs(this.config), this.config.ropeTheta),
        time: rope3d({ t: grid.t, h: 1, w: 1 }, [half, 0, 0], this.config.ropeTheta),
      };
      if (this.ropeCache.size > 32) this.ropeCache.clear();
      this.ropeCache.set(key, r);
    }
    return r;
  }

  private checkConditions(input: DiTInput, B: number): void {
    const c = this.config;
    if (input.timesteps.length !== B) {
      throw invalidArgument('timesteps', `expected one per sample (${B}), got ${input.timesteps.length}`);
    }
    const { tokens, pooled, mask } = input.text;
    if (tokens.ndim !== 3 || tokens.shape[0] !== B || tokens.shape[2] !== c.textDim) {
      throw invalidArgument('text.tokens', `expected [${B}, L, ${c.textDim}], got [${tokens.shape.join(', ')}]`);
    }
    if (pooled.ndim !== 2 || pooled.shape[0] !== B || pooled.shape[1] !== c.textDim) {
      throw invalidArgument('text.pooled', `expected [${B}, ${c.textDim}], got [${pooled.shape.join(', ')}]`);
    }
    if (mask && mask.length !== B * tokens.shape[1]!) {
      throw invalidArgument('text.mask', `expected ${B * tokens.shape[1]!} entries ([B, L]), got ${mask.length}`);
    }
    const f = input.frames;
    if (f) {
      const T = input.latents.shape[2]!;
      if (!sameShape(f.latents.shape, input.latents.shape)) {
        throw invalidArgument('frames.latents', `expected [${input.latents.shape.join(', ')}], got [${f.latents.shape.join(', ')}]`);
      }
      if (f.mask.length !== B * T) throw invalidArgument('frames.mask', `expected ${B * T} entries ([B, T]), got ${f.mask.length}`);
    }
  }
}

/**
 * The C + 1 conditioning channels that follow the noisy latent: the frame mask and the masked clean latents.
 * Plain constants (no gradient): they come from data, not from parameters.
 */
export function frameChannels(latents: Tensor, frames: FrameCondition | undefined): [Tensor, Tensor] {
  const [B, C, T, H, W] = latents.shape as [number, number, number, number, number];
  const plane = H * W;
  const maskCh = Tensor.zeros([B, 1, T, H, W]);
  const clean = Tensor.zeros([B, C, T, H, W]);
  if (!frames) return [maskCh, clean];
  const src = frames.latents.data;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const m = frames.mask[b * T + t]!;
      if (m === 0) continue;
      maskCh.data.fill(m, (b * T + t) * plane, (b * T + t + 1) * plane);
      for (let ch = 0; ch < C; ch++) {
        const off = ((b * C + ch) * T + t) * plane;
        for (let i = 0; i < plane; i++) clean.data[off + i] = m * src[off + i]!;
      }
    }
  }
  return [maskCh, clean];
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Stacks text conditions along the batch (e.g. prompt and negative prompt for classifier-free guidance in one
 * forward pass). Shorter token sequences are padded with zero vectors that the mask hides. Constants only: use at
 * sampling time, not inside a graph that needs gradients through the text.
 */
export function batchTextConditions(conds: readonly TextCondition[]): TextCondition {
  if (conds.length === 0) throw invalidArgument('conds', 'expected at least one text condition');
  const width = conds[0]!.tokens.shape[2]!;
  for (const c of conds) {
    if (c.tokens.shape[2] !== width || c.pooled.shape[1] !== width) {
      throw new TesseraError('shape_mismatch', `batchTextConditions: text widths ${width} and ${c.tokens.shape[2]} differ`);
    }
  }
  const L = Math.max(...conds.map((c) => c.tokens.shape[1]!));
  const B = conds.reduce((n, c) => n + c.tokens.shape[0]!, 0);
  const tokens = Tensor.zeros([B, L, width]);
  const pooled = Tensor.zeros([B, width]);
  const mask = new Uint8Array(B * L);
  let row = 0;
  for (const c of conds) {
    const [b, l] = c.tokens.shape as [number, number];
    for (let i = 0; i < b; i++, row++) {
      tokens.data.set(c.tokens.data.subarray(i * l * width, (i + 1) * l * width), row * L * width);
      pooled.data.set(c.pooled.data.subarray(i * width, (i + 1) * width), row * width);
      for (let j = 0; j < l; j++) mask[row * L + j] = c.mask ? c.mask[i * l + j]! : 1;
    }
  }
  return { tokens, pooled, mask };
}
