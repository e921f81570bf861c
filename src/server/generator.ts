/**
 * Generators by module URL. Workers run in child processes or on other machines, so they receive a
 * GeneratorSource (module URL + model folder) and load the generator themselves. This module is also the
 * default source: it wraps the real pipeline (src/pipelines) for a model folder.
 */
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { TesseraError } from '../errors.js';
import type { GenerationOptions, GenerationRequest, GenerationResult } from '../pipelines/types.js';
import type { GeneratorCapabilities, GeneratorSource, VideoGenerator } from './types.js';

/** The package root: two levels above this file, both from src/server/ (tsx) and from dist/server/ (built). */
const PACKAGE_ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))));

/** The bundled model. */
export const DEFAULT_MODEL_DIR = join(PACKAGE_ROOT, 'models', 'tessera-world');

/** Source of the real pipeline for a model folder. */
export function pipelineSource(modelDir = DEFAULT_MODEL_DIR): GeneratorSource {
  return { moduleUrl: import.meta.url, modelDir };
}

/** Loads the generator a source names; the module must export `createGenerator(modelDir)`. */
export async function loadGenerator(source: GeneratorSource): Promise<VideoGenerator> {
  const mod = (await import(source.moduleUrl)) as { createGenerator?: (modelDir: string) => Promise<VideoGenerator> };
  if (typeof mod.createGenerator !== 'function') {
    throw new TesseraError('invalid_argument', `${source.moduleUrl} does not export createGenerator(modelDir)`, { param: 'generator' });
  }
  return mod.createGenerator(source.modelDir);
}

/** Only what the API validates against; the server process never keeps the weights. */
export function capabilitiesOf(g: VideoGenerator): GeneratorCapabilities {
  const { model, sizes, maxFrames, defaultFps, defaultSteps, defaultGuidance } = g;
  return { model, sizes, maxFrames, defaultFps, defaultSteps, defaultGuidance };
}

export function moduleUrlOf(path: string): string {
  return pathToFileURL(path).href;
}

/** What src/pipelines/index.ts exports (declared here until it lands, so this file typechecks without it). */
interface Pipeline {
  generate(req: GenerationRequest, opts?: GenerationOptions): Promise<GenerationResult>;
  nativeSizes: { width: number; height: number }[];
  maxFrames: number;
  defaults?: { fps?: number; steps?: number; guidanceScale?: number };
}

/** The real pipeline as a VideoGenerator. */
export async function createGenerator(modelDir: string): Promise<VideoGenerator> {
  const pipelinesModule = '../pipelines/index.js';
  const { loadPipeline } = (await import(pipelinesModule)) as { loadPipeline: (dir: string) => Promise<Pipeline> };
  const pipeline = await loadPipeline(modelDir);
  return {
    model: basename(modelDir),
    sizes: pipeline.nativeSizes,
    maxFrames: pipeline.maxFrames,
    defaultFps: pipeline.defaults?.fps ?? 8,
    defaultSteps: pipeline.defaults?.steps ?? 20,
    defaultGuidance: pipeline.defaults?.guidanceScale ?? 5,
    generate: (req, opts) => pipeline.generate(req, opts),
  };
}
