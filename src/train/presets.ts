/**
 * Model architectures by name. 'world' is the bundled model's: sized so that it trains on this 2-core CPU
 * in hours, not weeks. 'tiny' makes unit tests fast.
 */
import type { VaeConfig } from '../models/vae/index.js';
import type { DiTConfig } from '../models/dit/index.js';
import type { TextEncoderConfig } from '../models/text/encoder.js';
import type { StoredCapabilities } from '../pipelines/folder.js';
import type { SchedulerConfig } from '../pipelines/index.js';
import { invalidArgument } from '../errors.js';

export interface ModelPreset {
  vae: Partial<VaeConfig>;
  transformer: Partial<DiTConfig>;
  textEncoder: Partial<Omit<TextEncoderConfig, 'vocabSize'>>;
  tokenizerMaxLength: number;
  capabilities: StoredCapabilities;
  scheduler: SchedulerConfig;
}

export const TINY_PRESET: ModelPreset = {
  vae: { channels: [8, 8, 16], groups: 4, latentChannels: 4 },
  transformer: { latentChannels: 4, hiddenSize: 32, depth: 1, numHeads: 2, textDim: 32, timestepFeatures: 32 },
  textEncoder: { width: 32, layers: 1, heads: 2, maxLength: 32 },
  tokenizerMaxLength: 32,
  capabilities: {
    nativeSizes: [{ width: 32, height: 32 }],
    minSide: 16,
    maxSide: 256,
    maxFrames: 9,
    defaults: { width: 32, height: 32, frames: 9, fps: 8, steps: 4, guidanceScale: 3 },
  },
  scheduler: { shiftBaseTokens: 64, maxShift: 4 },
};

export const WORLD_PRESET: ModelPreset = {
  // 4x space, 4x time, 4 latent channels, with pooling shortcuts; a 1x4x4 token (16x16 pixels) is 64 numbers
  vae: { latentChannels: 4, downsample: ['time', 'time'], shortcuts: true },
  transformer: { latentChannels: 4, patchSize: [1, 4, 4], hiddenSize: 256, depth: 6, numHeads: 4, mlpRatio: 4, textDim: 128, timestepFeatures: 256 },
  textEncoder: { width: 128, layers: 2, heads: 4, maxLength: 64 },
  tokenizerMaxLength: 64,
  capabilities: {
    nativeSizes: [{ width: 128, height: 128 }, { width: 64, height: 64 }],
    minSide: 32,
    maxSide: 256,
    maxFrames: 17,
    defaults: { width: 128, height: 128, frames: 17, fps: 8, steps: 25, guidanceScale: 4 },
  },
  scheduler: { shiftBaseTokens: 80, maxShift: 4 },
};

export const PRESETS: Record<string, ModelPreset> = { world: WORLD_PRESET, tiny: TINY_PRESET };

/**
 * The preset with a run config's architecture overrides applied. The transformer always takes its latent
 * channels from the VAE, so widening the latent is one field.
 */
export function resolvePreset(name: string, overrides: { vae?: object; transformer?: object; textEncoder?: object } = {}): ModelPreset {
  const base = presetByName(name);
  const vae = { ...base.vae, ...overrides.vae } as Partial<VaeConfig>;
  const transformer = { ...base.transformer, ...overrides.transformer } as Partial<DiTConfig>;
  if (vae.latentChannels !== undefined && (overrides.transformer as Partial<DiTConfig> | undefined)?.latentChannels === undefined) {
    transformer.latentChannels = vae.latentChannels;
  }
  return { ...base, vae, transformer, textEncoder: { ...base.textEncoder, ...overrides.textEncoder } };
}

export function presetByName(name: string): ModelPreset {
  const p = PRESETS[name];
  if (!p) throw invalidArgument('preset', `expected one of ${Object.keys(PRESETS).join(', ')}, got ${JSON.stringify(name)}`);
  return p;
}
