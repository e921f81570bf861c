/**
 * Writing a complete pipeline folder: every component in its diffusers-style subfolder, the scheduler config, and
 * model_index.json last (with Tessera's capabilities under "_tessera"), so a folder with an index is complete.
 */
import { join } from 'node:path';
import { readJsonFile, writeJsonFile } from '../formats/index.js';
import type { WritableDType } from '../formats/safetensors.js';
import { saveModel, type SavableComponent } from '../models/index.js';
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
