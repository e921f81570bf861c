/**
 * Model folders laid out like diffusers:
 *
 *   my-model/
 *     model_index.json          {"_class_name": "TesseraPipeline", "vae": ["tessera", "CausalVideoVAE"], ...}
 *     vae/config.json           {"_class_name": "CausalVideoVAE", ...the component's config}
 *     vae/model.safetensors     weights (may be split over several *.safetensors files)
 *     transformer/ text_encoder/ tokenizer/ scheduler/ ...
 *
 * This file knows the layout and validates it; which class a component is and how it is built lives in
 * src/models/index.ts.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Tensor } from '../engine/index.js';
import { TesseraError } from '../errors.js';
import { readJsonFile, writeJsonFile } from './json.js';
import { readSafetensors, writeSafetensors, type StoredTensor, type TensorLike, type WritableDType } from './safetensors.js';

export const MODEL_INDEX_NAME = 'model_index.json';
export const CONFIG_NAME = 'config.json';
export const WEIGHTS_NAME = 'model.safetensors';
export const FORMAT_VERSION = '0.1.0';
const LIBRARY = 'tessera';

/** A component's config as stored: its class name plus the class's own fields. */
export type StoredConfig = { _class_name: string } & Record<string, unknown>;

/** What saving needs of a module: its named tensors. Module from src/nn fits. */
export interface HasStateDict {
  stateDict(): Map<string, TensorLike>;
}

/** What loading needs of a module. Module from src/nn fits. */
export interface LoadsStateDict {
  stateDict(): Map<string, { readonly shape: readonly number[] }>;
  loadStateDict(sd: Map<string, Tensor>, options?: { strict?: boolean }): void;
}

export interface SavePretrainedOptions {
  /** Class name written into config.json so a loader knows what to build. */
  className: string;
  /** Storage dtype of the weights (default F32). */
  dtype?: WritableDType;
}

export interface Pretrained {
  className: string;
  /** The config without bookkeeping fields (those starting with '_'). */
  config: Record<string, unknown>;
  stateDict: Map<string, StoredTensor>;
}

// ---- model_index.json --------------------------------------------------------------------------------------

export interface ModelIndex {
  /** The whole model's class, e.g. 'TesseraPipeline'. */
  className: string;
  /** Component folder name -> class name, e.g. { vae: 'CausalVideoVAE' }. */
  components: Record<string, string>;
}

export async function writeModelIndex(dir: string, index: ModelIndex): Promise<void> {
  const json: Record<string, unknown> = { _class_name: index.className, _tessera_version: FORMAT_VERSION };
  for (const [name, className] of Object.entries(index.components)) json[name] = [LIBRARY, className];
  await writeJsonFile(join(dir, MODEL_INDEX_NAME), json);
}

/** Reads model_index.json; a component is given as [library, className] (diffusers) or as a bare class name. */
export async function readModelIndex(dir: string): Promise<ModelIndex> {
  const path = join(dir, MODEL_INDEX_NAME);
  const json = await readJsonFile(path);
  const className = typeof json['_class_name'] === 'string' ? json['_class_name'] : 'TesseraPipeline';
  const components: Record<string, string> = {};
  for (const [name, value] of Object.entries(json)) {
    if (name.startsWith('_')) continue;
    if (typeof value === 'string') components[name] = value;
    else if (Array.isArray(value) && value.length === 2 && typeof value[1] === 'string') components[name] = value[1];
    else if (value === null || (Array.isArray(value) && value[1] === null)) continue; // diffusers: component absent
    else {
      throw new TesseraError('corrupt_file', `${path}: component '${name}' must be a class name or [library, className]`, { param: path });
    }
  }
  return { className, components };
}

// ---- one component -----------------------------------------------------------------------------------------

/** Writes `dir/config.json` and `dir/model.safetensors` (atomically, each). */
export async function savePretrained(
  module: HasStateDict,
  config: object,
  dir: string,
  { className, dtype = 'F32' }: SavePretrainedOptions,
): Promise<void> {
  await writeJsonFile(join(dir, CONFIG_NAME), { _class_name: className, _tessera_version: FORMAT_VERSION, ...config });
  await writeSafetensors(join(dir, WEIGHTS_NAME), module.stateDict(), {
    dtype,
    metadata: { format: LIBRARY, class: className },
  });
}

