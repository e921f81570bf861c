/**
 * Rectified flow. Data x0 and Gaussian noise eps are joined by a straight line
 *
 *   x_t = (1 - t) x0 + t eps,   t in [0, 1] (0 = data, 1 = noise),
 *
 * whose velocity dx_t/dt = eps - x0 is what the model learns to predict. Sampling integrates that ODE from t = 1 to
 * t = 0 (see schedulers.ts).
 */
import { Tensor, mul, square, sub, sum, div, slice } from '../engine/index.js';
import type { Rng } from '../engine/index.js';
import { invalidArgument, TesseraError } from '../errors.js';

/** x_t for a batch: x0 and noise [B, ...], t one value per sample. A constant (no graph). */
export function addNoise(x0: Tensor, noise: Tensor, t: ArrayLike<number>): Tensor {
  checkSame('noise', x0, noise);
  const B = x0.shape[0]!;
  if (t.length !== B) throw invalidArgument('t', `expected one time per sample (${B}), got ${t.length}`);
  const per = x0.size / B;
  const out = new Float32Array(x0.size);
  for (let b = 0; b < B; b++) {
    const tb = t[b]!;
    for (let i = b * per; i < (b + 1) * per; i++) out[i] = (1 - tb) * x0.data[i]! + tb * noise.data[i]!;
  }
  return Tensor.from(out, x0.shape);
}

/** The regression target v = eps - x0. */
export function velocityTarget(x0: Tensor, noise: Tensor): Tensor {
  checkSame('noise', x0, noise);
  const out = new Float32Array(x0.size);
  for (let i = 0; i < out.length; i++) out[i] = noise.data[i]! - x0.data[i]!;
  return Tensor.from(out, x0.shape);
}

/**
 * t = sigmoid(mean + std * n), n ~ N(0, 1): the logit-normal of SD3, which spends more training on middle times,
 * where the velocity is hardest to predict, than uniform sampling does.
 */
export function sampleLogitNormal(rng: Rng, n: number, { mean = 0, std = 1 }: { mean?: number; std?: number } = {}): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = 1 / (1 + Math.exp(-(mean + std * rng.normal())));
  return out;
}

/**
 * Training times: the logit-normal, with a fraction of the samples drawn uniformly from [0, 1] instead. The
 * logit-normal alone almost never visits the ends: after the shift of a 128×128 clip only about 1% of samples lie
 * above t = 0.95, yet the first sampling steps, which set a clip's layout and any colour only the caption can
 * give (a flat background's), are taken there. With uniformFraction 0 this is sampleLogitNormal exactly, drawing
 * the same random numbers.
 */
export function sampleTrainingTimes(rng: Rng, n: number, { uniformFraction = 0 }: { uniformFraction?: number } = {}): Float32Array {
  if (uniformFraction <= 0) return sampleLogitNormal(rng, n);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.uniform() < uniformFraction ? rng.uniform() : sampleLogitNormal(rng, 1)[0]!;
  return out;
}

/**
 * Time shift t' = s t / (1 + (s - 1) t). With s > 1 more of the schedule is spent at high noise, which larger
 * latents need: they hold more redundant pixels, so the same t destroys less of their content.
 * Endpoints are fixed (0 -> 0, 1 -> 1) and the map is monotone.
 */
export function shiftTime(t: number, shift: number): number {
  if (!(shift > 0)) throw invalidArgument('shift', `expected a positive number, got ${shift}`);
  return (shift * t) / (1 + (shift - 1) * t);
}

export interface ResolutionShiftOptions {
  /** Token count at which no shift is applied (default 256, e.g. one 32x32 latent image at patch 2). */
  baseTokens?: number;
  /** Clamp of the shift (default [1, 6]). */
  minShift?: number;
  maxShift?: number;
}

/**
 * Shift for a latent of `numTokens` tokens: s = sqrt(numTokens / baseTokens), SD3's rule for keeping the
 * signal-to-noise ratio per unit of content constant as resolution and duration grow (Open-Sora applies the same
 * square root to the space-time token count).
 */
export function resolutionShift(numTokens: number, { baseTokens = 256, minShift = 1, maxShift = 6 }: ResolutionShiftOptions = {}): number {
  if (!(numTokens > 0)) throw invalidArgument('numTokens', `expected a positive number, got ${numTokens}`);
  return Math.min(maxShift, Math.max(minShift, Math.sqrt(numTokens / baseTokens)));
}

/**
 * Training loss: weighted mean squared error between predicted and target velocity,
 * sum(w (pred - target)^2) / sum(w). The weight (same shape as pred, or omitted for all ones) removes conditioned
 * frames from the loss without diluting it by their count.
 */
export function flowMatchingLoss(pred: Tensor, target: Tensor, weight?: Tensor): Tensor {
  checkSame('target', pred, target);
  const err = square(sub(pred, target));
  if (!weight) return div(sum(err), pred.size);
  checkSame('weight', pred, weight);
  let total = 0;
  for (let i = 0; i < weight.size; i++) total += weight.data[i]!;
  if (total <= 0) throw invalidArgument('weight', 'all loss weights are zero: nothing to learn from');
  return div(sum(mul(err, weight)), total);
}

