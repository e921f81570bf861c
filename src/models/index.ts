/**
 * Whole model folders: loadModel(dir) builds every component listed in model_index.json from its subfolder,
 * saveModel(dir, parts) writes them. Component folder names follow diffusers: vae, transformer, text_encoder,
 * tokenizer, scheduler.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { TesseraError } from '../errors.js';
import { readModelIndex, writeModelIndex } from '../formats/model-folder.js';
import { readJsonFile } from '../formats/json.js';
import { isNoiseCorrelation, NOISE_CORRELATION_RANGE } from '../diffusion/noise.js';
import type { WritableDType } from '../formats/safetensors.js';
import { DiT } from './dit/index.js';
import { componentLoader, registerComponent } from './registry.js';
import { TextEncoder } from './text/encoder.js';
import { WordLevelTokenizer } from './text/tokenizer.js';
import { CausalVideoVAE } from './vae/vae.js';

export { registerComponent, registeredComponents } from './registry.js';
export type { ComponentLoader } from './registry.js';

registerComponent(CausalVideoVAE.className, (dir) => CausalVideoVAE.fromPretrained(dir));
registerComponent(TextEncoder.className, (dir) => TextEncoder.fromPretrained(dir));
registerComponent(WordLevelTokenizer.className, (dir) => WordLevelTokenizer.fromPretrained(dir));
registerComponent(DiT.className, (dir) => DiT.fromPretrained(dir));

/**
 * The scheduler folder holds only a config (the sampling-time shift of the rectified-flow schedule and the
 * correlation of the starting noise across latent frames the model was trained with); it is
 * registered here so that loadModel accepts every folder of a pipeline.
 */
export const SCHEDULER_CLASS_NAME = 'FlowMatchScheduler';
export interface SchedulerConfig {
  /** Token count at which the resolution shift is 1. */
  shiftBaseTokens: number;
  maxShift: number;
  /** Correlation of the noise across latent frames (diffusion/noise.ts); absent = 0, independent noise. */
  noiseCorrelation?: number;
}
registerComponent(SCHEDULER_CLASS_NAME, async (dir) => {
  const json = await readJsonFile(join(dir, 'config.json'));
  const rho = json.noiseCorrelation;
  if (rho !== undefined && !isNoiseCorrelation(rho)) {
    const file = join(dir, 'config.json');
    throw new TesseraError('corrupt_file', `${file}: noiseCorrelation: expected ${NOISE_CORRELATION_RANGE}, got ${JSON.stringify(rho)}`, { param: 'noiseCorrelation' });
  }
  return {
    shiftBaseTokens: typeof json.shiftBaseTokens === 'number' ? json.shiftBaseTokens : 256,
    maxShift: typeof json.maxShift === 'number' ? json.maxShift : 6,
    ...(rho ? { noiseCorrelation: rho } : {}),
  } satisfies SchedulerConfig;
});

export const MODEL_CLASS_NAME = 'TesseraPipeline';

export interface LoadedModel {
  dir: string;
  className: string;
  /** Every component by folder name, including ones registered by other layers (e.g. the scheduler). */
  components: Map<string, unknown>;
  vae?: CausalVideoVAE;
  transformer?: DiT;
  textEncoder?: TextEncoder;
  tokenizer?: WordLevelTokenizer;
}

/** A component that can write itself into a folder; its class has a static `className`. */
export interface SavableComponent {
  savePretrained(dir: string, options?: { dtype?: WritableDType }): Promise<void>;
}

/** The class each conventional folder must hold, so a swapped folder fails at load, not at first use. */
const EXPECTED: Record<string, { type: abstract new (...args: never[]) => unknown; field: keyof LoadedModel }> = {
  vae: { type: CausalVideoVAE, field: 'vae' },
  transformer: { type: DiT, field: 'transformer' },
  text_encoder: { type: TextEncoder, field: 'textEncoder' },
  tokenizer: { type: WordLevelTokenizer, field: 'tokenizer' },
};

export interface LoadModelOptions {
  /** Load only these components (default: all in model_index.json). */
  only?: readonly string[];
}

export async function loadModel(dir: string, { only }: LoadModelOptions = {}): Promise<LoadedModel> {
  const index = await readModelIndex(dir);
  const model: LoadedModel = { dir, className: index.className, components: new Map() };
  for (const name of only ?? []) {
    if (!(name in index.components)) {
      throw new TesseraError('not_found', `${join(dir, 'model_index.json')}: no component '${name}'`, { param: name });
    }
  }
  for (const [name, className] of Object.entries(index.components)) {
    if (only && !only.includes(name)) continue;
    const folder = join(dir, name);
    const component = await componentLoader(className, folder)(folder);
    model.components.set(name, component);
    const expected = EXPECTED[name];
    if (expected) {
      if (!(component instanceof expected.type)) {
        throw new TesseraError('corrupt_file', `${folder}: class '${className}' cannot serve as '${name}'`, { param: folder });
      }
      (model as unknown as Record<string, unknown>)[expected.field] = component;
    }
  }
  checkTextPair(model);
  return model;
}

/** A VAE from a model folder (its vae/) or from a VAE folder of its own (config.json + model.safetensors). */
export async function loadVae(path: string): Promise<CausalVideoVAE> {
  return CausalVideoVAE.fromPretrained(existsSync(join(path, 'model_index.json')) ? join(path, 'vae') : path);
}

/** The tokenizer and the text encoder must agree on the vocabulary and the sequence length. */
function checkTextPair({ dir, tokenizer, textEncoder }: LoadedModel): void {
  if (!tokenizer || !textEncoder) return;
  const c = textEncoder.config;
  if (tokenizer.vocabSize !== c.vocabSize || tokenizer.maxLength > c.maxLength) {
    throw new TesseraError(
      'corrupt_file',
      `${dir}: tokenizer has ${tokenizer.vocabSize} words and maxLength ${tokenizer.maxLength}, ` +
        `text_encoder expects ${c.vocabSize} words and maxLength <= ${c.maxLength}`,
      { param: dir },
    );
  }
}

export interface SaveModelOptions {
  dtype?: WritableDType;
  className?: string;
}

/**
 * Writes each component into `dir/<name>/`, then model_index.json last: a folder with an index is complete.
 * A component's class name comes from its class's static `className`.
 */
export async function saveModel(
  dir: string,
  components: Record<string, SavableComponent>,
  { dtype = 'F32', className = MODEL_CLASS_NAME }: SaveModelOptions = {},
): Promise<void> {
  const classes: Record<string, string> = {};
  for (const [name, component] of Object.entries(components)) {
    const componentClass = (component.constructor as { className?: unknown }).className;
    if (typeof componentClass !== 'string') {
      throw new TesseraError('invalid_argument', `component '${name}': its class has no static className`, { param: name });
    }
    await component.savePretrained(join(dir, name), { dtype });
    classes[name] = componentClass;
  }
  await writeModelIndex(dir, { className, components: classes });
}
