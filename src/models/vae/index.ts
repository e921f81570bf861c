export * from './config.js';
export * from './vae.js';
export * from './loss.js';
export * from './layout.js';
export { CausalCache, CausalConv3d, FrameGroupNorm, ResBlock, Downsample, Upsample, spaceToDepth, depthToSpace } from './layers.js';