/**
 * Loss on the flicker of the clean estimate: the mean squared change, from one latent frame to the next, of the
 * clean estimate's error. With x̂0 = x_t - t v̂ the error x̂0 - x0 is -t (v̂ - v), so for latents [B, C, T, H, W]
 *
 *   sum_b t_b^2 sum_{c, k >= 1, h, w} m (e[k] - e[k-1])^2 / sum m,   e = pred - target,
 *
 * where m is 1 on pairs of latent frames that are both generated (frameMask [B * T], 1 = given, excludes the rest).
 * An error that is the same in every frame costs nothing here; one that changes between frames (an object redrawn,
 * moved or dropped) costs up to twice its per-frame MSE. The per-frame MSE alone cannot tell the two apart.
 * Returns null when no pair of adjacent generated frames exists (single frames, images).
 */
export function temporalDifferenceLoss(pred: Tensor, target: Tensor, t: ArrayLike<number>, frameMask?: ArrayLike<number>): Tensor | null {
  checkSame('target', pred, target);
  if (pred.ndim !== 5) throw invalidArgument('pred', `expected [B, C, T, H, W], got [${pred.shape.join(', ')}]`);
  const [B, C, T, H, W] = pred.shape as [number, number, number, number, number];
  if (t.length !== B) throw invalidArgument('t', `expected one time per sample (${B}), got ${t.length}`);
  if (frameMask && frameMask.length !== B * T) throw invalidArgument('frameMask', `expected ${B * T} entries, got ${frameMask.length}`);
  if (T < 2) return null;
  const err = sub(pred, target);
  const change = sub(slice(err, 2, 1), slice(err, 2, 0, T - 1));
  const plane = H * W;
  const weight = new Float32Array(B * C * (T - 1) * plane);
  let pairs = 0;
  for (let b = 0; b < B; b++) {
    const tb = t[b]!;
    for (let k = 1; k < T; k++) {
      if (frameMask && (frameMask[b * T + k]! !== 0 || frameMask[b * T + k - 1]! !== 0)) continue;
      pairs += C * plane;
      for (let c = 0; c < C; c++) weight.fill(tb * tb, ((b * C + c) * (T - 1) + k - 1) * plane, ((b * C + c) * (T - 1) + k) * plane);
    }
  }
  if (pairs === 0) return null;
  return div(sum(mul(square(change), Tensor.from(weight, change.shape, pred.dtype))), pairs);
}

/**
 * Per-element loss weight that is 0 on latent frames given as conditions and 1 elsewhere, for latents
 * [B, C, T, H, W] and a frame mask [B * T] (1 = given).
 */
export function unconditionedWeight(shape: readonly number[], frameMask: ArrayLike<number>): Tensor {
  const [B, C, T, H, W] = shape as [number, number, number, number, number];
  if (shape.length !== 5) throw invalidArgument('shape', `expected [B, C, T, H, W], got [${shape.join(', ')}]`);
  if (frameMask.length !== B * T) throw invalidArgument('frameMask', `expected ${B * T} entries, got ${frameMask.length}`);
  const w = Tensor.ones(shape);
  const plane = H * W;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      if (frameMask[b * T + t]! === 0) continue;
      for (let c = 0; c < C; c++) w.data.fill(0, ((b * C + c) * T + t) * plane, ((b * C + c) * T + t + 1) * plane);
    }
  }
  return w;
}

export interface FlowBatchOptions {
  /** Time shift applied to the sampled times (see resolutionShift); default 1. */
  shift?: number;
  /** Logit-normal location and scale; default 0 and 1. */
  logitMean?: number;
  logitStd?: number;
  /** [B * T]: latent frames given as conditions; they are excluded from the loss. */
  frameMask?: ArrayLike<number>;
}

/** One training example set for rectified flow: model input, times, regression target and loss weight. */
export interface FlowBatch {
  xt: Tensor;
  t: Float32Array;
  noise: Tensor;
  target: Tensor;
  /** Present when frames are conditioned: 0 on them, 1 elsewhere. */
  weight?: Tensor;
}

/**
 * Draws noise and times for clean latents x0 [B, ...] and builds what a training step needs:
 *   const b = flowTrainingBatch(x0, rng, { shift, frameMask });
 *   const v = model.forward({ latents: b.xt, timesteps: b.t, frames: { mask: frameMask, latents: x0 }, text });
 *   const loss = flowMatchingLoss(v, b.target, b.weight);
 *
 * Given frames follow the forward process like every other frame (x_t = (1 - t) x0 + t eps); the model reads
 * their clean values from its condition channels. The sampler matches this by re-imposing (1 - sigma) clean +
 * sigma noise on them after each step, with the initial noise (pipelines/pipeline.ts).
 */
export function flowTrainingBatch(x0: Tensor, rng: Rng, options: FlowBatchOptions = {}): FlowBatch {
  const { shift = 1, logitMean = 0, logitStd = 1, frameMask } = options;
  const B = x0.shape[0]!;
  const noise = Tensor.randn(x0.shape, rng);
  const t = sampleLogitNormal(rng, B, { mean: logitMean, std: logitStd }).map((v) => shiftTime(v, shift));
  const xt = addNoise(x0, noise, t);
  const target = velocityTarget(x0, noise);
  if (!frameMask) return { xt, t, noise, target };
  return { xt, t, noise, target, weight: unconditionedWeight(x0.shape, frameMask) };
}

function checkSame(name: string, a: Tensor, b: Tensor): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new TesseraError('shape_mismatch', `${name}: expected shape [${a.shape.join(', ')}], got [${b.shape.join(', ')}]`, { param: name });
  }
}
