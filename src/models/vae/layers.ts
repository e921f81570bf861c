/**
 * Building blocks of the causal video VAE. Tensors are NCTHW inside the model.
 *
 * Causality: every convolution pads time only at the front, so latent frame j depends on frames <= its last input
 * frame and the first frame is encoded on its own (an image is a 1-frame video). Normalisation is per frame, so
 * nothing mixes frames except the causal convolutions. Together these make chunked processing exact: a clip cut
 * into chunks, with each causal conv carrying its last input frames from one chunk to the next (`CausalCache`),
 * gives the same result as the whole clip at once.
 */
import { Tensor, concat, conv3d, silu } from '../../engine/index.js';
import type { Rng } from '../../engine/index.js';
import { Conv3d, GroupNorm, Module } from '../../nn/index.js';
import type { Triple } from '../../nn/index.js';
import { halvesSpace, halvesTime, type Resample } from './config.js';

/**
 * State carried between chunks: for each causal conv the input frames its next output still needs, and which
 * temporal upsamplers have already emitted their first frame.
 */
export class CausalCache {
  private readonly tails = new Map<Module, Tensor>();
  private readonly started = new Set<Module>();

  takeTail(conv: Module): Tensor | undefined {
    return this.tails.get(conv);
  }

  keepTail(conv: Module, frames: Tensor): void {
    this.tails.set(conv, frames.detach());
  }

  /** True the first time a module asks, false afterwards. */
  firstCall(module: Module): boolean {
    if (this.started.has(module)) return false;
    this.started.add(module);
    return true;
  }
}

export interface CausalConvOptions {
  rng: Rng;
  stride?: Triple;
  init?: 'kaiming' | 'xavier' | 'zeros';
}

/** A Conv3d padded only at the front of time (kt - 1 frames), with spatial 'same' padding. */
export class CausalConv3d extends Conv3d {
  constructor(cIn: number, cOut: number, kernel: Triple, { rng, stride = [1, 1, 1], init = 'kaiming' }: CausalConvOptions) {
    super(cIn, cOut, kernel, { rng, stride, causal: true, init });
  }

  override forward(x: Tensor, cache?: CausalCache): Tensor {
    const [kt] = this.kernel;
    if (cache === undefined || kt === 1) return super.forward(x);
    // The zero frames of the unchunked padding become, after the first chunk, the real frames before the chunk.
    const [n, c, , h, w] = x.shape as [number, number, number, number, number];
    const past = cache.takeTail(this) ?? Tensor.zeros([n, c, kt - 1, h, w]);
    const input = concat([past, x], 2);
    const [, , ph, pw] = this.padding;
    const out = conv3d(input, this.weight, this.bias ?? undefined, { stride: this.stride, padding: [0, 0, ph, pw] });
    // Frames from the first one the next output window starts at are still needed.
    cache.keepTail(this, input.slice(2, out.shape[2]! * this.stride[0]));
    return out;
  }
}

/** GroupNorm applied to each frame on its own, so the result for a frame does not depend on other frames. */
export class FrameGroupNorm extends GroupNorm {
  override forward(x: Tensor): Tensor {
    const [n, c, t, h, w] = x.shape as [number, number, number, number, number];
    const frames = x.permute([0, 2, 1, 3, 4]).reshape([n * t, c, h, w]);
    return super.forward(frames).reshape([n, t, c, h, w]).permute([0, 2, 1, 3, 4]);
  }
}

/** norm -> SiLU -> conv, twice, plus a skip (1x1x1 conv when the width changes). Starts as the identity. */
export class ResBlock extends Module {
  norm1: FrameGroupNorm;
  conv1: CausalConv3d;
  norm2: FrameGroupNorm;
  conv2: CausalConv3d;
  skip: CausalConv3d | null;

  constructor(cIn: number, cOut: number, groups: number, rng: Rng) {
    super();
    this.norm1 = new FrameGroupNorm(groups, cIn);
    this.conv1 = new CausalConv3d(cIn, cOut, [3, 3, 3], { rng });
    this.norm2 = new FrameGroupNorm(groups, cOut);
    this.conv2 = new CausalConv3d(cOut, cOut, [3, 3, 3], { rng, init: 'zeros' });
    this.skip = cIn === cOut ? null : new CausalConv3d(cIn, cOut, [1, 1, 1], { rng });
  }

