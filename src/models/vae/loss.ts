/**
 * Training objective of the VAE: L1 reconstruction (optionally weighted towards moving pixels), L1 on image
 * gradients (edges and motion must survive, not only mean colour), and a small KL term that keeps the latent near
 * a unit Gaussian for the diffusion model.
 */
import { Tensor, l1Loss, noGrad } from '../../engine/index.js';
import type { Rng } from '../../engine/index.js';
import type { CausalVideoVAE } from './vae.js';

export interface VaeLossOptions {
  rng: Rng;
  /** Weight of the finite-difference L1 term (default 0.5). */
  gradientWeight?: number;
  /** Weight of the per-element mean KL (default 1e-6). */
  klWeight?: number;
  /** Decode the mean instead of a sample (a deterministic autoencoder; default false). */
  useMean?: boolean;
  /**
   * Largest standard deviation, in the diffusion model's unit-variance latent units, of Gaussian noise added to
   * the latent before decoding; each clip draws its own from [0, latentNoise] (default 0: none).
   */
  latentNoise?: number;
  /** Encode without gradients: only the decoder learns (default false). */
  freezeEncoder?: boolean;
  /**
   * Extra weight of the reconstruction on pixels that change between neighbouring frames (default 0: plain L1).
   * A small moving object covers about 1% of a clip, so plain L1 lets the decoder draw the frames of one latent
   * frame as one smear of its path; see motionWeights.
   */
  motionWeight?: number;
}

export interface VaeLoss {
  loss: Tensor;
  reconstruction: number;
  gradient: number;
  kl: number;
  /** The decoded clip, unclamped. */
  output: Tensor;
}

/** Differences between neighbours along one axis. */
function diff(x: Tensor, axis: number): Tensor {
  const n = x.shape[axis]!;
  return x.slice(axis, 1, n).sub(x.slice(axis, 0, n - 1));
}

/** Mean L1 distance between the finite differences of two NCTHW clips along H, W and (if > 1 frame) T. */
export function gradientL1(pred: Tensor, target: Tensor): Tensor {
  const axes = [3, 4];
  if (pred.shape[2]! > 1) axes.push(2);
  let total: Tensor | null = null;
  for (const axis of axes) {
    const term = l1Loss(diff(pred, axis), diff(target, axis));
    total = total ? total.add(term) : term;
  }
  return total!.mul(1 / axes.length);
}

export function vaeLoss(vae: CausalVideoVAE, x: Tensor, options: VaeLossOptions): VaeLoss {
  const { rng, gradientWeight = 0.5, klWeight = 1e-6, useMean = false, latentNoise = 0, freezeEncoder = false, motionWeight = 0 } = options;
  const posterior = freezeEncoder ? noGrad(() => vae.encode(x)) : vae.encode(x);
  let z = useMean ? posterior.mean : posterior.sample(rng);
  if (latentNoise > 0) z = z.add(perClipNoise(z.shape, latentNoise / vae.config.scalingFactor, rng));
  const output = vae.decode(z);
  const reconstruction = motionWeight > 0 ? weightedL1(output, x, motionWeights(x, motionWeight)) : l1Loss(output, x);
  const gradient = gradientL1(output, x);
  const kl = posterior.kl();
  const loss = reconstruction.add(gradient.mul(gradientWeight)).add(kl.mul(klWeight));
  return { loss, reconstruction: reconstruction.item(), gradient: gradient.item(), kl: kl.item(), output };
}

/**
 * Per-pixel weights [N, 1, T, H, W] of a clip in [-1, 1]: 1 + motionWeight · m, where m in [0, 1] is the largest
 * change of the pixel (over channels, peak-to-peak 2 scaled to 1) to the frame before or after it. Both where a
 * moving object arrives and where it leaves weigh more, so drawing it in the wrong frame costs as much as
 * leaving it out. Still clips and single images get weight 1 everywhere.
 */
export function motionWeights(target: Tensor, motionWeight: number): Tensor {
  const [n, c, t, h, w] = target.shape as [number, number, number, number, number];
  const plane = h * w;
  const weights = new Float32Array(n * t * plane).fill(1);
  const x = target.data;
  for (let b = 0; b < n; b++) {
    for (let f = 0; f < t; f++) {
      const out = (b * t + f) * plane;
      for (const g of [f - 1, f + 1]) {
        if (g < 0 || g >= t) continue;
        for (let ch = 0; ch < c; ch++) {
          const here = ((b * c + ch) * t + f) * plane;
          const there = ((b * c + ch) * t + g) * plane;
          for (let i = 0; i < plane; i++) {
            const m = 1 + (motionWeight * Math.abs(x[here + i]! - x[there + i]!)) / 2;
            if (m > weights[out + i]!) weights[out + i] = m;
          }
        }
      }
    }
  }
  return Tensor.from(weights, [n, 1, t, h, w]);
}

/** L1 distance weighted per pixel, normalised by the mean weight so its scale matches plain L1. */
function weightedL1(pred: Tensor, target: Tensor, weights: Tensor): Tensor {
  let total = 0;
  for (let i = 0; i < weights.size; i++) total += weights.data[i]!;
  return pred.sub(target).abs().mul(weights).mean().mul(weights.size / total);
}

/** Gaussian noise whose standard deviation is drawn per clip (axis 0) uniformly from [0, maxStd]. */
function perClipNoise(shape: readonly number[], maxStd: number, rng: Rng): Tensor {
  const std = Float32Array.from({ length: shape[0]! }, () => rng.uniform() * maxStd);
  return Tensor.randn(shape, rng).mul(Tensor.from(std, [shape[0]!, ...shape.slice(1).map(() => 1)]));
}

/** Peak signal-to-noise ratio in dB of clips in [-1, 1] (peak-to-peak 2). */
export function psnr(pred: Tensor, target: Tensor): number {
  let se = 0;
  for (let i = 0; i < pred.size; i++) {
    const d = Math.min(1, Math.max(-1, pred.data[i]!)) - target.data[i]!;
    se += d * d;
  }
  const mse = se / pred.size;
  return 10 * Math.log10(4 / Math.max(mse, 1e-12));
}
