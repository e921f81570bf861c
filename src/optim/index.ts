export { AdamW } from './adamw.js';
export type { AdamWOptions, AdamWState } from './adamw.js';
export { clipGradNorm } from './clip.js';
export { warmupCosine } from './schedule.js';
export type { WarmupCosineOptions } from './schedule.js';
export { EMA } from './ema.js';
export type { EMAOptions, EMAState } from './ema.js';
