/**
 * A fresh, randomly initialised pipeline folder: tokenizer built from the world's vocabulary, text encoder, DiT
 * and VAE from configs. Training starts from one; tests use tiny ones.
 */
import { Rng } from '../engine/index.js';
import { CausalVideoVAE } from '../models/vae/index.js';
import { DiT, type DiTConfig } from '../models/dit/index.js';
import { TextEncoder } from '../models/text/encoder.js';
import { buildWordLevelTokenizer } from '../models/text/tokenizer.js';
import { worldVocabulary } from '../world/index.js';
import { savePipelineFolder } from '../pipelines/folder.js';
import type { WritableDType } from '../formats/safetensors.js';
import { TINY_PRESET, type ModelPreset } from './presets.js';

export { TINY_PRESET, WORLD_PRESET, PRESETS, type ModelPreset } from './presets.js';

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

/**
 * The transformer re-shaped for its VAE and for a run's architecture overrides (a retrained VAE with another
 * latent width, another patch size, more blocks): every tensor whose name and shape still fit is kept, the rest
 * (typically the patch embedding in and the projection out) start fresh. Returns the names of the fresh ones.
 */
export function adaptTransformer(model: BuiltModel, overrides: Partial<DiTConfig> = {}, seed = 0): string[] {
  const current = model.transformer.config;
  const wanted: DiTConfig = { ...current, ...overrides, latentChannels: model.vae.config.latentChannels };
  if (JSON.stringify(wanted) === JSON.stringify(current)) return [];
  const adapted = new DiT(wanted, new Rng(seed).fork('transformer.adapt'));
  const old = model.transformer.stateDict();
  const fresh: string[] = [];
  for (const [name, target] of adapted.stateDict()) {
    const source = old.get(name);
    if (source && source.shape.length === target.shape.length && source.shape.every((d, i) => d === target.shape[i])) target.data.set(source.data);
    else fresh.push(name);
  }
  model.transformer = adapted;
  return fresh;
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
