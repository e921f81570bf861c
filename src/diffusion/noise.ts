/**
 * The starting noise of a sampling run. With independent noise on every latent frame, each frame seeds its objects
 * in different places and a small model has to pull them into agreement through attention; a share of noise common
 * to all frames seeds them in the same place (the "mixed noise" of PYoCo). Sampling draws it for any model
 * (`noiseCorrelation` of a request); training draws it with `data.noiseCorrelation` of a run config.
 *
 *   eps[t] = sqrt(rho) * shared + sqrt(1 - rho) * own[t]
 *
 * Every entry stays N(0, 1), and any two latent frames correlate by rho.
 */
import { Tensor } from '../engine/index.js';
import type { Rng } from '../engine/index.js';
import { invalidArgument } from '../errors.js';

/** What a noise correlation must be; requests, run configs and model folders check against it. */
export const NOISE_CORRELATION_RANGE = 'a number from 0 up to (not including) 1';
export function isNoiseCorrelation(x: unknown): x is number {
  return typeof x === 'number' && x >= 0 && x < 1;
}

/**
 * Noise [B, C, T, H, W] whose latent frames correlate by `correlation` (0 = independent, below 1). At 0 it is
 * exactly Tensor.randn(shape, rng), so seeds reproduce the samples made before this option existed.
 */
export function temporallyCorrelatedNoise(shape: readonly number[], correlation: number, rng: Rng): Tensor {
  if (shape.length !== 5) throw invalidArgument('shape', `expected [B, C, T, H, W], got [${shape.join(', ')}]`);
  if (!isNoiseCorrelation(correlation)) throw invalidArgument('noise_correlation', `expected ${NOISE_CORRELATION_RANGE}, got ${correlation}`);
  const noise = Tensor.randn(shape, rng);
  if (correlation === 0) return noise;
  const [B, C, T, H, W] = shape as [number, number, number, number, number];
  const shared = Tensor.randn([B, C, 1, H, W], rng.fork('shared'));
  const a = Math.sqrt(correlation);
  const b = Math.sqrt(1 - correlation);
  const plane = H * W;
  for (let bc = 0; bc < B * C; bc++) {
    for (let t = 0; t < T; t++) {
      const at = (bc * T + t) * plane;
      for (let i = 0; i < plane; i++) noise.data[at + i] = a * shared.data[bc * plane + i]! + b * noise.data[at + i]!;
    }
  }
  return noise;
}

/**
 * Offset noise for training: adds to `noise` [B, C, T, H, W], in place, one N(0, std²) constant per sample and
 * channel, shared by every latent cell. Without it the mean of a nearly pure-noise latent still tells the DiT a
 * flat background's colour (at 128×128 the mean of 5,120 cells keeps it even at flow time 0.98), so the DiT learns to
 * read the colour from the noise rather than from the caption, and from the zero-mean noise sampling starts with it
 * draws the data's mean colour whatever the caption says. With an offset the noise's mean is no evidence, and the
 * caption is. At std 0 it draws nothing, so the random stream is the same as without it.
 */
export function addNoiseOffset(noise: Tensor, std: number, rng: Rng): Tensor {
  if (noise.shape.length !== 5) throw invalidArgument('shape', `expected [B, C, T, H, W], got [${noise.shape.join(', ')}]`);
  if (!(std >= 0)) throw invalidArgument('noise_offset', `expected a number of at least 0, got ${std}`);
  if (std === 0) return noise;
  const [B, C, T, H, W] = noise.shape as [number, number, number, number, number];
  const cells = T * H * W;
  for (let bc = 0; bc < B * C; bc++) {
    const offset = std * rng.normal();
    for (let i = bc * cells; i < (bc + 1) * cells; i++) noise.data[i] += offset;
  }
  return noise;
}
