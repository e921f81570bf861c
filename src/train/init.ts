/**
 * A fresh, randomly initialised pipeline folder: tokenizer built from the world's vocabulary, text encoder, DiT
 * and VAE from configs. Training starts from one; tests use tiny ones.
 */
import { Rng } from '../engine/index.js';
import { CausalVideoVAE, type VaeConfig } from '../models/vae/index.js';
import { DiT, type DiTConfig } from '../models/dit/index.js';
import { TextEncoder, type TextEncoderConfig } from '../models/text/encoder.js';
import { buildWordLevelTokenizer } from '../models/text/tokenizer.js';
import { worldVocabulary } from '../world/index.js';
import { savePipelineFolder, type StoredCapabilities } from '../pipelines/folder.js';
import type { SchedulerConfig } from '../pipelines/index.js';
import type { WritableDType } from '../formats/safetensors.js';

export interface ModelPreset {
  vae: Partial<VaeConfig>;
  transformer: Partial<DiTConfig>;
  textEncoder: Partial<Omit<TextEncoderConfig, 'vocabSize'>>;
  tokenizerMaxLength: number;
  capabilities: StoredCapabilities;
  scheduler: SchedulerConfig;
}

/** Small enough for unit tests to sample a clip in well under a second. */
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

export interface BuiltModel {
  vae: CausalVideoVAE;
  transformer: DiT;
  textEncoder: TextEncoder;
  tokenizer: ReturnType<typeof buildWordLevelTokenizer>;
}

export function buildRandomModel(preset: ModelPreset, seed = 0): BuiltModel {
  const rng = new Rng(seed);
  const tokenizer = buildWordLevelTokenizer(worldVocabulary(), { maxLength: preset.tokenizerMaxLength });
  const textEncoder = new TextEncoder({ ...preset.textEncoder, vocabSize: tokenizer.vocabSize, maxLength: preset.tokenizerMaxLength }, rng.fork('text_encoder'));
  const transformer = new DiT(preset.transformer, rng.fork('transformer'));
  const vae = new CausalVideoVAE(preset.vae, rng.fork('vae'));
  return { vae, transformer, textEncoder, tokenizer };
}

export async function saveBuiltModel(dir: string, model: BuiltModel, preset: Pick<ModelPreset, 'capabilities' | 'scheduler'>, dtype: WritableDType = 'F32'): Promise<void> {
  await savePipelineFolder(
    dir,
    { vae: model.vae, transformer: model.transformer, text_encoder: model.textEncoder, tokenizer: model.tokenizer },
    preset.capabilities,
    preset.scheduler,
    { dtype },
  );
}

/** Writes a randomly initialised pipeline folder. */
export async function createRandomModel(dir: string, preset: ModelPreset = TINY_PRESET, seed = 0): Promise<void> {
  await saveBuiltModel(dir, buildRandomModel(preset, seed), preset);
}
