/**
 * Writing a complete pipeline folder: every component in its diffusers-style subfolder, the scheduler config, and
 * model_index.json last (with Tessera's capabilities under "_tessera"), so a folder with an index is complete.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { TesseraError } from '../errors.js';
import { readJsonFile, writeJsonFile } from '../formats/index.js';
import type { WritableDType } from '../formats/safetensors.js';
import { loadModel, saveModel, type SavableComponent } from '../models/index.js';
import type { ModelCapabilities } from './request.js';
import { SCHEDULER_CLASS_NAME, type SchedulerConfig } from './index.js';

export interface PipelineFolderParts {
  vae: SavableComponent;
  transformer: SavableComponent;
  text_encoder: SavableComponent;
  tokenizer: SavableComponent;
}

/** What model_index.json states about the model beyond its components. */
export type StoredCapabilities = Omit<ModelCapabilities, 'temporalCompression' | 'sizeMultiple'> & { training?: Record<string, unknown> };

export async function savePipelineFolder(
  dir: string, parts: PipelineFolderParts, capabilities: StoredCapabilities, scheduler: SchedulerConfig,
  { dtype = 'F16' }: { dtype?: WritableDType } = {},
): Promise<void> {
  await writeJsonFile(join(dir, 'scheduler', 'config.json'), { _class_name: SCHEDULER_CLASS_NAME, ...scheduler });
  // saveModel writes model_index.json last; the scheduler is a config-only component added to it afterwards
  await saveModel(dir, { ...parts }, { dtype });
  const index = await readJsonFile(join(dir, 'model_index.json'));
  await writeJsonFile(join(dir, 'model_index.json'), { ...index, scheduler: ['tessera', SCHEDULER_CLASS_NAME], _tessera: capabilities });
}

/** Loads a pipeline folder and writes it again at `dtype`; returns the bytes of weights written. */
export async function exportModelFolder(from: string, to: string, dtype: WritableDType): Promise<number> {
  const model = await loadModel(from);
  const { vae, transformer, textEncoder, tokenizer } = model;
  if (!vae || !transformer || !textEncoder || !tokenizer) {
    throw new TesseraError('corrupt_file', `${from}: a pipeline folder needs vae, transformer, text_encoder and tokenizer`, { param: 'from' });
  }
  const index = await readJsonFile(join(from, 'model_index.json'));
  const scheduler = (model.components.get('scheduler') as SchedulerConfig | undefined) ?? { shiftBaseTokens: 256, maxShift: 6 };
  await savePipelineFolder(to, { vae, transformer, text_encoder: textEncoder, tokenizer }, index['_tessera'] as StoredCapabilities, scheduler, { dtype });
  let bytes = 0;
  for (const part of ['vae', 'transformer', 'text_encoder']) bytes += statSync(join(to, part, 'model.safetensors')).size;
  return bytes;
}
