import { invalidArgument } from '../../errors.js';

/** What a transition between two levels halves: height and width, time, or all three. */
export type Resample = 'space' | 'time' | 'spacetime';

/**
 * Shape of the causal video VAE. Spatial compression is patchSize * 2^(transitions that halve space)
 * (space-to-depth first, then strided convs); temporal compression is 2^(transitions that halve time).
 */
export interface VaeConfig {
  /** Pixel channels (3 for RGB). */
  inChannels: number;
  /** Channels of the latent (8-16). */
  latentChannels: number;
  /** Space-to-depth factor applied to pixels before the first conv: full resolution is never convolved. */
  patchSize: number;
  /** Feature channels per level, from the finest to the coarsest. */
  channels: number[];
  /** For each transition between levels (channels.length - 1 of them), what it halves. */
  downsample: Resample[];
  /** Residual blocks per level. */
  layersPerLevel: number;
  /**
   * Parameter-free shortcuts around every conv that changes resolution or width (space-to-depth plus channel
   * averaging down, channel copies plus nearest-neighbour up), so the network starts as a pooling autoencoder
   * and learns the residual. Off in the first models.
   */
  shortcuts: boolean;
  /** GroupNorm groups; must divide every entry of `channels`. */
  groups: number;
  /** Latents handed to the diffusion model are (z - shiftFactor) * scalingFactor, to be near unit variance. */
  scalingFactor: number;
  shiftFactor: number;
}

/**
 * The default compresses 8x in space and 4x in time into 8 channels. It is sized for CPU: pixels are packed
 * 4x4 into channels first, so the finest level of a 128x128 clip is 32x32 with 32 channels (few-channel convs at
 * full resolution are the slowest per FLOP), and the wider levels run at the latent resolution.
 */
export const DEFAULT_VAE_CONFIG: Readonly<VaeConfig> = Object.freeze({
  inChannels: 3,
  latentChannels: 8,
  patchSize: 4,
  channels: [32, 48, 64],
  downsample: ['spacetime', 'time'] as Resample[],
  layersPerLevel: 1,
  shortcuts: false,
  groups: 8,
  scalingFactor: 1,
  shiftFactor: 0,
});

/** A full config from a partial one; every field is checked and a bad one is named. */
export function resolveVaeConfig(partial: Partial<VaeConfig> = {}): VaeConfig {
  const c: VaeConfig = {
    ...DEFAULT_VAE_CONFIG,
    channels: [...DEFAULT_VAE_CONFIG.channels],
    downsample: [...DEFAULT_VAE_CONFIG.downsample],
    ...partial,
  };
  const positive = (name: keyof VaeConfig, v: unknown) => {
    if (!Number.isInteger(v) || (v as number) <= 0) throw invalidArgument(`vae.${name}`, `expected a positive integer, got ${JSON.stringify(v)}`);
  };
  positive('inChannels', c.inChannels);
  positive('latentChannels', c.latentChannels);
  positive('patchSize', c.patchSize);
  positive('layersPerLevel', c.layersPerLevel);
  positive('groups', c.groups);
  if (!Array.isArray(c.channels) || c.channels.length === 0) {
    throw invalidArgument('vae.channels', `expected a non-empty list of channel counts, got ${JSON.stringify(c.channels)}`);
  }
  for (const ch of c.channels) {
    positive('channels', ch);
    if (ch % c.groups !== 0) throw invalidArgument('vae.channels', `${ch} is not divisible by groups=${c.groups}`);
  }
  if (
    !Array.isArray(c.downsample) || c.downsample.length !== c.channels.length - 1 ||
    !c.downsample.every((v) => v === 'space' || v === 'time' || v === 'spacetime')
  ) {
    throw invalidArgument(
      'vae.downsample',
      `expected ${c.channels.length - 1} of 'space', 'time', 'spacetime' (one per level transition), got ${JSON.stringify(c.downsample)}`,
    );
  }
  if (typeof c.shortcuts !== 'boolean') throw invalidArgument('vae.shortcuts', `expected true or false, got ${JSON.stringify(c.shortcuts)}`);
  for (const name of ['scalingFactor', 'shiftFactor'] as const) {
    if (typeof c[name] !== 'number' || !Number.isFinite(c[name])) throw invalidArgument(`vae.${name}`, `expected a finite number, got ${JSON.stringify(c[name])}`);
  }
  if (c.scalingFactor === 0) throw invalidArgument('vae.scalingFactor', 'must not be 0');
  return c;
}

/** Pixels per latent cell along height and width. */
export function spatialFactor(c: VaeConfig): number {
  return c.patchSize * 2 ** c.downsample.filter(halvesSpace).length;
}

/** Frames per latent frame after the first (which stands alone): T = 1 + factor * (T' - 1). */
export function temporalFactor(c: VaeConfig): number {
  return 2 ** c.downsample.filter(halvesTime).length;
}

export function halvesSpace(r: Resample): boolean {
  return r !== 'time';
}

export function halvesTime(r: Resample): boolean {
  return r !== 'space';
}

/** Latent (frames, height, width) for a clip; throws naming the dimension that does not fit. */
export function latentShape(c: VaeConfig, frames: number, height: number, width: number): [number, number, number] {
  const s = spatialFactor(c);
  const t = temporalFactor(c);
  if (!Number.isInteger(frames) || frames < 1 || (frames - 1) % t !== 0) {
    throw invalidArgument('frames', `expected 1 + ${t}k frames (1, ${1 + t}, ${1 + 2 * t}, ...), got ${frames}`);
  }
  if (!Number.isInteger(height) || height < s || height % s !== 0) throw invalidArgument('height', `expected a multiple of ${s}, got ${height}`);
  if (!Number.isInteger(width) || width < s || width % s !== 0) throw invalidArgument('width', `expected a multiple of ${s}, got ${width}`);
  return [1 + (frames - 1) / t, height / s, width / s];
}

/** Pixel (frames, height, width) decoded from a latent of the given size. */
export function pixelShape(c: VaeConfig, latentFrames: number, latentHeight: number, latentWidth: number): [number, number, number] {
  const s = spatialFactor(c);
  return [1 + (latentFrames - 1) * temporalFactor(c), latentHeight * s, latentWidth * s];
}