  forward(x: Tensor, cache?: CausalCache): Tensor {
    const h = this.conv1.forward(silu(this.norm1.forward(x)), cache);
    const out = this.conv2.forward(silu(this.norm2.forward(h)), cache);
    return out.add(this.skip ? this.skip.forward(x) : x);
  }
}

/**
 * A fixed (not learned) map from cIn to cOut channels: averages runs of neighbouring input channels when
 * narrowing, repeats channels when widening. With space-to-depth it gives the parameter-free shortcuts that let
 * a deep autoencoder start as average-pool down and nearest-neighbour up, and learn only the residual on top
 * (the "residual autoencoding" of DC-AE): without them a small VAE spends thousands of steps learning to pass
 * colour through at all.
 */
export function channelResampleMatrix(cIn: number, cOut: number): Tensor {
  const m = new Float32Array(cOut * cIn);
  if (cIn >= cOut) {
    const counts = new Array<number>(cOut).fill(0);
    for (let i = 0; i < cIn; i++) counts[Math.floor((i * cOut) / cIn)]!++;
    for (let i = 0; i < cIn; i++) {
      const c = Math.floor((i * cOut) / cIn);
      m[c * cIn + i] = 1 / counts[c]!;
    }
  } else {
    for (let c = 0; c < cOut; c++) m[c * cIn + Math.floor((c * cIn) / cOut)] = 1;
  }
  return Tensor.from(m, [cOut, cIn, 1, 1, 1]);
}

export function resampleChannels(x: Tensor, matrix: Tensor): Tensor {
  return matrix.shape[0] === matrix.shape[1] ? x : conv3d(x, matrix, undefined, { stride: [1, 1, 1], padding: [0, 0, 0, 0] });
}

/**
 * Halves what `mode` says with one strided conv. In time the window is causal: output j sees frames 2j-2..2j,
 * so frames 1 + 2k become 1 + k and frame 0 stays alone.
 */
export class Downsample extends Module {
  readonly timeFactor: number;
  readonly spaceFactor: number;
  conv: CausalConv3d;
  /** With shortcuts: folds each 2x2 patch / frame pair into channels and averages them down to cOut. */
  private readonly shortcut: Tensor | null;

  constructor(cIn: number, cOut: number, mode: Resample, rng: Rng, shortcut = false) {
    super();
    const t = (this.timeFactor = halvesTime(mode) ? 2 : 1);
    const s = (this.spaceFactor = halvesSpace(mode) ? 2 : 1);
    // with a shortcut the conv learns a residual: start it at zero so the block starts as average pooling
    this.conv = new CausalConv3d(cIn, cOut, [t === 2 ? 3 : 1, 3, 3], { rng, stride: [t, s, s], init: shortcut ? 'zeros' : 'kaiming' });
    this.shortcut = shortcut ? channelResampleMatrix(cIn * t * s * s, cOut) : null;
  }

  forward(x: Tensor, cache?: CausalCache): Tensor {
    const first = this.shortcut !== null && this.timeFactor > 1 && (cache === undefined || cache.firstCall(this));
    const out = this.conv.forward(x, cache);
    if (!this.shortcut) return out;
    let folded = spaceToDepth(x, this.spaceFactor);
    if (this.timeFactor > 1) folded = foldFramePairs(folded, first);
    return out.add(resampleChannels(folded, this.shortcut));
  }
}

/**
 * [N, C, T, H, W] -> [N, 2C, T', H, W], frame pairs side by side in channels (channel c of the pair's earlier
 * frame at 2c, the later at 2c + 1). Pairs follow the causal downsampler: frame 0 of a clip stands alone (paired
 * with itself), then (1, 2), (3, 4), ...; a later chunk starts on a pair boundary.
 */
