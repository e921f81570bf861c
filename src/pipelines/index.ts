/**
 * Loading a model folder into a ready pipeline. `loadPipeline()` with no argument uses the bundled model
 * (models/tessera-world, or TESSERA_MODEL); pipelines are cached per folder so the CLI and a server worker load
 * weights once.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { defaultModelDir } from '../paths.js';
import { TesseraError } from '../errors.js';
import { readJsonFile } from '../formats/index.js';
import { loadModel, type SchedulerConfig } from '../models/index.js';
import type { CausalVideoVAE } from '../models/vae/vae.js';

export { SCHEDULER_CLASS_NAME, type SchedulerConfig } from '../models/index.js';
import { expandPrompt, expandPromptWithLlm } from '../world/expand.js';
import { TesseraPipeline, type PipelineParts, type PromptExpander } from './pipeline.js';
import { checkGuidanceInterval, type ModelCapabilities } from './request.js';

export { TesseraPipeline } from './pipeline.js';
export type { PipelineParts, PromptExpander, TextConditioner } from './pipeline.js';
export type { ModelCapabilities, SamplingPlan } from './request.js';
export { planSampling, alignFrames, samplingSize } from './request.js';
export * from './modes.js';
export type * from './types.js';


export { packageRoot, defaultModelDir } from '../paths.js';

const builtinExpander: PromptExpander = async (prompt, { seed, mode, signal }) => {
  const opts = { seed };
  if (mode === 'llm') return (await expandPromptWithLlm(prompt, { ...opts, llm: signal ? { fetch: (u, i) => fetch(u, { ...i, signal }) } : undefined })).caption;
  return expandPrompt(prompt, opts).caption;
};

const cache = new Map<string, Promise<TesseraPipeline>>();

export function loadPipeline(modelDir?: string): Promise<TesseraPipeline> {
  const dir = resolve(modelDir ?? defaultModelDir());
  let p = cache.get(dir);
  if (!p) {
    p = buildPipeline(dir);
    p.catch(() => cache.delete(dir));
    cache.set(dir, p);
  }
  return p;
}

async function buildPipeline(dir: string): Promise<TesseraPipeline> {
  if (!existsSync(join(dir, 'model_index.json'))) {
    throw new TesseraError('not_found', `no model at ${dir} (expected ${join(dir, 'model_index.json')})`, { param: 'model' });
  }
  const model = await loadModel(dir);
  const { vae, transformer, textEncoder, tokenizer } = model;
  if (!vae || !transformer || !textEncoder || !tokenizer) {
    throw new TesseraError('corrupt_file', `${dir}: a pipeline needs vae, transformer, text_encoder and tokenizer components`, { param: 'model' });
  }
  vae.train(false);
  transformer.train(false);
  textEncoder.train(false);
  const index = await readJsonFile(join(dir, 'model_index.json'));
  const capabilities = readCapabilities(index['_tessera'], dir, vae.temporalFactor, vae.spatialFactor * transformer.config.patchSize[1]);
  const scheduler = (model.components.get('scheduler') as SchedulerConfig | undefined) ?? { shiftBaseTokens: 256, maxShift: 6 };
  const parts: PipelineParts = {
    vae,
    transformer,
    text: { encode: (texts) => textEncoder.encodePrompts(tokenizer, texts) },
    expandPrompt: builtinExpander,
    capabilities,
    scheduler,
  };
  return new TesseraPipeline(parts);
}

/** The defaults (size, frames, fps, steps, guidance) a model folder's pipeline would use, read without loading its DiT. */
export async function readModelDefaults(dir: string, vae: CausalVideoVAE): Promise<ModelCapabilities['defaults']> {
  const index = await readJsonFile(join(dir, 'model_index.json'));
  return readCapabilities(index['_tessera'], dir, vae.temporalFactor, vae.spatialFactor).defaults;
}

function modelGuidanceInterval(v: unknown, dir: string): [number, number] {
  try {
    return checkGuidanceInterval(v, 'defaults.guidanceInterval');
  } catch (e) {
    throw new TesseraError('corrupt_file', `${dir}/model_index.json: _tessera.${(e as Error).message}`, { param: 'model' });
  }
}

function readCapabilities(raw: unknown, dir: string, temporalCompression: number, sizeMultiple: number): ModelCapabilities {
  const r = (raw ?? {}) as Partial<ModelCapabilities>;
  const nativeSizes = Array.isArray(r.nativeSizes) && r.nativeSizes.length > 0 ? r.nativeSizes : [{ width: 128, height: 128 }];
  const first = nativeSizes[0]!;
  const d = (r.defaults ?? {}) as Partial<ModelCapabilities['defaults']>;
  const maxFrames = typeof r.maxFrames === 'number' ? r.maxFrames : 17;
  if ((maxFrames - 1) % temporalCompression !== 0) {
    throw new TesseraError('corrupt_file', `${dir}/model_index.json: maxFrames ${maxFrames} is not 1 + ${temporalCompression}k`, { param: 'model' });
  }
  return {
    nativeSizes,
    minSide: r.minSide ?? 32,
    maxSide: r.maxSide ?? 256,
    maxFrames,
    temporalCompression,
    sizeMultiple: Math.max(16, sizeMultiple),
    defaults: {
      width: d.width ?? first.width,
      height: d.height ?? first.height,
      frames: d.frames ?? maxFrames,
      fps: d.fps ?? 8,
      steps: d.steps ?? 25,
      guidanceScale: d.guidanceScale ?? 4,
      ...(d.guidanceInterval === undefined ? {} : { guidanceInterval: modelGuidanceInterval(d.guidanceInterval, dir) }),
    },
  };
}
