/**
 * Generators by module URL. Workers run in child processes or on other machines, so they receive a
 * GeneratorSource (module URL + model folder) and load the generator themselves. This module is also the
 * default source: it wraps the real pipeline (src/pipelines) for a model folder.
 */
import { basename } from 'node:path';
import { defaultModelDir } from '../paths.js';
import { TesseraError } from '../errors.js';
import { MAX_OUTPUT_FRAMES } from '../pipelines/request.js';
import type { GeneratorCapabilities, GeneratorSource, VideoGenerator } from './types.js';

/** Source of the real pipeline for a model folder (default: the bundled model, or $TESSERA_MODEL). */
export function pipelineSource(modelDir = defaultModelDir()): GeneratorSource {
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

/** The real pipeline as a VideoGenerator. Long clips are sampled in several passes by the pipeline itself. */
export async function createGenerator(modelDir: string): Promise<VideoGenerator> {
  const { loadPipeline } = await import('../pipelines/index.js');
  const pipeline = await loadPipeline(modelDir);
  const { defaults } = pipeline.capabilities;
  return {
    model: basename(modelDir),
    sizes: pipeline.nativeSizes,
    maxFrames: MAX_OUTPUT_FRAMES,
    defaultFps: defaults.fps,
    defaultSteps: defaults.steps,
    defaultGuidance: defaults.guidanceScale,
    generate: (req, opts) => pipeline.generate(req, opts),
  };
}