/** Reads a component's config (fields starting with '_' removed) and its class name. */
export async function readComponentConfig(dir: string): Promise<{ className: string; config: Record<string, unknown> }> {
  const path = join(dir, CONFIG_NAME);
  const json = await readJsonFile(path);
  const className = json['_class_name'];
  if (typeof className !== 'string') {
    throw new TesseraError('corrupt_file', `${path}: missing "_class_name" (the class this config builds)`, { param: path });
  }
  const config = Object.fromEntries(Object.entries(json).filter(([k]) => !k.startsWith('_')));
  return { className, config };
}

/** Reads every *.safetensors file of a component folder into one state dict. */
export async function readWeights(dir: string): Promise<Map<string, StoredTensor>> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.safetensors')).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new TesseraError('not_found', `${dir}: no such model folder`, { param: dir, cause: e });
    }
    throw new TesseraError('io_error', `${dir}: ${(e as Error).message}`, { param: dir, cause: e });
  }
  if (names.length === 0) {
    const path = join(dir, WEIGHTS_NAME);
    throw new TesseraError('not_found', `${path}: no such file (no *.safetensors weights in ${dir})`, { param: path });
  }
  const stateDict = new Map<string, StoredTensor>();
  const origin = new Map<string, string>();
  for (const name of names) {
    const path = join(dir, name);
    for (const [tensorName, tensor] of (await readSafetensors(path)).tensors) {
      const first = origin.get(tensorName);
      if (first !== undefined) {
        throw new TesseraError('corrupt_file', `${path}: tensor '${tensorName}' is also in ${first}`, { param: path });
      }
      origin.set(tensorName, path);
      stateDict.set(tensorName, tensor);
    }
  }
  return stateDict;
}

/** Reads a component folder: config.json and its weights. */
export async function loadPretrained(dir: string): Promise<Pretrained> {
  const { className, config } = await readComponentConfig(dir);
  return { className, config, stateDict: await readWeights(dir) };
}

// ---- matching weights to a module --------------------------------------------------------------------------

function shapeString(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

function listNames(names: string[]): string {
  const shown = names.slice(0, 6).map((n) => `'${n}'`).join(', ');
  return names.length > 6 ? `${shown} and ${names.length - 6} more` : shown;
}

/**
 * Checks that stored tensors match what a module expects: no missing or unexpected names, equal shapes.
 * `source` (the folder or file) starts every message, so a user knows which download is broken.
 */
export function checkStateDict(
  expected: Map<string, { readonly shape: readonly number[] }>,
  stored: Map<string, { readonly shape: readonly number[] }>,
  source: string,
): void {
  const missing = [...expected.keys()].filter((k) => !stored.has(k));
  if (missing.length > 0) {
    throw new TesseraError('corrupt_file', `${source}: missing tensors ${listNames(missing)}`, { param: source });
  }
  const unexpected = [...stored.keys()].filter((k) => !expected.has(k));
  if (unexpected.length > 0) {
    throw new TesseraError('corrupt_file', `${source}: unexpected tensors ${listNames(unexpected)}`, { param: source });
  }
  for (const [name, want] of expected) {
    const got = stored.get(name)!;
    if (got.shape.length !== want.shape.length || got.shape.some((d, i) => d !== want.shape[i])) {
      throw new TesseraError(
        'shape_mismatch',
        `${source}: tensor '${name}' has shape ${shapeString(got.shape)}, the model expects ${shapeString(want.shape)}`,
        { param: name },
      );
    }
  }
}

/** Validates then copies stored weights into a module (through its own loadStateDict). */
export function loadWeightsInto(module: LoadsStateDict, stored: Map<string, StoredTensor>, source: string): void {
  checkStateDict(module.stateDict(), stored, source);
  const tensors = new Map<string, Tensor>();
  for (const [name, t] of stored) tensors.set(name, Tensor.from(t.data, t.shape));
  module.loadStateDict(tensors, { strict: true });
}