function foldFramePairs(x: Tensor, clipStart: boolean): Tensor {
  const [n, c, t, h, w] = x.shape as [number, number, number, number, number];
  const paired = clipStart ? concat([x.slice(2, 0, 1), x], 2) : x;
  const pairs = paired.shape[2]! / 2;
  return paired.reshape([n, c, pairs, 2, h, w]).permute([0, 1, 3, 2, 4, 5]).reshape([n, 2 * c, pairs, h, w]);
}

/**
 * Doubles what `mode` says with a sub-pixel conv: the conv runs at the low resolution and emits every output
 * position's features as channels, which are then moved into place (no upsampled copy is ever convolved).
 * In time, latent frame 0 yields one frame and every later one two, so 1 + k frames become 1 + 2k, mirroring
 * Downsample. Initialised so all sub-positions start equal (nearest-neighbour upsampling: no checkerboard).
 */
export class Upsample extends Module {
  readonly timeFactor: number;
  readonly spaceFactor: number;
  conv: CausalConv3d;

  /** With shortcuts: input channels resampled to cOut and copied to every sub-position (nearest neighbour). */
  private readonly shortcut: Tensor | null;

  constructor(cIn: number, cOut: number, mode: Resample, rng: Rng, shortcut = false) {
    super();
    this.timeFactor = halvesTime(mode) ? 2 : 1;
    this.spaceFactor = halvesSpace(mode) ? 2 : 1;
    const copies = this.timeFactor * this.spaceFactor ** 2;
    this.conv = new CausalConv3d(cIn, cOut * copies, [3, 3, 3], { rng, init: shortcut ? 'zeros' : 'kaiming' });
    this.shortcut = shortcut ? channelResampleMatrix(cIn, cOut) : null;
    // Output channel (c, sub-position) lives at c * copies + sub: give every sub-position channel c's kernel.
    const w = this.conv.weight.data;
    const perChannel = w.length / (cOut * copies);
    for (let c = 0; c < cOut; c++) {
      const first = w.subarray(c * copies * perChannel, (c * copies + 1) * perChannel);
      for (let sub = 1; sub < copies; sub++) w.set(first, (c * copies + sub) * perChannel);
    }
  }

  forward(x: Tensor, cache?: CausalCache): Tensor {
    const ft = this.timeFactor;
    const fs = this.spaceFactor;
    const first = ft > 1 && (cache === undefined || cache.firstCall(this));
    let h = this.conv.forward(x, cache);
    const [n, cAll, t, height, width] = h.shape as [number, number, number, number, number];
    const c = cAll / (ft * fs * fs);
    if (this.shortcut) {
      const copies = ft * fs * fs;
      const near = resampleChannels(x, this.shortcut).reshape([n, c, 1, t, height, width]);
      h = h.add(concat(new Array<Tensor>(copies).fill(near), 2).reshape([n, cAll, t, height, width]));
    }
    let up = h
      .reshape([n, c, ft, fs, fs, t, height, width])
      .permute([0, 1, 5, 2, 6, 3, 7, 4])
      .reshape([n, c, t * ft, height * fs, width * fs]);
    // The first latent frame stands for one frame only: keep the last of its copies.
    if (first) up = up.slice(2, ft - 1);
    return up;
  }
}

/** [N, C, T, H, W] -> [N, C*p*p, T, H/p, W/p]: each p x p pixel patch becomes channels. */
export function spaceToDepth(x: Tensor, p: number): Tensor {
  if (p === 1) return x;
  const [n, c, t, h, w] = x.shape as [number, number, number, number, number];
  return x
    .reshape([n, c, t, h / p, p, w / p, p])
    .permute([0, 1, 4, 6, 2, 3, 5])
    .reshape([n, c * p * p, t, h / p, w / p]);
}

/** Inverse of spaceToDepth. */
export function depthToSpace(x: Tensor, p: number): Tensor {
  if (p === 1) return x;
  const [n, cpp, t, h, w] = x.shape as [number, number, number, number, number];
  const c = cpp / (p * p);
  return x
    .reshape([n, c, p, p, t, h, w])
    .permute([0, 1, 4, 5, 2, 6, 3])
    .reshape([n, c, t, h * p, w * p]);
}
