export { Module, parameter, isParameter } from './module.js';
export type { StateDict, LoadStateDictOptions } from './module.js';
export { initParameter, fillInit, zerosParameter, onesParameter } from './init.js';
export type { Init } from './init.js';
export {
  Linear,
  LayerNorm,
  RMSNorm,
  GroupNorm,
  Embedding,
  Conv3d,
  Conv2d,
  MLP,
  activate,
} from './layers.js';
export type {
  LinearOptions,
  NormOptions,
  Conv3dOptions,
  Conv2dOptions,
  MLPOptions,
  Activation,
  Triple,
} from './layers.js';
