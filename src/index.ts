/**
 * Tessera's library entry point: `import { loadPipeline, imageToVideo, readImage, writeVideo } from 'tessera'`.
 * Deeper layers (engine, nn, models, diffusion, train) are importable from their folders under dist/.
 */
export * from './errors.js';
export * from './progress.js';
export { defaultModelDir } from './paths.js';
export {
  loadPipeline, TesseraPipeline, planSampling, alignFrames, samplingSize,
  imageToVideo, extendForward, extendBackward, loopConditions, connectConditions, keyframeConditions, sliceFrames, concatFrames,
} from './pipelines/index.js';
export type {
  GenerationRequest, GenerationResult, GenerationOptions, FrameCondition, SamplerName, StepInfo, ModelCapabilities,
} from './pipelines/index.js';
export { readImage, readVideo, readMedia, decodeImage, writeVideo, encodeVideo, writeThumbnail, writeSpritesheet } from './media/index.js';
export type { VideoClip } from './media/index.js';
export { expandPrompt, renderScene, randomSpec, validateSpec, captionSpec, judgeClip, judgeAgainstPrompt } from './world/index.js';
export type { SceneSpec } from './world/index.js';
